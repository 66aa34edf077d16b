import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, watch, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ApiDefinition, ContractEntry } from '../runtime/contract';
import { readGeneratorConfig, type GeneratorConfig } from './config';
import { loadApi } from './load';
import { buildModel } from './model';
import { generateFiles, GeneratorError } from './pipeline';
import { renderScaffold } from './render';
import { syncFiles } from './write';

/**
 * npm run generate [-- --check | --watch | --scaffold]
 *   --check     write nothing; exit 1 naming every stale file (CI)
 *   --watch     regenerate whenever a contract changes
 *   --scaffold  also write a 501 stub handler file for every tag that has none (never overwrites)
 */
const { values } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    watch: { type: 'boolean', default: false },
    scaffold: { type: 'boolean', default: false },
    root: { type: 'string', default: process.cwd() },
    config: { type: 'string', default: 'generator.config.json' },
  },
});

const root = resolve(values.root);
let config: GeneratorConfig;
try {
  config = readGeneratorConfig(root, values.config);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

async function run(): Promise<number> {
  const started = performance.now();
  const { api, contracts } = await loadApi(root, config.contracts, config.export);
  const { files } = await generateFiles(root, config, api, contracts);
  const outDir = join(root, config.outDir);
  const { stale } = syncFiles(outDir, files, values.check);
  const ms = Math.round(performance.now() - started);

  if (values.check) {
    if (stale.length === 0) {
      console.log(`generated/ is fresh (${contracts.length} operations, ${ms} ms)`);
      return 0;
    }
    console.error(`generated/ is stale; run \`npm run generate\`. Stale files:\n${stale.map((f) => `  ${config.outDir}/${f}`).join('\n')}`);
    return 1;
  }
  console.log(`${contracts.length} operations → ${files.size} files, ${stale.length} changed (${ms} ms)`);
  if (values.scaffold) scaffold(api, contracts);
  return 0;
}

function scaffold(api: ApiDefinition, contracts: ContractEntry[]): void {
  const model = buildModel(api, contracts);
  for (const tag of model.tags) {
    const file = resolve(root, config.handlers.dir, `${tag.name}.ts`);
    if (existsSync(file)) continue;
    mkdirSync(dirname(file), { recursive: true });
    const paths = { root, contractsFile: config.contracts, outDir: config.outDir, handlersDir: config.handlers.dir, ...config.handlers, runtime: config.runtime };
    writeFileSync(file, renderScaffold(tag, paths));
    console.log(`scaffolded ${config.handlers.dir}/${tag.name}.ts: its handlers answer 501 until you implement them`);
  }
}

function report(error: unknown): number {
  console.error(error instanceof GeneratorError ? error.message : error);
  return 1;
}

if (values.watch) {
  // Each run is a fresh process: imported contract modules are cached for the life of a process.
  const args = process.argv.slice(1).filter((arg) => arg !== '--watch');
  let timer: NodeJS.Timeout | undefined;
  const regenerate = () => {
    spawn(process.execPath, [...process.execArgv, ...args], { stdio: 'inherit' });
  };
  regenerate();
  watch(dirname(join(root, config.contracts)), { recursive: true }, () => {
    clearTimeout(timer);
    timer = setTimeout(regenerate, 100);
  });
  watch(join(root, 'runtime/client'), () => {
    clearTimeout(timer);
    timer = setTimeout(regenerate, 100);
  });
  console.log('watching contracts/ and runtime/client/ for changes');
} else {
  process.exitCode = await run().catch(report);
}
