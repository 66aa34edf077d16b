import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { measureClientTypes } from './client-types';
import { measureGenerator } from './generator';
import { measureAuth } from './auth';
import { measureHttp, type HttpResult, type Scenario } from './http';
import { measureRealtime } from './realtime';

/**
 * npm run bench [-- --node <path to another node binary> --duration 10 --connections 50 --rounds 1 --only http|auth|generator|types|startup|realtime|social|feed|uploads|statistics|tracing]
 * npm run bench -- --only soak [--duration 60 --soak-seconds 600] (only when asked for: it takes 11 minutes or more)
 * Prints figures measured in this one run and their ratios; nothing here is a pass/fail test.
 */
const { values, tokens } = parseArgs({
  tokens: true,
  options: {
    node: { type: 'string', default: process.execPath },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    'soak-seconds': { type: 'string', default: '600' },
  },
});

const root = join(import.meta.dirname, '..');
const want = (part: string) => !values.only || values.only === part;
const rounds = Math.max(1, Number(values.rounds));

if (want('http')) {
  const settings = {
    node: values.node,
    connections: Number(values.connections),
    durationSeconds: Number(values.duration),
    warmupSeconds: Number(values.warmup),
  };
  const { execFileSync } = await import('node:child_process');
  const { randomBytes, randomUUID } = await import('node:crypto');
  const { SignJWT } = await import('jose');
  const payload = await import('./payload');
  const version = execFileSync(values.node, ['--version']).toString().trim();
  // The servers verify bearer tokens with this secret (passed to them in the environment).
  process.env.BENCH_JWT_SECRET = randomBytes(32).toString('base64url');
  const token = await new SignJWT({ roles: ['user'], sid: randomUUID() })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setSubject(randomUUID())
    .setIssuer(payload.TOKEN.issuer)
    .setAudience(payload.TOKEN.audience)
    .setIssuedAt()
    .setExpirationTime('1h')
    .setJti(randomUUID())
    .sign(payload.benchSecret());
  const scenarios: Scenario[] = [
    {
      name: `validated POST of a ${Buffer.byteLength(payload.eventBody)}-byte event`,
      method: 'POST',
      path: payload.BENCH_PATH,
      body: payload.eventBody,
      headers: { 'content-type': 'application/json' },
    },
    { name: 'GET of a 20-item cursor page', method: 'GET', path: payload.PAGE_PATH, headers: {} },
    {
      name: 'authenticated GET (HS256 bearer token verified)',
      method: 'GET',
      path: payload.AUTH_PATH,
      headers: { authorization: `Bearer ${token}` },
    },
  ];
  const servers = [
    ['bare node:http', 'bench/servers/bare.ts', []],
    ['node:http + zod', 'bench/servers/bare.ts', ['--zod']],
    ['node:http, same wire', 'bench/servers/bare.ts', ['--wire']],
    ['stock express 5', 'bench/servers/express.ts', []],
    ['fastify 5', 'bench/servers/fastify.ts', []],
    ['@hono/zod-openapi', 'bench/servers/hono.ts', []],
    ['this runtime', 'bench/servers/runtime.ts', []],
    ['runtime in express', 'bench/servers/runtime.ts', ['--mounted']],
  ] as const;
  console.log(
    `HTTP: ${settings.connections} connections, ${settings.durationSeconds} s after ${settings.warmupSeconds} s warm-up, server Node ${version} on core 0, autocannon on core 1; then p99 at 60 % of bare node:http's rate; each server's best of ${rounds} round(s)`,
  );
  for (const scenario of scenarios) {
    console.log(`${scenario.name}:`);
    const results: HttpResult[] = [];
    let rate: number | undefined;
    // node:http + zod differs from bare node:http in the POST only.
    const measured = servers.filter(([name]) => scenario.method === 'POST' || name !== 'node:http + zod');
    // Each server keeps its best round: the machine's speed drifts (±30 % over minutes here), and a
    // slow stretch must not fall on one server alone. Rounds go through the servers in turn.
    const best = new Map<string, HttpResult>();
    for (let round = 0; round < rounds; round++) {
      for (const [name, script, args] of measured) {
        // The first server is bare node:http: the others are paced at 60 % of its first maximum.
        const result = await measureHttp(name, script, [...args], settings, scenario, rate ?? ((max) => 0.6 * max));
        rate ??= result.rate;
        const kept = best.get(name);
        if (!kept || result.requestsPerSecond > kept.requestsPerSecond)
          best.set(name, { ...result, non2xx: result.non2xx + (kept?.non2xx ?? 0) });
        else kept.non2xx += result.non2xx;
      }
    }
    for (const [name] of measured) {
      const result = best.get(name)!;
      results.push(result);
      const ratio = (result.requestsPerSecond / results[0]!.requestsPerSecond).toFixed(2);
      console.log(
        `  ${name.padEnd(20)} ${result.requestsPerSecond.toFixed(0).padStart(7)} req/s  ${ratio}× bare   p99 ${String(result.p99Ms).padStart(4)} ms   p99 at ${Math.round(rate ?? 0)} req/s ${String(result.p99AtRateMs ?? '?').padStart(4)} ms${result.non2xx ? `   (${result.non2xx} non-2xx!)` : ''}`,
      );
    }
    const broken = results.filter((r) => r.non2xx > 0).map((r) => r.name);
    if (broken.length > 0) throw new Error(`Not a measurement: ${broken.join(', ')} answered errors (see the non-2xx counts)`);
  }
}

if (want('generator')) {
  console.log('Generator (check → spec → lint → types → templates), synthetic endpoints:');
  await measureGenerator(root, 20); // warm the module caches so the figures compare runs, not loading
  for (const count of [100, 500, 5000]) {
    const { ms, steps } = await measureGenerator(root, count);
    const detail = Object.entries(steps)
      .map(([step, t]) => `${step} ${t.toFixed(0)}`)
      .join(', ');
    console.log(`  ${String(count).padStart(4)} endpoints: ${ms.toFixed(0)} ms (${detail})`);
  }
}

if (want('types')) {
  console.log(
    "The generated client in a project's type check (tsc --noEmit --extendedDiagnostics, strict, a usage file calling 50 operations):",
  );
  for (const count of [100, 500]) {
    for (const from of ['package', 'sources'] as const) {
      const r = await measureClientTypes(root, count, from);
      console.log(
        `  ${String(count).padStart(4)} operations, ${from === 'package' ? 'installed package (.d.ts)' : 'TypeScript sources       '}: check ${r.checkSeconds.toFixed(2)} s, total ${r.totalSeconds.toFixed(2)} s, ${r.instantiations.toLocaleString('en')} instantiations, ${r.types.toLocaleString('en')} types, ${Math.round(r.memoryKb / 1024)} MB`,
      );
    }
  }
}

if (want('startup')) {
  // The runtime alone (no database) serving N synthetic operations, each in a process of its own.
  const { execFileSync } = await import('node:child_process');
  console.log('Startup with N operations (no database; server Node, through tsx as npm start runs it):');
  for (const routes of [100, 500, 1000]) {
    const out = execFileSync(values.node, ['--import', 'tsx', join(root, 'bench/servers/synthetic.ts'), '--routes', String(routes)], {
      cwd: root,
    });
    const r = JSON.parse(out.toString()) as { importMs: number; contractsMs: number; createAppMs: number; listeningMs: number };
    console.log(
      `  ${String(routes).padStart(4)} operations: listening ${r.listeningMs.toFixed(0)} ms after the process started ` +
        `(imports ${r.importMs.toFixed(0)} ms, contracts ${r.contractsMs.toFixed(0)} ms, createApp ${r.createAppMs.toFixed(0)} ms)`,
    );
  }
}

if (want('auth')) {
  const seconds = Number(values.duration);
  const r = await measureAuth(values.node, seconds);
  console.log('Auth (whole app on in-memory PGlite, server on core 0):');
  console.log(
    `  login    ${r.loginPerSecond.toFixed(1).padStart(7)} req/s   p99 ${r.loginP99Ms} ms${r.loginNon2xx ? `   (${r.loginNon2xx} non-2xx!)` : ''}`,
  );
  console.log(
    `  refresh  ${r.refreshPerSecond.toFixed(0).padStart(7)} req/s   p99 ${r.refreshP99Ms} ms${r.refreshNon2xx ? `   (${r.refreshNon2xx} non-2xx!)` : ''}`,
  );
  console.log(
    `  argon2id verify alone, one at a time: ${r.argon2PerSecond.toFixed(1)}/s → login runs at ${(r.loginPerSecond / r.argon2PerSecond).toFixed(2)}× the hash's own rate; refresh is ${(r.refreshPerSecond / r.loginPerSecond).toFixed(0)}× login`,
  );
}

if (want('realtime')) {
  const settings = { node: values.node, sockets: 1000, messages: 200, rounds: 5 };
  const { execFileSync } = await import('node:child_process');
  const version = execFileSync(values.node, ['--version']).toString().trim();
  console.log(
    `Real time: ${settings.sockets} socket.io-client sockets (websocket) in a load process on core 1, server Node ${version} on core 0; ` +
      `rounds of ${settings.messages} message:new broadcasts to all of them at once, median of ${settings.rounds}`,
  );
  const { bare, runtime } = await measureRealtime(settings);
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  for (const r of [bare, runtime]) {
    console.log(
      `  ${r.name} (${r.detail}): ${r.connectMs.toFixed(0)} ms to connect the sockets${r.gc ? '' : ' (no gc(): memory figures are rough)'}`,
    );
    console.log(
      `    per idle socket: heap used ${kib(r.heapPerSocket)}, RSS ${kib(r.rssPerSocket)} (${kib(r.rssPerSocketNoYoung)} without young-generation growth), external ${kib(r.externalPerSocket)}`,
    );
    for (const f of r.fanOut) {
      console.log(
        `    ${f.name.padEnd(13)} ${f.broadcastsPerSecond.toFixed(0).padStart(4)} broadcasts/s = ${f.deliveriesPerSecond.toFixed(0).padStart(6)} deliveries/s   ` +
          `server ${f.serverMicrosPerDelivery.toFixed(2)} µs CPU/delivery (${(1000 / f.serverMicrosPerDelivery).toFixed(0)}k deliveries per CPU-second)   ` +
          `busy: server ${(f.serverCoreShare * 100).toFixed(0)}%, load process ${(f.clientCoreShare * 100).toFixed(0)}%`,
      );
    }
  }
  const base = bare.fanOut[0]!;
  for (const f of runtime.fanOut) {
    console.log(
      `  ratio runtime ${f.name} / bare io.emit: deliveries/s ${(f.deliveriesPerSecond / base.deliveriesPerSecond).toFixed(2)}×, ` +
        `server CPU per delivery ${(f.serverMicrosPerDelivery / base.serverMicrosPerDelivery).toFixed(2)}×`,
    );
  }
  console.log(
    `  ratio runtime / bare memory per idle socket: heap used ${(runtime.heapPerSocket / bare.heapPerSocket).toFixed(2)}×, ` +
      `RSS ${(runtime.rssPerSocket / bare.rssPerSocket).toFixed(2)}× (${(runtime.rssPerSocketNoYoung / bare.rssPerSocketNoYoung).toFixed(2)}× without young-generation growth)`,
  );
  console.log(
    "  (RSS deltas carry each process's history: the bare server grows its young generation as the sockets connect; the runtime " +
      'refills memory its start-up freed. Heap used after full collections is the per-socket figure to compare.)',
  );
}

/** A bench run as a process of its own, with its defaults (run `bench/<name>.ts` directly for its flags). */
async function runScript(name: string, args: string[] = []): Promise<void> {
  const { spawnSync } = await import('node:child_process');
  const run = spawnSync(values.node, ['--import', 'tsx', join(root, `bench/${name}.ts`), ...args], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`bench/${name}.ts exited with ${run.status ?? run.signal}`);
}

// Notification fan-out and list latency; it pins itself to core 0 and its sockets to core 1.
if (want('social')) await runScript('social');
// The home feed on a scratch PostgreSQL database with 1M posts.
if (want('feed')) await runScript('feed');

if (want('statistics')) await runScript('statistics');
// Tracing off, on but sampling nothing, and on (bench/tracing.ts): what each costs a request.
if (want('tracing')) await runScript('tracing');
// A 50 MiB resumable upload through the app against a file copy on the same disk.
if (want('uploads')) await runScript('uploads');
// Load and soak of the whole app (bench/soak.ts): only when asked for by name, as it runs for minutes.
if (values.only === 'soak') {
  // --duration's default here (10) is the other benches'; the soak's own (60) holds unless one is given.
  const given = (name: string) => tokens.some((token) => token.kind === 'option' && token.name === name);
  await runScript('soak', [
    '--node',
    values.node,
    '--soak-seconds',
    values['soak-seconds'],
    ...(given('duration') ? ['--duration', values.duration] : []),
    ...(given('connections') ? ['--connections', values.connections] : []),
  ]);
}
