import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BENCH_PATH, eventBody } from './payload';

/**
 * Runs one server on core 0 and autocannon on core 1 (taskset), so the load generator does not
 * steal the server's CPU; every server gets the same warm-up and the same settings.
 */
const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const autocannon = join(root, 'node_modules/.bin/autocannon');
const hasTaskset = existsSync('/usr/bin/taskset');

export interface HttpResult {
  name: string;
  requestsPerSecond: number;
  p99Ms: number;
  non2xx: number;
}

export interface HttpSettings {
  node: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

export function pinned(core: number, command: string, args: string[]): [string, string[]] {
  return hasTaskset ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];
}

export async function startServer(
  node: string,
  script: string,
  args: string[],
  nodeFlags: string[] = [],
): Promise<{ child: ChildProcess; port: number }> {
  const [command, argv] = pinned(0, node, [...nodeFlags, '--import', 'tsx', join(root, script), ...args]);
  const child = spawn(command, argv, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
  const port = await new Promise<number>((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const match = /READY (\d+)/.exec(seen);
      if (match) {
        // Keep draining stdout (the runtime's access log) so the server never blocks on a full pipe.
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, port };
}

async function load(port: number, seconds: number, connections: number) {
  const [command, argv] = pinned(1, process.execPath, [
    autocannon,
    '--json',
    '-c',
    String(connections),
    '-d',
    String(seconds),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-b',
    eventBody,
    `http://127.0.0.1:${port}${BENCH_PATH}`,
  ]);
  const { stdout } = await run(command, argv, { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as { requests: { average: number }; latency: { p99: number }; non2xx: number };
}

export async function measureHttp(name: string, script: string, args: string[], settings: HttpSettings): Promise<HttpResult> {
  const { child, port } = await startServer(settings.node, script, args);
  try {
    await load(port, settings.warmupSeconds, settings.connections);
    const result = await load(port, settings.durationSeconds, settings.connections);
    return { name, requestsPerSecond: result.requests.average, p99Ms: result.latency.p99, non2xx: result.non2xx };
  } finally {
    child.kill('SIGKILL');
  }
}
