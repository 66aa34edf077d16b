import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { io, type Socket } from 'socket.io-client';
import { TASKSET } from './child-process';
import { startServer } from './http';
import type { SoakSetup } from './servers/soak-mundo';

/**
 * npx tsx bench/soak.ts [--duration 60] [--soak-seconds 600] [--connections 50] [--node <binary>]
 * (npm run bench -- --only soak [--duration N] [--soak-seconds N] runs it.)
 *
 * Load and soak of the whole Mundo Tango app (in-memory PGlite, real time attached, rate limits
 * lifted: bench/servers/soak-mundo.ts) in a child process on core 0; this process, the load, on
 * core 1; loopback only, and bounded in time. The HTTP mix, per 49 requests: 20 GET of the events
 * list (a 20-item page), 20 GET of one event, 8 authenticated POST of a new event (far-future
 * dates), 1 login (argon2id); beside it SOCKETS socket.io-client sockets each sending `message:send`
 * (with acks) every SOCKET_INTERVAL_MS in the one conversation.
 *  1. the mix's maximum rate: unpaced, WARMUP_SECONDS then MAX_SECONDS;
 *  2. `duration` seconds at 80 % of it (autocannon overallRate, split by the mix, one autocannon
 *     per kind so each kind has its own latency): requests, errors, p50/p99 per kind;
 *  3. `soak-seconds` at the same rate, the server's heap used and RSS read every SAMPLE_SECONDS after a full collection:
 *     least-squares slope in MiB per minute, start and end values.
 * Any non-2xx answer, timeout, socket error, refused or missing ack, or lost socket is a failure:
 * counted, printed, and the run exits non-zero. Figures are of this one run, not thresholds.
 */
const { values } = parseArgs({
  options: {
    node: { type: 'string', default: process.execPath },
    duration: { type: 'string', default: '60' },
    'soak-seconds': { type: 'string', default: '600' },
    connections: { type: 'string', default: '50' },
  },
});
const positive = (name: string, value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
};
const durationSeconds = positive('duration', values.duration);
const soakSeconds = positive('soak-seconds', values['soak-seconds']);
const connections = Math.max(8, positive('connections', values.connections));

const WARMUP_SECONDS = 3;
const MAX_SECONDS = 10;
const LOAD_SHARE = 0.8;
const SAMPLE_SECONDS = 5;
const SOCKETS = 4;
const SOCKET_INTERVAL_MS = 200;
const ACK_TIMEOUT_MS = 10_000;
const TOKEN_REFRESH_MS = 5 * 60_000;
const MiB = 1024 * 1024;

const began = performance.now();
const elapsed = () => `${((performance.now() - began) / 1000).toFixed(0)} s`;
const say = (line: string) => console.log(line);

// This process is the load: core 1 (every thread), the server goes to core 0 (startServer).
const pinnable = existsSync(TASKSET) && availableParallelism() >= 2;
if (pinnable) execFileSync(TASKSET, ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });

// --expose-gc: each memory sample follows a full collection, so it counts what is retained.
const { child, port } = await startServer(values.node, 'bench/servers/soak-mundo.ts', [String(SOCKETS)], ['--expose-gc']);
const base = `http://127.0.0.1:${port}`;
const failures: string[] = [];
const fail = (what: string) => {
  if (failures.length < 20) failures.push(what);
};

async function bench<T>(path: string): Promise<T> {
  const response = await fetch(`${base}/__bench/${path}`);
  if (!response.ok) throw new Error(`/__bench/${path}: ${response.status}`);
  return (await response.json()) as T;
}

interface Kind {
  name: string;
  weight: number;
  request: autocannon.Request;
}

let token = '';
const eventBody = (n: number) =>
  JSON.stringify({
    title: `Soak milonga ${n}`,
    kind: 'milonga',
    city: 'Buenos Aires',
    country: 'Argentina',
    venue: 'Salón Canning, Scalabrini Ortiz 1331',
    startsAt: '2031-11-14T22:00:00.000Z',
    endsAt: '2031-11-15T03:00:00.000Z',
  });
let posted = 0;

type Figures = {
  kind: string;
  codes: string;
  requests: number;
  rate: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
};

function figures(kind: string, result: autocannon.Result): Figures {
  return {
    kind,
    // Status code: count, to say what the non-2xx answers were.
    codes: Object.entries(result.statusCodeStats ?? {})
      .map(([code, { count }]) => `${code}: ${count}`)
      .join(', '),
    requests: result.requests.total,
    rate: result.requests.total / (result.duration || 1),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** Sockets sending `message:send` every SOCKET_INTERVAL_MS, each waiting for its ack. */
function startSockets(setup: SoakSetup) {
  const stats = { sent: 0, acked: 0, latencies: [] as number[] };
  const sockets: Socket[] = [];
  let stopping = false;
  let sequence = 0;
  const timers: NodeJS.Timeout[] = [];
  const connected = setup.socketTokens.map(
    (auth, index) =>
      new Promise<void>((resolve, reject) => {
        const socket = io(base, {
          path: setup.realtimePath,
          transports: ['websocket'],
          forceNew: true,
          reconnection: false,
          auth: { token: auth },
        });
        sockets.push(socket);
        socket.once('connect', () => {
          socket.on('disconnect', (reason) => {
            if (!stopping) fail(`socket ${index} lost: ${reason}`);
          });
          resolve();
        });
        socket.once('connect_error', reject);
      }),
  );
  const begin = () => {
    for (const socket of sockets) {
      let busy = false;
      const timer = setInterval(() => {
        if (busy || !socket.connected) return;
        busy = true;
        const started = performance.now();
        socket
          .timeout(ACK_TIMEOUT_MS)
          .emitWithAck('message:send', {
            conversationId: setup.conversationId,
            clientKey: `soak-${sequence++}`,
            body: '¿Bailamos la próxima tanda?',
          })
          .then(
            (ack: { ok: boolean; error?: { code: string } }) => {
              if (ack.ok) {
                stats.acked++;
                stats.latencies.push(performance.now() - started);
              } else fail(`message:send refused: ${ack.error?.code}`);
            },
            (error: unknown) => fail(`message:send: ${String(error)}`),
          )
          .finally(() => {
            // Counted when answered (or given up on), so a phase's figures hold its own sends only.
            stats.sent++;
            busy = false;
          });
      }, SOCKET_INTERVAL_MS);
      timers.push(timer);
    }
  };
  return {
    ready: Promise.all(connected).then(begin),
    /** The figures since the last take, reset. */
    take() {
      const sorted = stats.latencies.sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
      const taken = { sent: stats.sent, acked: stats.acked, p50: at(0.5), p99: at(0.99) };
      Object.assign(stats, { sent: 0, acked: 0, latencies: [] });
      return taken;
    },
    stop() {
      stopping = true;
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.close();
    },
  };
}

/** One autocannon per kind, each at its share of `rate`, all at once. */
async function paced(kinds: Kind[], rate: number, seconds: number): Promise<Figures[]> {
  const total = kinds.reduce((sum, k) => sum + k.weight, 0);
  const results = await Promise.all(
    kinds.map((k) =>
      autocannon({
        url: base,
        connections: Math.max(2, Math.round((connections * k.weight) / total)),
        duration: seconds,
        overallRate: Math.max(1, Math.round((rate * k.weight) / total)),
        requests: [k.request],
      }),
    ),
  );
  return results.map((result, i) => figures(kinds[i]!.name, result));
}

function report(title: string, rows: Figures[], socketFigures: ReturnType<ReturnType<typeof startSockets>['take']>, seconds: number) {
  say(title);
  const sum = (pick: (f: Figures) => number) => rows.reduce((s, f) => s + pick(f), 0);
  const table: string[][] = rows.map((f) => [
    f.kind,
    String(f.requests),
    f.rate.toFixed(1),
    String(f.p50),
    String(f.p99),
    String(f.non2xx),
    String(f.errors),
    String(f.timeouts),
  ]);
  table.push([
    'all HTTP',
    String(sum((f) => f.requests)),
    sum((f) => f.rate).toFixed(1),
    '',
    '',
    String(sum((f) => f.non2xx)),
    String(sum((f) => f.errors)),
    String(sum((f) => f.timeouts)),
  ]);
  table.push([
    `message:send (${SOCKETS} sockets)`,
    String(socketFigures.sent),
    (socketFigures.acked / seconds).toFixed(1),
    socketFigures.p50.toFixed(0),
    socketFigures.p99.toFixed(0),
    String(socketFigures.sent - socketFigures.acked),
    '',
    '',
  ]);
  const header = ['kind', 'requests', 'per s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'timeouts'];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}`;
  say([line(header), line(widths.map((w) => '-'.repeat(w))), ...table.map(line)].join('\n'));
  say('  (message:send: "non-2xx" = sent without an ok ack by the end of the phase; errors are listed below)');
  for (const f of rows) {
    if (f.non2xx + f.errors + f.timeouts > 0)
      fail(`${f.kind}: ${f.non2xx} non-2xx (${f.codes}), ${f.errors} errors, ${f.timeouts} timeouts`);
  }
}

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? Number.NaN : sxy / sxx;
}

let sockets: ReturnType<typeof startSockets> | undefined;
let tokenTimer: NodeJS.Timeout | undefined;
try {
  const setup = await bench<SoakSetup>('setup');
  token = (await bench<{ token: string }>('token')).token;
  tokenTimer = setInterval(() => {
    bench<{ token: string }>('token').then(
      (fresh) => {
        token = fresh.token;
      },
      (error: unknown) => fail(`token refresh: ${String(error)}`),
    );
  }, TOKEN_REFRESH_MS);
  const created = await fetch(`${base}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: eventBody(0),
  });
  if (created.status !== 201) throw new Error(`creating the event to read: ${created.status} ${await created.text()}`);
  const eventId = ((await created.json()) as { data: { id: string } }).data.id;

  const kinds: Kind[] = [
    { name: 'GET events list', weight: 20, request: { method: 'GET', path: '/api/v1/events?limit=20' } },
    { name: 'GET one event', weight: 20, request: { method: 'GET', path: `/api/v1/events/${eventId}` } },
    {
      name: 'POST event',
      weight: 8,
      request: {
        method: 'POST',
        path: '/api/v1/events',
        headers: { 'content-type': 'application/json' },
        // The current token and a body of its own each time (the token is renewed before it expires).
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, authorization: `Bearer ${token}` },
          body: eventBody(++posted),
        }),
      },
    },
    {
      name: 'POST login',
      weight: 1,
      request: {
        method: 'POST',
        path: '/api/v1/auth/login',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: setup.login.username, password: setup.login.password }),
      },
    },
  ];
  // The unpaced mix: per connection, the kinds interleaved by weight (49 requests a cycle).
  const cycle: autocannon.Request[] = [];
  const left = kinds.map((k) => k.weight);
  while (left.some((n) => n > 0)) {
    kinds.forEach((k, i) => {
      if (left[i]! > 0) {
        left[i]!--;
        cycle.push(k.request);
      }
    });
  }

  say(
    `Load and soak: the whole app on in-memory PGlite (rate limits lifted), Node ${execFileSync(values.node, ['--version']).toString().trim()}` +
      `${pinnable ? ', server on core 0, load on core 1' : ', not pinned (no taskset or one core)'}; HTTP mix per 49: ` +
      `20 GET list, 20 GET one, 8 POST event, 1 login; ${SOCKETS} sockets each sending message:send every ${SOCKET_INTERVAL_MS} ms`,
  );
  sockets = startSockets(setup);
  await sockets.ready;

  // 1. The mix's maximum.
  await autocannon({ url: base, connections, duration: WARMUP_SECONDS, requests: cycle });
  const max = await autocannon({ url: base, connections, duration: MAX_SECONDS, requests: cycle });
  const maxRate = max.requests.total / (max.duration || 1);
  say(
    `1. maximum of the mix, ${connections} connections, ${MAX_SECONDS} s after ${WARMUP_SECONDS} s warm-up [${elapsed()}]: ` +
      `${maxRate.toFixed(0)} req/s, p50 ${max.latency.p50} ms, p99 ${max.latency.p99} ms` +
      `${max.non2xx + max.errors + max.timeouts ? `   (${max.non2xx} non-2xx, ${max.errors} errors, ${max.timeouts} timeouts!)` : ''}`,
  );
  if (max.non2xx + max.errors + max.timeouts > 0)
    fail(`maximum run: ${max.non2xx} non-2xx (${figures('', max).codes}), ${max.errors} errors, ${max.timeouts} timeouts`);
  sockets.take();

  // 2. Load at 80 % of it.
  const rate = LOAD_SHARE * maxRate;
  const load = await paced(kinds, rate, durationSeconds);
  report(
    `2. load: ${durationSeconds} s at ${(LOAD_SHARE * 100).toFixed(0)} % = ${rate.toFixed(0)} req/s [${elapsed()}]`,
    load,
    sockets.take(),
    durationSeconds,
  );

  // 3. Soak at the same rate, sampling the server's memory.
  const samples: { t: number; heapUsed: number; rss: number; external: number }[] = [];
  const soakStart = performance.now();
  const sample = async () => {
    try {
      const m = await bench<{ heapUsed: number; rss: number; external: number }>('memory');
      samples.push({ t: (performance.now() - soakStart) / 1000, heapUsed: m.heapUsed, rss: m.rss, external: m.external });
    } catch (error) {
      fail(`memory sample: ${String(error)}`);
    }
  };
  await sample();
  const sampler = setInterval(() => void sample(), SAMPLE_SECONDS * 1000);
  const soak = await paced(kinds, rate, soakSeconds).finally(() => clearInterval(sampler));
  await sample();
  report(`3. soak: ${soakSeconds} s at ${rate.toFixed(0)} req/s [${elapsed()}]`, soak, sockets.take(), soakSeconds);

  const memoryRow = (name: string, pick: (s: (typeof samples)[number]) => number) => {
    const perMinute = (slope(samples.map((s) => ({ x: s.t / 60, y: pick(s) }))) / MiB).toFixed(2);
    return `  ${name.padEnd(10)} ${(pick(samples[0]!) / MiB).toFixed(1).padStart(8)} ${(pick(samples.at(-1)!) / MiB).toFixed(1).padStart(8)} ${perMinute.padStart(12)}`;
  };
  say(`  server memory, ${samples.length} samples every ${SAMPLE_SECONDS} s, each after a full collection, least-squares slope:`);
  say(`  ${'memory'.padEnd(10)} ${'start MiB'.padStart(8)} ${'end MiB'.padStart(8)} ${'MiB/minute'.padStart(12)}`);
  say(memoryRow('heap used', (s) => s.heapUsed));
  say(memoryRow('RSS', (s) => s.rss));
  say(memoryRow('external', (s) => s.external));
  say(
    `  (the database is in this process: PGlite's memory, in RSS and external, grows with the ${posted.toLocaleString('en')} events, ` +
      'sessions and messages written; heap used is the JavaScript side)',
  );
} finally {
  clearInterval(tokenTimer);
  sockets?.stop();
  child.kill('SIGKILL');
}

if (failures.length > 0) {
  say(`FAILURES (first ${failures.length}):`);
  for (const failure of failures) say(`  ${failure}`);
  say(`Whole run: ${elapsed()}.`);
  process.exit(1);
}
say(`No errors. Whole run: ${elapsed()}.`);
