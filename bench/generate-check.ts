import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

/**
 * `npm run generate -- --check` on an unchanged project, timed as a user runs it (a whole process),
 * next to what its launchers cost on their own, so a regression can be placed.
 *
 *   npx tsx bench/generate-check.ts [--runs 7] [--root DIR]
 *
 * Prints the best and the median wall time of each command, and the generator's own steps (--verbose)
 * of the fastest run. The machine's other work shows up as noise: compare medians of several runs.
 */
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, root: { type: 'string', default: '.' } } });
const runs = Number(values.runs);
const root = resolve(values.root);
const tsx = resolve(root, 'node_modules/.bin/tsx');

interface Timed {
  ms: number;
  stdout: string;
}

function time(command: string, args: string[]): Timed {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}:\n${result.stderr}`);
  return { ms, stdout: result.stdout };
}

const commands: [string, string, string[]][] = [
  ['node -e 0', process.execPath, ['-e', '0']],
  ['node --import tsx -e 0', process.execPath, ['--import', 'tsx', '-e', '0']],
  ['tsx -e 0', tsx, ['-e', '0']],
  ['npm run generate -- --check', 'npm', ['run', 'generate', '--', '--check', '--verbose']],
  ['node --import tsx generator/cli.ts --check', process.execPath, ['--import', 'tsx', 'generator/cli.ts', '--check', '--verbose']],
  ['node generator/bin.js --check', process.execPath, ['generator/bin.js', '--check', '--verbose']],
];

execFileSync('npm', ['run', '-s', 'generate', '--', '--check'], { cwd: root, stdio: 'inherit' });
const figures = commands.map(([name, command, args]) => {
  const samples = Array.from({ length: runs }, () => time(command, args)).sort((a, b) => a.ms - b.ms);
  return { name, best: samples[0]!, median: samples[Math.floor(samples.length / 2)]! };
});

const width = Math.max(...figures.map((f) => f.name.length));
for (const { name, best, median } of figures) {
  console.log(
    `${name.padEnd(width)}  best ${Math.round(best.ms).toString().padStart(5)} ms  median ${Math.round(median.ms).toString().padStart(5)} ms`,
  );
}
const steps = figures
  .find((f) => f.name.startsWith('npm'))!
  .best.stdout.split('\n')
  .find((line) => / ms, /.test(line));
if (steps) console.log(`steps of the fastest npm run: ${steps}`);
