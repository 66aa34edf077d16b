import { randomBytes, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { activeTracer } from '../runtime/server/tracing';
import { load, type Scenario, startServer } from './http';
import { AUTH_PATH, BENCH_PATH, benchSecret, eventBody, TOKEN } from './payload';

/**
 * What tracing costs the runtime (runtime/server/tracing.ts), measured in one run:
 * - the same server (bench/servers/runtime.ts, the default stack on) with tracing off (no provider
 *   registered: the default), on but sampling nothing (OTEL_TRACES_SAMPLER=always_off), and on (a
 *   span per request, sent by OTLP/HTTP to a collector stub in this process): requests per second,
 *   and the server's CPU time per request (steadier than the rate on a shared machine);
 * - with `--baseline <checkout>`, also that checkout's bench/servers/runtime.ts (the commit before
 *   tracing: `git archive <commit> runtime contracts bench package.json | tar -x -C <dir>` and a
 *   `node_modules` link), so "off" is compared with no tracing code at all;
 * - what off adds to a request: one look-up of the registered provider, timed in this process.
 * Servers take turns round by round; each keeps its median round.
 *
 * npx tsx bench/tracing.ts [--node <path>] [--duration 10] [--warmup 3] [--connections 50] [--rounds 3] [--baseline <dir>]
 */
const { values } = parseArgs({
  options: {
    node: { type: 'string', default: process.execPath },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    baseline: { type: 'string' },
  },
});
const root = join(import.meta.dirname, '..');
const seconds = Number(values.duration);
const connections = Number(values.connections);
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString());

// The collector: takes the batches and answers as a collector does; counts the bytes.
let exportedBytes = 0;
const collector = createServer((req, res) => {
  req.on('data', (chunk: Buffer) => (exportedBytes += chunk.length));
  req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
});
await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
process.env.BENCH_OTLP_URL = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;

process.env.BENCH_JWT_SECRET = randomBytes(32).toString('base64url');
const token = await new SignJWT({ roles: ['user'], sid: randomUUID() })
  .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
  .setSubject(randomUUID())
  .setIssuer(TOKEN.issuer)
  .setAudience(TOKEN.audience)
  .setIssuedAt()
  .setExpirationTime('1h')
  .setJti(randomUUID())
  .sign(benchSecret());
const scenarios: Scenario[] = [
  {
    name: `validated POST of a ${Buffer.byteLength(eventBody)}-byte event`,
    method: 'POST',
    path: BENCH_PATH,
    body: eventBody,
    headers: { 'content-type': 'application/json' },
  },
  {
    name: 'authenticated GET (the span names the user by hash)',
    method: 'GET',
    path: AUTH_PATH,
    headers: { authorization: `Bearer ${token}` },
  },
];

interface Variant {
  name: string;
  script: string;
  /** OTEL_TRACES_SAMPLER for the SDK of the traced server. */
  sampler?: string;
}
const variants: Variant[] = [
  ...(values.baseline
    ? [{ name: 'baseline (no tracing)', script: relative(root, join(values.baseline, 'bench/servers/runtime.ts')) }]
    : []),
  { name: 'tracing off', script: 'bench/servers/runtime.ts' },
  { name: 'on, sampling none', script: 'bench/servers/traced-runtime.ts', sampler: 'always_off' },
  { name: 'on, every request', script: 'bench/servers/traced-runtime.ts', sampler: 'always_on' },
];

interface Round {
  rate: number;
  p99: number;
  cpuMicros: number;
  exportedBytes: number;
}

/** A process's CPU time so far (user + system), in seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

async function measure(variant: Variant, scenario: Scenario): Promise<Round> {
  if (variant.sampler) process.env.OTEL_TRACES_SAMPLER = variant.sampler;
  else delete process.env.OTEL_TRACES_SAMPLER;
  const { child, port } = await startServer(values.node, variant.script, []);
  try {
    await load(port, scenario, Number(values.warmup), connections);
    exportedBytes = 0;
    const before = cpuSeconds(child.pid!);
    const result = (await load(port, scenario, seconds, connections)) as Awaited<ReturnType<typeof load>> & {
      requests: { total: number };
    };
    const cpu = cpuSeconds(child.pid!) - before;
    if (result.non2xx > 0) throw new Error(`Not a measurement: ${variant.name} answered ${result.non2xx} errors`);
    return { rate: result.requests.average, p99: result.latency.p99, cpuMicros: (cpu / result.requests.total) * 1e6, exportedBytes };
  } finally {
    child.kill('SIGKILL');
  }
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;
const version = execFileSync(values.node, ['--version']).toString().trim();
console.log(
  `Tracing: ${connections} connections, ${seconds} s after ${values.warmup} s warm-up, server Node ${version} on core 0, autocannon on core 1; median of ${values.rounds} round(s), servers in turn`,
);
let offRate = 0;
for (const scenario of scenarios) {
  console.log(`${scenario.name}:`);
  const rounds = new Map<Variant, Round[]>(variants.map((variant) => [variant, []]));
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const variant of variants) rounds.get(variant)!.push(await measure(variant, scenario));
  }
  const off = variants.find((variant) => variant.name === 'tracing off')!;
  const offRateMedian = median(rounds.get(off)!.map((r) => r.rate));
  const offCpu = median(rounds.get(off)!.map((r) => r.cpuMicros));
  offRate = Math.max(offRate, offRateMedian);
  for (const variant of variants) {
    const measured = rounds.get(variant)!;
    const rate = median(measured.map((r) => r.rate));
    const cpu = median(measured.map((r) => r.cpuMicros));
    const p99 = median(measured.map((r) => r.p99));
    const sent = median(measured.map((r) => r.exportedBytes));
    console.log(
      `  ${variant.name.padEnd(22)} ${rate.toFixed(0).padStart(7)} req/s ${(rate / offRateMedian).toFixed(2)}× off   ` +
        `${cpu.toFixed(1).padStart(6)} µs CPU/request ${(cpu / offCpu).toFixed(3)}× off   p99 ${String(p99).padStart(4)} ms` +
        `${sent > 0 ? `   ${(sent / 1024 / 1024).toFixed(1)} MiB sent by OTLP` : ''}`,
    );
  }
}
collector.close();

// Off, a contract request asks the API once for the registered provider: that look-up, timed here.
const calls = 20_000_000;
for (let i = 0; i < calls / 10; i++) activeTracer();
const began = process.hrtime.bigint();
let found = 0;
for (let i = 0; i < calls; i++) if (activeTracer()) found++;
const nanoseconds = Number(process.hrtime.bigint() - began) / calls;
if (found > 0) throw new Error('a tracer provider is registered in the runner');
console.log(
  `Off, per request: the provider look-up takes ${nanoseconds.toFixed(1)} ns = ${((nanoseconds * offRate) / 1e7).toFixed(3)} % of a request's time at ${offRate.toFixed(0)} req/s on one core`,
);
