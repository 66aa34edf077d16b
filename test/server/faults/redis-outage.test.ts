import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createRealtimeClient, type ClientEvents, type RealtimeClient, type ServerEvents } from '../../../generated/client/realtime';
import { createRevocations } from '../../../server/auth/revocations';
import type { Database } from '../../../server/db/database';
import { connectRedis, type RedisConnections } from '../../../server/redis';
import { captureLog } from '../../support/app';
import { backends } from '../../support/database';
import { connected, contacts, startRealtimeServer } from '../../support/realtime';
import { describeWith } from '../../support/services';
import { switchableProxy } from '../../support/switch-proxy';
import { redisRun, redisUrl, within } from '../scale/http-client';

/**
 * The scaled-out mode through a Redis outage: two instances sharing PostgreSQL and Redis, their
 * Redis behind a proxy the test turns off (Redis stopped or unreachable), stalls (a network that
 * stops answering) and turns on again; the shared Redis itself is never touched. While Redis is
 * out of reach every request is answered promptly and none with a 500: rate limits count per
 * instance, a logout on one instance is refused on the other, what needs Redis (Idempotency-Key)
 * is 503 with Retry-After. Once it is back, limits are shared again and real-time events cross
 * instances again, without a restart. The bounds are small so the file is quick; production's
 * defaults are in server/redis.ts (1000 ms command timeout, 2000 ms reconnection backoff, 5000 ms
 * database reads of revocations).
 */
// biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read field by field.
type Json = any;
type Device = RealtimeClient<ClientEvents, ServerEvents>;
type Server = Awaited<ReturnType<typeof startRealtimeServer>>;

const TUNING = { commandTimeoutMs: 300, reconnectMaxMs: 100, resyncEveryMs: 100 };
/** Every request during the outage is answered within this: no waiting for Redis beyond the command timeout. */
const PROMPT_MS = 1000;
/** Once Redis is back, everything shared again within this. */
const RECOVERY_MS = 5000;
const password = 'a long enough tango passphrase'; // the one signUp registers with
const PRACTICA = {
  title: 'Práctica sin Redis',
  kind: 'practica',
  city: 'Mar del Plata',
  venue: 'Club Atlético',
  startsAt: '2027-02-04T21:00:00Z',
  endsAt: '2027-02-05T00:00:00Z',
};

const run = redisRun('outage');
const { prefix, inspector } = run;
let proxy: Awaited<ReturnType<typeof switchableProxy>>;
/** Whether the test turned Redis off or stalled it (and has not turned it on again). */
let outage = false;
async function redisDown() {
  outage = true;
  await proxy.down();
}
function redisStalled() {
  outage = true;
  proxy.stall();
}
async function redisBack() {
  outage = false;
  await proxy.up();
}
let viaProxy: string;
let database: Database | undefined;

interface Instance {
  name: string;
  server: Server;
  redis: RedisConnections;
  /** What connectRedis logged: the outage's warnings. */
  redisLog: Record<string, unknown>[];
}
const instances: Instance[] = [];
const devices: Device[] = [];
let a: Instance;
let b: Instance;

async function instance(name: string): Promise<Instance> {
  const { lines, log } = captureLog();
  const redis = await connectRedis(viaProxy, prefix, { log, ...TUNING });
  const started = { name, server: await startRealtimeServer(database!, { redis }), redis, redisLog: lines };
  instances.push(started);
  return started;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Json;
  ms: number;
}

async function call(
  via: Instance,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; ip?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.ip) headers['X-Forwarded-For'] = options.ip;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const began = performance.now();
  const response = await fetch(`${via.server.url}/api/v1${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined, ms: performance.now() - began };
}

const pause = (ms: number) => new Promise<false>((resolve) => setTimeout(() => resolve(false), ms));

let addresses = 0;
const freshAddress = () => `10.91.${++addresses >> 8}.${addresses & 255}`;

async function register(via: Instance) {
  const username = `out-${randomUUID().slice(0, 8)}`;
  const answer = await call(via, 'POST', '/auth/register', { ip: freshAddress(), body: { username, password, displayName: 'Sin Redis' } });
  expect(answer.status).toBe(201);
  return { username, ...(answer.body.data as { accessToken: string; refreshToken: string; sessionId: string }) };
}
const login = (via: Instance, username: string, pw: string, ip: string) =>
  call(via, 'POST', '/auth/login', { ip, body: { username, password: pw } });
const me = (via: Instance, token: string) => call(via, 'GET', '/users/me', { token });

const messages = (lines: Record<string, unknown>[], pattern: RegExp) => lines.filter((line) => pattern.test(String(line.msg)));
const FALLBACK = /^Redis cannot be reached: each instance counts rate limits/;
const SHARED_AGAIN = /^Redis answers again: rate limits are shared/;

/** Nothing was answered with a 500, on either instance. */
function expectNoServerErrors() {
  for (const { name, server } of instances) {
    const failures = server.logLines.filter(
      (line) => line.msg === 'unhandled error' || (typeof line.status === 'number' && line.status >= 500 && line.status !== 503),
    );
    expect({ name, failures }).toEqual({ name, failures: [] });
  }
}

/** Every connection of both instances ready, and both instances listening on the shared channels again. */
async function everyoneBack(): Promise<void> {
  const numsub = async (channel: string) => Number(((await inspector.pubsub('NUMSUB', channel)) as [string, number])[1]);
  const back = await within(RECOVERY_MS, async () => {
    const ready = instances.every(({ redis }) =>
      [redis.client, redis.subscriber, redis.adapter.pub, redis.adapter.sub].every((connection) => connection.status === 'ready'),
    );
    return (
      ready && (await numsub(`${prefix}socket.io-request#/#`)) === 2 && (await numsub(`${prefix}revoked-sessions`)) === instances.length
    );
  });
  expect(back.ok, `not back after ${Math.round(back.elapsedMs)} ms`).toBe(true);
}

describeWith(['redis', 'postgres'], 'a Redis outage under two instances', () => {
  beforeAll(async () => {
    const direct = new URL(redisUrl);
    proxy = await switchableProxy({ host: direct.hostname || '127.0.0.1', port: Number(direct.port || 6379) });
    const proxied = new URL(direct);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    viaProxy = proxied.toString();
    database = await backends.find((backend) => backend.name === 'postgres')!.open();
    a = await instance('A');
    b = await instance('B');
  });

  // Each test starts with Redis reachable from both instances, even after one that failed mid-outage.
  // (Only then is the proxy turned on again: `up()` cuts the connections it carries.)
  beforeEach(async () => {
    if (outage) await redisBack();
    await everyoneBack();
  });

  afterAll(async () => {
    if (outage) await redisBack();
    for (const device of devices.splice(0)) device.close();
    for (const { server } of instances) await server.stop();
    for (const { redis } of instances.splice(0)) await redis.close();
    await proxy?.close();
    // Nothing of this run may stay behind in the shared Redis.
    await run.sweep();
    await database?.close();
  });

  it('rate limits: per instance while Redis is down (one warning, answers at once); shared again once it is back', async () => {
    const account = await register(a);
    await redisDown();
    const ip = freshAddress();
    const during: Answer[] = [];
    // The login limit: 5 wrong passwords per name and address. A counts them in its own memory...
    for (let i = 0; i < 5; i++) during.push(await login(a, account.username, 'wrong password!', ip));
    expect(during.map((answer) => answer.status)).toEqual([401, 401, 401, 401, 401]);
    const limited = await login(a, account.username, 'wrong password!', ip);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(800);
    // ...and B in its own: the sixth attempt there is its first.
    const elsewhere = await login(b, account.username, 'wrong password!', ip);
    expect(elsewhere.status).toBe(401);
    // The right password still signs in where the limit was not reached; signed-in calls work.
    const signedIn = await login(b, account.username, password, freshAddress());
    expect(signedIn.status).toBe(200);
    expect((await me(b, signedIn.body.data.accessToken)).status).toBe(200);
    for (const answer of [...during, limited, elsewhere, signedIn]) expect(answer.ms).toBeLessThan(PROMPT_MS);
    // The operator reads one line per instance, not one per request.
    expect(messages(a.redisLog, FALLBACK)).toHaveLength(1);
    expect(messages(b.redisLog, FALLBACK)).toHaveLength(1);
    expect(messages(a.redisLog, FALLBACK)[0]!.level).toBe('warn');

    await redisBack();
    await everyoneBack();
    const said = await within(
      RECOVERY_MS,
      async () => messages(a.redisLog, SHARED_AGAIN).length + messages(b.redisLog, SHARED_AGAIN).length === 2,
    );
    expect(said.ok).toBe(true);
    // Shared again: 3 failures through A and 2 through B lock the name out on both.
    const again = freshAddress();
    for (let i = 0; i < 3; i++) expect((await login(a, account.username, 'wrong password!', again)).status).toBe(401);
    for (let i = 0; i < 2; i++) expect((await login(b, account.username, 'wrong password!', again)).status).toBe(401);
    expect((await login(b, account.username, 'wrong password!', again)).status).toBe(429);
    expect((await login(a, account.username, password, again)).status).toBe(429);
    expect((await run.keys('rl:login*')).length).toBeGreaterThan(0);
    expect(messages(a.redisLog, FALLBACK)).toHaveLength(1);
    expectNoServerErrors();
  });

  it('an Idempotency-Key cannot be honoured without Redis: 503 with Retry-After, nothing done; the retry once it is back is', async () => {
    const account = await register(a);
    const key = `practica-${randomUUID()}`;
    const create = (via: Instance) =>
      call(via, 'POST', '/events', { token: account.accessToken, body: PRACTICA, headers: { 'Idempotency-Key': key } });
    await redisDown();
    for (const via of [a, b]) {
      const refused = await create(via);
      expect(refused.status, JSON.stringify(refused.body)).toBe(503);
      expect(refused.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(JSON.stringify(refused.body)).not.toMatch(/redis|stream|offline|enableOfflineQueue/i);
      expect(refused.ms).toBeLessThan(PROMPT_MS);
    }
    // Without a key the same request needs no Redis: it is served.
    const plain = await call(a, 'POST', '/events', { token: account.accessToken, body: { ...PRACTICA, city: 'Tandil' } });
    expect(plain.status).toBe(201);
    const listed = await call(b, 'GET', `/events?city=${encodeURIComponent(PRACTICA.city)}`);
    expect(listed.body.data).toEqual([]);

    await redisBack();
    // The client retries after Retry-After: the first answer that is not a 503 is the creation.
    let created: Answer | undefined;
    const retried = await within(RECOVERY_MS, async () => {
      created = await create(a);
      return created.status !== 503;
    });
    expect(retried.ok).toBe(true);
    expect(created!.status).toBe(201);
    const replayed = await create(b);
    expect(replayed.status).toBe(201);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body.data.id).toBe(created!.body.data.id);
    expect((await call(b, 'GET', `/events?city=${encodeURIComponent(PRACTICA.city)}`)).body.data).toHaveLength(1);
    expectNoServerErrors();
  });

  it('a logout on A while Redis is down: 204, refused on B during the outage and after it; fan-out works again', async () => {
    const account = await register(a);
    expect((await me(b, account.accessToken)).status).toBe(200);
    await redisDown();

    const logout = await call(a, 'POST', '/auth/logout', { token: account.accessToken });
    expect(logout.status).toBe(204);
    expect(logout.ms).toBeLessThan(PROMPT_MS);
    expect((await me(a, account.accessToken)).status).toBe(401);
    // B reads revocations from the database while it cannot listen: refused within a few of its reads.
    const refused = await within(3000, async () => (await me(b, account.accessToken)).status === 401);
    expect(refused, `B still accepted the token after ${Math.round(refused.elapsedMs)} ms`).toMatchObject({ ok: true });
    expect(refused.elapsedMs).toBeLessThan(20 * TUNING.resyncEveryMs);
    expect(messages(a.server.logLines, /^publishing a revocation failed/)).toHaveLength(1);
    expect(messages(b.server.logLines, /^revocation fan-out interrupted/).length).toBeGreaterThan(0);

    await redisBack();
    await everyoneBack();
    const restored = await within(RECOVERY_MS, async () => messages(b.server.logLines, /^revocation fan-out restored/).length > 0);
    expect(restored.ok).toBe(true);
    for (const via of [a, b]) {
      const after = await me(via, account.accessToken);
      expect(after.status).toBe(401);
      expect(after.body.code).toBe('UNAUTHENTICATED');
      expect((await call(via, 'POST', '/auth/refresh', { body: { refreshToken: account.refreshToken } })).status).toBe(401);
    }
    // Pub/sub carries revocations again (B polls no more): another session, logged out on A, is refused on B within a second.
    const other = await login(b, account.username, password, freshAddress());
    expect(other.status).toBe(200);
    expect((await me(b, other.body.data.accessToken)).status).toBe(200);
    expect((await call(a, 'POST', '/auth/logout', { token: other.body.data.accessToken })).status).toBe(204);
    const propagated = await within(1000, async () => (await me(b, other.body.data.accessToken)).status === 401);
    expect(propagated.ok).toBe(true);
    expectNoServerErrors();
  });

  it('revocations missed while not listening are read once the subscription is back, and a failed publish is made again', async () => {
    const { lines, log } = captureLog();
    // Connections of their own, polling too rarely to matter here: only the reconnection can tell.
    const redis = await connectRedis(viaProxy, prefix, { ...TUNING, resyncEveryMs: 60_000 });
    const stored: string[] = [];
    let reads = 0;
    const recent = async () => {
      reads++;
      return [...stored];
    };
    const revocations = await createRevocations({ ttlMs: 60_000, recent, log, redis });
    const channel = `${prefix}revoked-sessions`;
    const listener = new Redis(redisUrl, { lazyConnect: true });
    const heard: string[][] = [];
    try {
      await listener.connect();
      await listener.subscribe(channel);
      listener.on('message', (_channel, message: string) => heard.push(JSON.parse(message) as string[]));
      await redisDown();
      const missed = randomUUID();
      stored.push(missed); // revoked on another instance, whose message this one could not hear
      const mine = randomUUID();
      await revocations.revoke([mine]); // resolves: stored already, refused here at once
      expect(revocations.isRevoked(mine)).toBe(true);
      expect(revocations.isRevoked(missed)).toBe(false);
      const readsBefore = reads;

      await redisBack();
      const learnt = await within(RECOVERY_MS, async () => revocations.isRevoked(missed));
      expect(learnt.ok, 'the reload on reconnection did not run').toBe(true);
      expect(reads).toBeGreaterThan(readsBefore);
      const republished = await within(RECOVERY_MS, async () => heard.some((ids) => ids.includes(mine)));
      expect(republished.ok, 'the failed publish was not made again').toBe(true);
      // Subscribed again on the same connection: a message from elsewhere is heard.
      const later = randomUUID();
      await inspector.publish(channel, JSON.stringify([later]));
      expect((await within(1000, async () => revocations.isRevoked(later))).ok).toBe(true);
      expect(messages(lines, /^revocation fan-out restored/)).toHaveLength(1);
    } finally {
      await revocations.close();
      await redis.close();
      await listener.quit();
    }
  });

  it('real time: a message sent on A during the outage reaches A’s sockets; once Redis is back it reaches B’s again', async () => {
    const { ana, ben, conversation } = await contacts(a.server.url);
    const tokens = { getAccessToken: () => ben.session.accessToken };
    const device = (on: Instance) => {
      const created = createRealtimeClient({ baseUrl: on.server.url, tokens, reconnectionDelayMs: 50, reconnectionDelayMaxMs: 200 });
      devices.push(created);
      return created;
    };
    const phone = device(b);
    const laptop = device(a);
    await Promise.all([phone, laptop].map(connected));
    let dropped = 0;
    phone.socket.on('disconnect', () => dropped++);
    const arrives = (on: Device, clientKey: string, ms: number) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          off();
          resolve(false);
        }, ms);
        const off = on.on('message:new', (message) => {
          if (message.clientKey !== clientKey) return;
          clearTimeout(timer);
          off();
          resolve(true);
        });
      });
    const send = (clientKey: string) =>
      call(a, 'POST', `/conversations/${conversation.id}/messages`, {
        token: ana.session.accessToken,
        body: { clientKey, body: '¿Seguimos?' },
      });

    await redisDown();
    const duringKey = `during-${randomUUID()}`;
    const onLaptop = arrives(laptop, duringKey, 3000);
    const sent = await send(duringKey);
    expect(sent.status).toBe(201);
    expect(sent.ms).toBeLessThan(PROMPT_MS);
    expect(await onLaptop).toBe(true);

    const upAt = performance.now();
    await redisBack();
    // What a user notices: the next message sent on A shows up on the phone on B.
    const resumed = await within(RECOVERY_MS, async () => {
      const clientKey = `after-${randomUUID()}`;
      const onPhone = arrives(phone, clientKey, 250);
      expect((await send(clientKey)).status).toBe(201);
      return onPhone;
    });
    expect(resumed.ok, `no message crossed to B within ${RECOVERY_MS} ms`).toBe(true);
    const resumedMs = performance.now() - upAt;
    expect(resumedMs).toBeLessThan(RECOVERY_MS);
    // The sockets themselves never noticed: no disconnection, nothing to do for the client.
    expect(dropped).toBe(0);
    expect(phone.socket.connected).toBe(true);
    await everyoneBack();
    expectNoServerErrors();
  });

  it('presence: asked during the outage, SERVICE_UNAVAILABLE; who connected or left meanwhile shows so once it is back', async () => {
    const { ana, ben } = await contacts(a.server.url);
    const device = (on: Instance, token: string) => {
      const created = createRealtimeClient({ baseUrl: on.server.url, tokens: { getAccessToken: () => token }, reconnectionDelayMs: 50 });
      devices.push(created);
      return created;
    };
    const anaPhone = device(b, ana.session.accessToken);
    await connected(anaPhone);
    const benOnline = async () =>
      (await anaPhone.emit('presence:query', { userIds: [ben.id] })).users.find((user) => user.userId === ben.id)?.status === 'online';
    expect(await benOnline()).toBe(false);

    await redisDown();
    // Ben's laptop connects while his presence cannot be written.
    const benLaptop = device(a, ben.session.accessToken);
    await connected(benLaptop);
    // Asking cannot be answered without Redis: told so, not an internal error.
    await expect(anaPhone.emit('presence:query', { userIds: [ben.id] })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });

    await redisBack();
    // Asked every 250 ms: presence:query allows 30 a minute.
    const shown = await within(RECOVERY_MS, async () => (await benOnline().catch(() => false)) || (await pause(250)));
    expect(shown.ok, `Ben not online ${RECOVERY_MS} ms after Redis came back`).toBe(true);

    // Ben's laptop leaves while his presence cannot be written: offline once Redis is back, last
    // seen when he left (not online until his entry expires).
    await redisDown();
    const leftAt = Date.now();
    benLaptop.close();
    await pause(300);
    await redisBack();
    const gone = await within(RECOVERY_MS, async () => !(await benOnline().catch(() => true)) || (await pause(250)));
    expect(gone.ok, `Ben still online ${RECOVERY_MS} ms after Redis came back`).toBe(true);
    const [seen] = (await anaPhone.emit('presence:query', { userIds: [ben.id] })).users;
    expect(Date.parse(seen!.lastSeenAt!)).toBeGreaterThanOrEqual(leftAt - 50);
    expect(Date.parse(seen!.lastSeenAt!)).toBeLessThan(leftAt + 300);
    await everyoneBack();
    expectNoServerErrors();
  });

  it('a network that stops answering: a request waits at most the command timeout, the next ones not at all', async () => {
    const account = await register(a);
    redisStalled();
    const ip = freshAddress();
    const first = await login(a, account.username, 'wrong password!', ip);
    expect(first.status).toBe(401);
    // It did wait for the silent Redis (the stall is real), but no longer than the command timeout.
    expect(first.ms).toBeGreaterThanOrEqual(TUNING.commandTimeoutMs - 50);
    expect(first.ms).toBeLessThan(TUNING.commandTimeoutMs + PROMPT_MS);
    const next = await login(a, account.username, 'wrong password!', ip);
    expect(next.status).toBe(401);
    expect(next.ms).toBeLessThan(TUNING.commandTimeoutMs);
    const keyed = await call(a, 'POST', '/events', {
      token: account.accessToken,
      body: PRACTICA,
      headers: { 'Idempotency-Key': `stalled-${randomUUID()}` },
    });
    expect(keyed.status).toBe(503);
    expect(keyed.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(keyed.ms).toBeLessThan(TUNING.commandTimeoutMs + PROMPT_MS);

    await redisBack();
    await everyoneBack();
    expectNoServerErrors();
  });
});
