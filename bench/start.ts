import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/**
 * npx tsx bench/start.ts [--cold 3] [--warm 5] [--npm] [--root <another checkout, to compare>]
 * Time from spawning `npm start`'s command (`tsx server/main.ts`; with --npm, `npm start` itself)
 * to its "listening" log line. Cold: a new data directory each run (secret made, database created,
 * every migration applied). Warm: the directory a previous start left behind. Prints best and
 * median, and the step durations the server logs for the best run. Not a test.
 */
const { values } = parseArgs({
  options: {
    cold: { type: 'string', default: '3' },
    warm: { type: 'string', default: '5' },
    npm: { type: 'boolean', default: false },
    root: { type: 'string', default: join(import.meta.dirname, '..') },
  },
});

const root = values.root;

interface Run {
  ms: number;
  steps: string[];
}

async function startOnce(dataDir: string): Promise<Run> {
  const [command, args] = values.npm ? ['npm', ['start', '--silent']] : [join(root, 'node_modules/.bin/tsx'), ['server/main.ts']];
  const began = performance.now();
  const child = spawn(command, args, {
    cwd: root,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so SIGTERM reaches the server under npm and tsx.
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const ms = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (/listening on http/.test(stdout)) resolve(performance.now() - began);
    });
    exited.then((code) => reject(new Error(`exited with ${code} before listening:\n${stdout}${stderr}`)));
  });
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
  const steps = stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { msg: string; ms?: number })
    .filter((entry) => entry.ms !== undefined)
    .map((entry) => `${entry.msg} (${entry.ms} ms)`);
  return { ms, steps };
}

function summary(label: string, runs: Run[]): void {
  if (runs.length === 0) return;
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!.ms;
  console.log(
    `  ${label}: best ${sorted[0]!.ms.toFixed(0)} ms, median ${median.toFixed(0)} ms over ${runs.length} (${runs.map((r) => r.ms.toFixed(0)).join(', ')})`,
  );
  for (const step of sorted[0]!.steps) console.log(`      ${step}`);
}

const scratch = await mkdtemp(join(tmpdir(), 'mundo-bench-start-'));
try {
  console.log(`Start to "listening" (${values.npm ? 'npm start' : 'tsx server/main.ts'} in ${root}, Node ${process.version}):`);
  const cold: Run[] = [];
  for (let i = 0; i < Number(values.cold); i++) cold.push(await startOnce(join(scratch, `cold-${i}`)));
  summary('cold', cold);
  const warmDir = join(scratch, 'warm');
  await startOnce(warmDir);
  const warm: Run[] = [];
  for (let i = 0; i < Number(values.warm); i++) warm.push(await startOnce(warmDir));
  summary('warm', warm);
} finally {
  await rm(scratch, { recursive: true, force: true });
}
