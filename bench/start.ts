import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
 *
 * On a busy machine the wall times mostly measure the others; the CPU time the processes used
 * until "listening" (all threads, Linux only) moves much less and shows the work itself.
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
  cpuMs: number | undefined;
  steps: string[];
}

/** CPU time (user + system, every thread) of a process and its descendants so far, from /proc. */
function cpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const own = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.reduce((sum, child) => sum + (cpuMs(Number(child)) ?? 0), own);
  } catch {
    return undefined;
  }
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
  let cpu: number | undefined;
  const ms = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (/listening on http/.test(stdout)) {
        cpu ??= cpuMs(child.pid!);
        resolve(performance.now() - began);
      }
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
  return { ms, cpuMs: cpu, steps };
}

function summary(label: string, runs: Run[]): void {
  if (runs.length === 0) return;
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!.ms;
  console.log(
    `  ${label}: best ${sorted[0]!.ms.toFixed(0)} ms, median ${median.toFixed(0)} ms over ${runs.length} (${runs.map((r) => r.ms.toFixed(0)).join(', ')})`,
  );
  const cpu = runs.flatMap((r) => (r.cpuMs === undefined ? [] : [r.cpuMs])).sort((a, b) => a - b);
  if (cpu.length > 0) console.log(`    CPU time until listening: best ${cpu[0]} ms, median ${cpu[Math.floor((cpu.length - 1) / 2)]} ms`);
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
