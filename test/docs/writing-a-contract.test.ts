import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api as mundoTango } from '../../contracts';
import { readGeneratorConfig } from '../../generator/config';
import { buildModel } from '../../generator/model';
import { generateFiles } from '../../generator/pipeline';
import { renderScaffold } from '../../generator/render';
import { z } from 'zod';
import {
  type ApiDefinition,
  defineApi,
  type EndpointDefinition,
  endpoint,
  errorCodes,
  listContracts,
  paginated,
} from '../../runtime/contract';
import { REPO } from '../generator/fixtures/project';

/**
 * docs/writing-a-contract.md, followed: its venues contract (§1, with the v2 and the deprecation of
 * §11) is written to a file and loaded, registered as §2 says, and run through the generator's
 * checks, spec, lint and templates; what the guide prints (the generate line, the scaffold, the
 * deprecation sentence, the next migration number, the runtime's modules) must be what they print
 * today. The store, handler and test snippets need the app's database and are not run here.
 */
const GUIDE = readFileSync(join(REPO, 'docs/writing-a-contract.md'), 'utf8');
const tsBlocks = [...GUIDE.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);

function block(startsWith: string): string {
  const found = tsBlocks.filter((text) => text.startsWith(startsWith));
  expect(found, `one ts block of the guide starts with ${startsWith}`).toHaveLength(1);
  return found[0]!;
}

function lineOf(text: string, pattern: RegExp): RegExpMatchArray {
  const match = text.match(pattern);
  if (!match) throw new Error(`the guide has no line matching ${pattern}`);
  return match;
}

let root: string;
let api: ApiDefinition;
let files: Map<string, string>;
let config: ReturnType<typeof readGeneratorConfig>;

beforeAll(async () => {
  // The contract imports '../runtime/contract' as it would from contracts/: give it a runtime there.
  root = mkdtempSync(join(tmpdir(), 'guide-'));
  mkdirSync(join(root, 'contracts'));
  symlinkSync(join(REPO, 'runtime'), join(root, 'runtime'), 'dir');
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  const deprecation = block('  deprecated:');
  const getVenueErrors = "  errors: ['NOT_FOUND'],\n});\n\nexport const createVenue";
  const contract = block('// contracts/venues.ts');
  expect(contract).toContain(getVenueErrors);
  const venuesFile = join(root, 'contracts/venues.ts');
  writeFileSync(
    venuesFile,
    `${contract.replace(getVenueErrors, `  errors: ['NOT_FOUND'],\n${deprecation}});\n\nexport const createVenue`)}\n${block('export const VenueV2')}`,
  );
  const venues = (await import(pathToFileURL(venuesFile).href)) as Record<string, unknown>;

  const registration = block("import * as venues from './venues';");
  const [, code, status, title] = lineOf(registration, /^\s+(VENUE_TAKEN): \{ status: (\d+), title: '([^']+)' \},$/m);
  const [, tagDescription] = lineOf(registration, /^\s+venues: '([^']+)',$/m);
  api = defineApi({
    ...mundoTango,
    tags: { ...mundoTango.tags, venues: tagDescription! },
    errors: { ...mundoTango.errors, [code!]: { status: Number(status), title: title! } },
    modules: { ...mundoTango.modules, venues },
  });
  config = readGeneratorConfig(REPO);
  ({ files } = await generateFiles(REPO, config, api, listContracts(api)));
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('docs/writing-a-contract.md', () => {
  it('§3: its contract passes the checks and the lint; generate prints the counts the guide shows', () => {
    const [, operations, fileCount] = lineOf(GUIDE, /^(\d+) operations → (\d+) files, \d+ changed/m);
    // The guide generates before it adds getVenueV2 (§11).
    expect(Number(operations)).toBe(listContracts(api).length - 1);
    expect(Number(fileCount)).toBe(files.size);
    expect(files.get('server/handlers.ts')).toContain('export interface VenuesHandlers<S extends ServiceMap>');
  });

  it('§4: --scaffold writes the stub the guide shows', () => {
    const shown = block("import { ApiError } from '@contract-kit/runtime/server';").split('  // ...')[0]!;
    const tag = buildModel(api, listContracts(api)).tags.find((t) => t.name === 'venues')!;
    const scaffold = renderScaffold(tag, {
      root: REPO,
      contractsFile: config.contracts,
      outDir: config.outDir,
      runtime: config.runtime,
      handlersDir: config.handlers.dir,
      ...config.handlers,
    });
    expect(scaffold.slice(0, shown.length)).toBe(shown);
  });

  it('§5: names the next free migration number and the ones taken', () => {
    const taken = readdirSync(join(REPO, 'server/db/migrations'))
      .filter((f) => f.endsWith('.sql'))
      .sort();
    const next = String(taken.length + 1).padStart(4, '0');
    expect(GUIDE).toContain(`(\`${next}\` as of this writing: ${taken.map((f) => f.slice(0, 4)).join(', ')})`);
    expect(GUIDE).toContain(`-- server/db/migrations/${next}_venues.sql`);
  });

  it('§11: the spec says what the guide says of a deprecated operation', () => {
    const spec = JSON.parse(files.get('openapi.json')!) as {
      paths: Record<string, Record<string, { deprecated?: boolean; description: string }>>;
    };
    const getVenue = spec.paths['/api/v1/venues/{venueId}']!.get!;
    expect(getVenue.deprecated).toBe(true);
    const sentence = lineOf(GUIDE.replace(/\n/g, ' '), /"(\*\*Deprecated\*\* since [^"]+)"/)[1]!;
    expect(getVenue.description).toContain(sentence);
    expect(spec.paths['/api/v2/venues/{venueId}']).toBeDefined();
    const [, seconds] = lineOf(GUIDE, /`Deprecation: @(\d+)`/);
    expect(Number(seconds)).toBe(Date.parse('2027-01-01T00:00:00Z') / 1000);
  });

  it('§10: the table of errors the runtime adds is what runtime/contract/behaviour.ts adds', () => {
    const section = GUIDE.slice(GUIDE.indexOf('**Errors the runtime adds**'));
    const rows = [...section.matchAll(/^\| (.+?) \| (.+) \|$/gm)]
      .slice(2)
      .map(([, feature, codes]) => ({ feature: feature!, codes: new Set([...codes!.matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1]!)) }));
    const row = (start: string) => {
      const found = rows.find((r) => r.feature.startsWith(start));
      if (!found) throw new Error(`the table has no row starting with ${start}`);
      return [...found.codes];
    };
    const make = (extra: Partial<EndpointDefinition>) =>
      endpoint({
        method: 'GET',
        version: 1,
        path: '/things',
        operationId: 'thing',
        summary: 'A thing',
        tags: ['things'],
        auth: 'public',
        response: { status: 204 },
        ...extra,
      } as EndpointDefinition);
    const base = errorCodes(make({}));
    const added = (extra: Partial<EndpointDefinition>) =>
      errorCodes(make(extra))
        .filter((code) => !base.includes(code))
        .sort();
    const sorted = (...codes: string[][]) => [...new Set(codes.flat())].sort();
    const id = z.object({ id: z.string().max(10) });

    expect(base).toEqual(row('anything'));
    expect(added({ query: id })).toEqual(sorted(row('`params`')));
    expect(added({ path: '/things/{id}', params: id })).toEqual(sorted(row('`params`'), row('a path parameter')));
    expect(added({ method: 'PUT', body: id })).toEqual(sorted(row('`params`'), row('`body`')));
    expect(added({ response: paginated(id) })).toEqual(sorted(row('`params`'), row('`paginated(...)`')));
    expect(added({ auth: 'user' })).toEqual(sorted(row("`auth: 'user'`")));
    expect(added({ auth: { roles: ['admin'] } })).toEqual(sorted(row("`auth: 'user'`"), row('`auth: { roles }`')));
    expect(added({ rateLimit: { points: 1, windowSeconds: 1, key: 'ip' } })).toEqual(sorted(row('`rateLimit`')));
    expect(added({ method: 'POST' })).toEqual(sorted(row('method `POST`')));
    expect(added({ method: 'POST', idempotencyKey: false })).toEqual(['VALIDATION_FAILED']);
  });

  it('lists every module of the runtime', () => {
    const modules = readdirSync(join(REPO, 'runtime'), { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== 'node_modules');
    for (const { name } of modules) expect(GUIDE).toContain(`\`runtime/${name}/\``);
  });
});
