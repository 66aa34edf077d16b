import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

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
  /** p99 at a fixed rate (60 % of bare node:http's maximum), when one was asked for. */
  p99AtRateMs?: number;
}

/** One request shape the servers answer alike (bench/payload.ts). */
export interface Scenario {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  headers: Record<string, string>;
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

export async function load(port: number, scenario: Scenario, seconds: number, connections: number, rate?: number) {
  const headers = Object.entries(scenario.headers).flatMap(([name, value]) => ['-H', `${name}=${value}`]);
  const [command, argv] = pinned(1, process.execPath, [
    autocannon,
    '--json',
    '-c',
    String(connections),
    '-d',
    String(seconds),
    ...(rate ? ['-R', String(Math.round(rate))] : []),
    '-m',
    scenario.method,
    ...headers,
    ...(scenario.body ? ['-b', scenario.body] : []),
    `http://127.0.0.1:${port}${scenario.path}`,
  ]);
  const { stdout } = await run(command, argv, { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as { requests: { average: number }; latency: { p99: number }; non2xx: number };
}

/**
 * Max rate and its p99 under `connections`, after a warm-up; with `rate`, also the p99 at that
 * fixed rate (latency when the server is not saturated).
 */
export async function measureHttp(
  name: string,
  script: string,
  args: string[],
  settings: HttpSettings,
  scenario: Scenario,
  /** The fixed rate for the p99 run, or how to work it out from this server's own maximum. */
  pace?: number | ((maxRequestsPerSecond: number) => number),
): Promise<HttpResult & { rate?: number }> {
  const { child, port } = await startServer(settings.node, script, args);
  try {
    await load(port, scenario, settings.warmupSeconds, settings.connections);
    const result = await load(port, scenario, settings.durationSeconds, settings.connections);
    const measured: HttpResult & { rate?: number } = {
      name,
      requestsPerSecond: result.requests.average,
      p99Ms: result.latency.p99,
      non2xx: result.non2xx,
    };
    const rate = typeof pace === 'function' ? pace(measured.requestsPerSecond) : pace;
    if (rate) {
      measured.rate = rate;
      const paced = await load(port, scenario, settings.durationSeconds, settings.connections, rate);
      measured.p99AtRateMs = paced.latency.p99;
      measured.non2xx += paced.non2xx;
    }
    return measured;
  } finally {
    child.kill('SIGKILL');
  }
}
