import { tmpdir } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { listEvents, listUploads, type ApiDefinition, type ContractEntry } from '@contract-kit/runtime/contract';
import { checkContracts, checkEvents, checkSharedLimits } from './check';
import { renderChangelog } from './changelog';
import { clientPackage } from './client-package';
import { compareSurfaces, type Change } from './compat';
import type { GeneratorConfig } from './config';
import { lintOpenApi } from './lint';
import { buildModel } from './model';
import { buildOpenApi } from './openapi';
import { buildAsyncApi } from './asyncapi';
import { header, renderClient, renderRealtime, renderReference, renderServer } from './render';
import { readPublished, type Published } from './published';
import { surfaceOf, type Surface } from './surface';
import { cachedSchemaFile, cacheSchemaFile, reusableSchemaFile, schemaFile } from './types';

/** Today's date as the contracts write dates (sunsets, releases): `2026-12-03`, UTC. */
export const isoToday = () => new Date().toISOString().slice(0, 10);

/** load → check → spec → lint → types → templates; returns the output files by path under outDir. */
export class GeneratorError extends Error {
  override name = 'GeneratorError';
}

export interface GeneratedFiles {
  files: Map<string, string>;
  /** Milliseconds per step, for the benchmark and `--verbose`. */
  timings: Record<string, number>;
  /** What the current contracts promise, the published ones, and the changes between them. */
  compatibility: { current: Surface; published: Published; changes: Change[] };
}

/**
 * Printed schema files, kept by the machine rather than the checkout: a fresh clone (CI's) reuses
 * what any checkout here printed for the same spec and tools (the entries are content-addressed).
 */
const SCHEMA_CACHE_DIR = join(tmpdir(), 'contract-kit-schema-cache');

export async function generateFiles(
  root: string,
  config: GeneratorConfig,
  api: ApiDefinition,
  contracts: ContractEntry[],
  options: { cacheDir?: string; today?: string } = {},
): Promise<GeneratedFiles> {
  const today = options.today ?? isoToday();
  const timings: Record<string, number> = {};
  const step = async <T>(name: string, work: () => T | Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    timings[name] = performance.now() - started;
    return result;
  };

  const events = listEvents(api);
  const problems = await step('check', () => [
    ...checkContracts(api, contracts, today),
    ...checkEvents(api, events),
    ...checkSharedLimits(contracts, events),
  ]);
  if (problems.length > 0) {
    throw new GeneratorError(
      `The contracts have ${problems.length} problem(s):\n${problems.map((p) => `  ${p.contract}: ${p.message}`).join('\n')}`,
    );
  }
  const model = buildModel(api, contracts, listUploads(api));
  const document = await step('spec', () => buildOpenApi(api, model));
  const json = `${JSON.stringify(document, null, 2)}\n`;
  const compatibility = await step('compatibility', () => {
    const published = readPublished(join(root, config.published));
    const current = surfaceOf(document as unknown as Record<string, unknown>);
    return { current, published, changes: compareSurfaces(published.surface, current, today) };
  });
  // An unchanged spec keeps its schema.ts, which proves it passed the lint: neither tool is loaded.
  // A spec printed before on this machine (another branch, a hand edit undone) is in the cache.
  const schemaHeader = header(config.contracts);
  const cacheDir = options.cacheDir ?? SCHEMA_CACHE_DIR;
  const reused = await step('reuse', () => {
    const onDisk = reusableSchemaFile(join(root, config.outDir, 'client/schema.ts'), schemaHeader, json);
    const cached = cachedSchemaFile(cacheDir, schemaHeader, json);
    if (onDisk !== undefined && cached === undefined) cacheSchemaFile(cacheDir, schemaHeader, json, onDisk);
    return onDisk ?? cached;
  });
  if (reused === undefined) {
    const lint = await step('lint', () => lintOpenApi(json));
    if (lint.length > 0) {
      throw new GeneratorError(
        `The spec breaks Redocly's recommended rules:\n${lint.map((p) => `  ${p.severity} ${p.rule} at ${p.where}: ${p.message}`).join('\n')}`,
      );
    }
  }
  let schema = reused;
  if (schema === undefined) {
    schema = await step('types', () => schemaFile(schemaHeader, json, document));
    cacheSchemaFile(cacheDir, schemaHeader, json, schema);
  }

  const paths = { root, contractsFile: config.contracts, outDir: config.outDir, runtime: config.runtime };
  const files = await step('render', () => {
    const out = new Map<string, string>([['openapi.json', json]]);
    const asyncapi = buildAsyncApi(api, events);
    for (const [path, content] of Object.entries(renderServer(model, paths, asyncapi !== undefined))) out.set(path, content);
    out.set('client/schema.ts', schema);
    out.set('client/index.ts', renderClient(model, paths));
    for (const [name, content] of clientRuntime(root, config.runtime))
      out.set(`client/runtime/${name}`, `${header(`runtime/client/${name}`)}\n${content}`);
    out.set('docs/reference.md', renderReference(api, model, paths));
    out.set('docs/api-changelog.md', renderChangelog(compatibility.published, compatibility.changes, config.published, config.contracts));
    if (asyncapi) {
      out.set('asyncapi.json', `${JSON.stringify(asyncapi, null, 2)}\n`);
      for (const [path, content] of Object.entries(renderRealtime(api, events, paths))) out.set(path, content);
    }
    return out;
  });
  const client = { root, outDir: config.outDir, runtime: config.runtime, packageName: config.clientPackage, api, events, files, header };
  for (const [path, content] of await step('client package', () => clientPackage(client))) files.set(path, content);
  return { files, timings, compatibility };
}

/** The client's runtime is real, tested source in the runtime package's client/, copied verbatim. */
function clientRuntime(root: string, runtime: string): [string, string][] {
  const dir = dirname(createRequire(join(root, 'package.json')).resolve(`${runtime}/client`));
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => [name, readFileSync(join(dir, name), 'utf8')]);
}
