import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, watch, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect, parseArgs } from 'node:util';
import type { ApiDefinition, ContractEntry } from '@contract-kit/runtime/contract';
import { readGeneratorConfig, type GeneratorConfig } from './config';
import { loadApi } from './load';
import { buildModel } from './model';
import { generateFiles, GeneratorError, isoToday, type GeneratedFiles } from './pipeline';
import { compareSurfaces, type Change } from './compat';
import { readPublished, writePublished } from './published';
import { renderScaffold } from './render';
import { syncFiles } from './write';

const USAGE = `npm run generate [-- --check | --publish | --watch | --scaffold] [--verbose] [--root DIR] [--config FILE]
  --check     write nothing; exit 1 naming every stale file, and every change that breaks a client of
              the published contracts (CI)
  --publish   record the current contracts as published (refused while a change breaks them)
  --since-lock DIR   with --check: also fail when the published contracts (api-lock/) break those in DIR,
              an earlier api-lock/ (CI passes the one of the commit before the last that changed it)
  --watch     regenerate whenever a contract changes
  --scaffold  also write a 501 stub handler file for every tag that has none (never overwrites)
  --verbose   print the milliseconds of each step
  --root      the project folder (default: the current folder)
  --config    the generator config, from the project folder (default: generator.config.json)`;

export interface CliIo {
  /** The folder a relative --root starts from. */
  cwd: string;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * `npm run generate` as a function of its arguments: returns the exit code. With --watch it never
 * settles. Contract modules are imported once per process (ESM caches them), so a second run in the
 * same process does not see a contract edited in between; --watch runs each regeneration in a new process.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const fail = (message: string) => {
    io.stderr.write(`${message}\n`);
    return 1;
  };
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        check: { type: 'boolean', default: false },
        publish: { type: 'boolean', default: false },
        'since-lock': { type: 'string' },
        watch: { type: 'boolean', default: false },
        scaffold: { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        root: { type: 'string', default: '.' },
        config: { type: 'string', default: 'generator.config.json' },
      },
    }));
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  const root = resolve(io.cwd, values.root);
  let config: GeneratorConfig;
  try {
    config = readGeneratorConfig(root, values.config);
  } catch (error) {
    return fail((error as Error).message);
  }
  if (values.watch)
    return watchContracts(
      root,
      config,
      argv.filter((arg) => arg !== '--watch'),
      io,
    );

  try {
    const started = performance.now();
    const { api, contracts } = await loadApi(root, config.contracts, config.export);
    const loaded = performance.now();
    const { files, timings, compatibility } = await generateFiles(root, config, api, contracts);
    const breaking = compatibility.changes.filter((c) => c.kind === 'breaking');
    const breaks = () =>
      `${breaking.length} change(s) break clients of the published contracts (${config.published}/):\n${listed(breaking)}\n` +
      'Serve the change as a new major version, or deprecate the operation with a sunset and remove it after.';
    if (values.publish) {
      if (breaking.length > 0) return fail(`Not published: ${breaks()}`);
      return publish(root, config, compatibility, io, () =>
        runCli(
          argv.filter((arg) => arg !== '--publish'),
          io,
        ),
      );
    }
    const written = performance.now();
    const { stale } = syncFiles(join(root, config.outDir), files, values.check);
    const ms = Math.round(performance.now() - started);
    if (values.verbose) {
      const steps = { load: loaded - started, ...timings, [values.check ? 'compare' : 'write']: performance.now() - written };
      io.stdout.write(
        `${Object.entries(steps)
          .map(([step, time]) => `${step} ${Math.round(time)} ms`)
          .join(', ')}\n`,
      );
    }

    if (values.check) {
      if (breaking.length > 0) return fail(breaks());
      const since = values['since-lock'];
      if (since !== undefined) {
        // The published contracts themselves re-recorded with a break: the gate would pass from then on.
        const relocked = compareSurfaces(readPublished(resolve(io.cwd, since)).surface, compatibility.published.surface, isoToday()).filter(
          (c) => c.kind === 'breaking',
        );
        if (relocked.length > 0)
          return fail(
            `${config.published}/ was recorded again with ${relocked.length} change(s) that break clients of the contracts published before (${since}):\n${listed(relocked)}\n` +
              'A published contract changes by --publish alone, which refuses a break.',
          );
      }
      if (stale.length === 0) {
        io.stdout.write(`generated/ is fresh (${contracts.length} operations, ${ms} ms)\n`);
        return 0;
      }
      return fail(`generated/ is stale; run \`npm run generate\`. Stale files:\n${stale.map((f) => `  ${config.outDir}/${f}`).join('\n')}`);
    }
    io.stdout.write(`${contracts.length} operations → ${files.size} files, ${stale.length} changed (${ms} ms)\n`);
    if (breaking.length > 0) io.stderr.write(`Warning: ${breaks()}\n`);
    if (values.scaffold) scaffold(root, config, api, contracts, io);
    return 0;
  } catch (error) {
    return fail(error instanceof GeneratorError ? error.message : inspect(error));
  }
}

/** One line per change: where, what, and the rule that judged it. */
const listed = (changes: Change[]) => changes.map((c) => `  ${c.operation}: ${c.message} [${c.rule}]`).join('\n');

/** Writes the lock files and the history, then generates again (the changelog now shows the release). */
async function publish(
  root: string,
  config: GeneratorConfig,
  { current, published, changes }: GeneratedFiles['compatibility'],
  io: CliIo,
  generate: () => Promise<number>,
): Promise<number> {
  const date = isoToday();
  const release = {
    date,
    changes:
      published.majors.length === 0
        ? [
            {
              operation: 'all operations',
              kind: 'compatible' as const,
              message: `first published: ${Object.keys(current.operations).length} operations`,
            },
          ]
        : changes.map(({ operation, kind, message }) => ({ operation, kind, message })),
  };
  writePublished(join(root, config.published), current, release, published);
  io.stdout.write(
    `published ${Object.keys(current.operations).length} operations to ${config.published}/ (${release.changes.length} change(s), ${date})\n`,
  );
  return generate();
}

function scaffold(root: string, config: GeneratorConfig, api: ApiDefinition, contracts: ContractEntry[], io: CliIo): void {
  const model = buildModel(api, contracts);
  for (const tag of model.tags) {
    const file = resolve(root, config.handlers.dir, `${tag.name}.ts`);
    if (existsSync(file)) continue;
    mkdirSync(dirname(file), { recursive: true });
    const paths = {
      root,
      contractsFile: config.contracts,
      outDir: config.outDir,
      handlersDir: config.handlers.dir,
      ...config.handlers,
      runtime: config.runtime,
    };
    writeFileSync(file, renderScaffold(tag, paths));
    io.stdout.write(`scaffolded ${config.handlers.dir}/${tag.name}.ts: its handlers answer 501 until you implement them\n`);
  }
}

function watchContracts(root: string, config: GeneratorConfig, args: string[], io: CliIo): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const regenerate = () => {
    const cli = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), cli, ...args], {
      cwd: io.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.setEncoding('utf8').on('data', (text: string) => io.stdout.write(text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => io.stderr.write(text));
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(regenerate, 100);
  };
  regenerate();
  watch(dirname(join(root, config.contracts)), { recursive: true }, later);
  // The client runtimes (HTTP and real time) are copied into the output: a change to them regenerates too.
  const resolve = createRequire(join(root, 'package.json')).resolve;
  const clientRuntime = dirname(resolve(`${config.runtime}/client`));
  const realtimeClient = resolve(`${config.runtime}/realtime/client`);
  watch(clientRuntime, later);
  watch(realtimeClient, later);
  io.stdout.write(`watching ${dirname(config.contracts)}/, ${clientRuntime} and ${realtimeClient} for changes\n`);
  return new Promise(() => {});
}

/** Run as a script (`tsx generator/cli.ts`), not imported (by bin.js, a test). */
function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  process.exitCode = await runCli(process.argv.slice(2), { cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr });
}
