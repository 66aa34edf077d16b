import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { io } from 'socket.io-client';
import { createClient, type ApiClient } from '../../generated/client';
import { createRealtimeClient, type ClientEvents, type RealtimeClient, type ServerEvents } from '../../generated/client/realtime';
import { serve, type Running } from '../../runtime/server';
import { afterAll, beforeAll } from 'vitest';
import type { Database } from '../../server/db/database';
import { openServerDatabase } from './database';
import type { RealtimeTuning } from '../../server/realtime';
import type { RedisConnections } from '../../server/redis';
import { captureLog, createTestApp, TEST_SECRET } from './app';

/** A whole Mundo Tango server, sockets included, on an ephemeral port. */
/** One real-time server on its own in-memory database, for a whole test file. */
export function realtimeServerForFile() {
  const file = {} as { database: Database; server: Awaited<ReturnType<typeof startRealtimeServer>> };
  beforeAll(async () => {
    file.database = await openServerDatabase();
    file.server = await startRealtimeServer(file.database);
  });
  afterAll(async () => {
    await file.server.stop();
    await file.database.close();
  });
  return file;
}

export async function startRealtimeServer(
  database: Database,
  options: { redis?: RedisConnections; port?: number; env?: Record<string, string> } & RealtimeTuning = {},
) {
  const test = await createTestApp(database, { TRUST_PROXY: 'loopback', ...options.env }, options.redis);
  const running: Running = await serve(test.app, {
    port: options.port ?? 0,
    host: '127.0.0.1',
    log: captureLog().log,
    beforeClose: () => test.close(),
  });
  const { redis: _redis, port: _port, env: _env, ...tuning } = options;
  const realtime = test.attachRealtime(running.server, tuning);
  return {
    ...test,
    running,
    realtime,
    url: running.url,
    stop: () => running.shutdown(),
    /**
     * An access token of a live session that expires in `seconds` (at a whole second, as `exp` is):
     * a token lifetime short enough to watch a socket outlive it.
     */
    async shortLivedToken(user: { id: string; session: { sessionId: string } }, seconds: number) {
      const expiresAt = Math.floor(Date.now() / 1000) + seconds;
      const token = await new SignJWT({ roles: ['user'], sid: user.session.sessionId })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .setSubject(user.id)
        .setIssuer(test.config.JWT_ISSUER)
        .setAudience(test.config.JWT_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(expiresAt)
        .setJti(randomUUID())
        .sign(TEST_SECRET);
      return { token, expiresAt: expiresAt * 1000 };
    },
  };
}

/** A socket.io-client factory whose connections come through the trusted proxy on behalf of `address`. */
export function viaProxy(address: string): typeof io {
  return ((url: string, options: Parameters<typeof io>[1]) =>
    io(url, { ...options, extraHeaders: { 'X-Forwarded-For': address } })) as typeof io;
}

let addresses = 0;

/** A registered user with a REST client and a way to open real-time connections (devices). */
export async function signUp(url: string) {
  const anonymous = createClient({ baseUrl: url, headers: { 'X-Forwarded-For': `10.77.${++addresses >> 8}.${addresses & 255}` } });
  const session = await anonymous.auth.register({
    body: { username: `rt-${randomUUID().slice(0, 8)}`, password: 'a long enough tango passphrase', displayName: 'RT' },
  });
  const tokens = { getAccessToken: () => session.accessToken };
  const api: ApiClient = createClient({ baseUrl: url, tokens });
  return {
    id: session.user.id,
    session,
    api,
    device: (extra: Partial<Parameters<typeof createRealtimeClient>[0]> = {}) =>
      createRealtimeClient({ baseUrl: url, tokens, reconnectionDelayMs: 50, reconnectionDelayMaxMs: 200, ...extra }),
  };
}

/**
 * A user like `signUp`'s, faster: the account is stored directly and given a token, so no password
 * is hashed (most of the time of a file that needs many users); everything else goes over HTTP and sockets.
 */
export async function storedUser(server: Awaited<ReturnType<typeof startRealtimeServer>>) {
  const user = await server.services.userStore.create({
    username: `rt-${randomUUID().slice(0, 8)}`,
    displayName: 'RT',
    passwordHash: 'not-a-real-hash',
  });
  if (user === 'taken') throw new Error('username collision');
  const token = await server.token(user.id);
  const tokens = { getAccessToken: () => token };
  return {
    id: user.id,
    token,
    api: createClient({ baseUrl: server.url, tokens }),
    device: (extra: Partial<Parameters<typeof createRealtimeClient>[0]> = {}) =>
      createRealtimeClient({ baseUrl: server.url, tokens, reconnectionDelayMs: 50, reconnectionDelayMaxMs: 200, ...extra }),
  };
}

/** Two users who see each other's presence: they share a direct conversation, and both have written in it. */
export async function contacts(url: string) {
  const ana = await signUp(url);
  const ben = await signUp(url);
  const conversation = await ana.api.messages.createConversation({ body: { kind: 'direct', memberIds: [ben.id] } });
  const conversationId = conversation.id;
  await ana.api.messages.sendMessage({ params: { conversationId }, body: { clientKey: randomUUID(), body: '¿Bailamos?' } });
  await ben.api.messages.sendMessage({ params: { conversationId }, body: { clientKey: randomUUID(), body: 'Claro' } });
  return { ana, ben, conversation };
}

type Device = RealtimeClient<ClientEvents, ServerEvents>;

/** Resolves with the next `event` payload on a device (or rejects after `ms`: generous, for a loaded machine). */
export function next<K extends keyof ServerEvents & string>(device: Device, event: K, ms = 10_000): Promise<ServerEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    const off = device.on(event, (payload) => {
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

export function connected(device: { socket: { connected: boolean; once(event: string, fn: () => void): unknown } }): Promise<void> {
  return device.socket.connected ? Promise.resolve() : new Promise((resolve) => device.socket.once('connect', () => resolve()));
}
