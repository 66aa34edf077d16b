import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import { connectRedis, type RedisConnections } from '../../../server/redis';
import { createTestApp } from '../../support/app';
import { backends } from '../../support/database';
import { describeWith } from '../../support/services';
import { redisRun, redisUrl, startInstance, within, type Instance } from './http-client';

/**
 * Two instances of the app behind an imaginary load balancer: one PostgreSQL database, one Redis,
 * each instance with Redis connections of its own. Whatever one instance decides about a session
 * or a rate limit, the other must honour.
 */

// One prefix per run, shared by both instances: their counters meet, other runs' do not.
const run = redisRun('http');
const { prefix } = run;
// Behind a (test) proxy, so each simulated client can have its own address.
const env = { TRUST_PROXY: 'loopback' };
const password = 'milonga de los jueves en canning';
/** Pub/sub is asynchronous: a revocation must reach the other instance within this bound. */
const PROPAGATION_MS = 1000;

let database: Database | undefined;
const connections: RedisConnections[] = [];
const instances: Instance[] = [];
let a: Instance;
let b: Instance;

/** An instance on the shared database; with its own Redis connections unless `redis` is false. */
async function instance(name: string, redis = true): Promise<Instance> {
  const connection = redis ? await connectRedis(redisUrl, prefix) : undefined;
  if (connection) connections.push(connection);
  const started = await startInstance(name, await createTestApp(database!, env, connection));
  instances.push(started);
  return started;
}

describeWith(['postgres', 'redis'], 'two instances on one PostgreSQL and one Redis', () => {
  beforeAll(async () => {
    database = await backends.find((backend) => backend.name === 'postgres')!.open();
    a = await instance('A');
    b = await instance('B');
  });

  afterAll(async () => {
    for (const started of instances.splice(0)) await started.stop();
    for (const connection of connections.splice(0)) await connection.close();
    // Nothing of this run may stay behind in the shared Redis.
    await run.sweep();
    await database?.close();
  });

  const uniqueName = () => `dancer-${randomUUID().slice(0, 8)}`;
  // Registration is rate-limited per address: every test account signs up from an address of its own.
  let nextAddress = 0;
  const freshAddress = () => `10.40.${Math.floor(++nextAddress / 250)}.${nextAddress % 250}`;

  interface SessionTokens {
    accessToken: string;
    refreshToken: string;
    sessionId: string;
  }

  async function register(via: Instance): Promise<SessionTokens & { username: string }> {
    const username = uniqueName();
    const res = await via.call('POST', '/auth/register', { ip: freshAddress(), body: { username, password, displayName: 'Test Dancer' } });
    expect(res.status).toBe(201);
    return { username, ...(res.body.data as SessionTokens) };
  }

  const login = (via: Instance, username: string, pw = password, ip = '10.41.0.1') =>
    via.call('POST', '/auth/login', { ip, body: { username, password: pw } });

  async function signIn(via: Instance, username: string): Promise<SessionTokens> {
    const res = await login(via, username);
    expect(res.status).toBe(200);
    expect(res.body.data.status).toBe('authenticated');
    return res.body.data as SessionTokens;
  }

  const me = (via: Instance, token: string) => via.call('GET', '/users/me', { token });
  const refresh = (via: Instance, refreshToken: string) => via.call('POST', '/auth/refresh', { body: { refreshToken } });

  /** Polls `via` until it refuses the token, for at most PROPAGATION_MS. */
  async function refusedWithin(via: Instance, token: string) {
    return within(PROPAGATION_MS, async () => (await me(via, token)).status === 401);
  }

  describe('session revocation reaches every instance', () => {
    it('logout through A: B refuses that token within the propagation bound; another session still works on B', async () => {
      const account = await register(a);
      const other = await signIn(b, account.username);
      expect((await me(b, account.accessToken)).status).toBe(200);

      expect((await a.call('POST', '/auth/logout', { token: account.accessToken })).status).toBe(204);

      const propagation = await refusedWithin(b, account.accessToken);
      expect(propagation, `B still accepted the token after ${Math.round(propagation.elapsedMs)} ms`).toMatchObject({ ok: true });
      expect(propagation.elapsedMs).toBeLessThan(PROPAGATION_MS);
      const refused = await me(b, account.accessToken);
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('UNAUTHENTICATED');
      expect((await me(a, account.accessToken)).status).toBe(401);
      // Its refresh token is dead on either instance.
      expect((await refresh(b, account.refreshToken)).status).toBe(401);

      // The same user's other session is untouched, on both.
      expect((await me(b, other.accessToken)).status).toBe(200);
      expect((await me(a, other.accessToken)).status).toBe(200);
    });

    it('revokeSession through A: B refuses the revoked session within the bound; the others still work on B', async () => {
      const account = await register(a);
      const onB = await signIn(b, account.username);
      const third = await signIn(a, account.username);
      expect((await me(b, onB.accessToken)).status).toBe(200);

      const revoke = await a.call('DELETE', `/auth/sessions/${onB.sessionId}`, { token: account.accessToken });
      expect(revoke.status).toBe(204);

      const propagation = await refusedWithin(b, onB.accessToken);
      expect(propagation, `B still accepted the token after ${Math.round(propagation.elapsedMs)} ms`).toMatchObject({ ok: true });
      expect(propagation.elapsedMs).toBeLessThan(PROPAGATION_MS);
      expect((await me(b, onB.accessToken)).body.code).toBe('UNAUTHENTICATED');
      expect((await me(a, onB.accessToken)).status).toBe(401);

      expect((await me(b, account.accessToken)).status).toBe(200);
      expect((await me(b, third.accessToken)).status).toBe(200);
      const sessions = await b.call('GET', '/auth/sessions', { token: third.accessToken });
      expect(sessions.status).toBe(200);
      expect(sessions.body.data.map((s: { id: string }) => s.id).sort()).toEqual([account.sessionId, third.sessionId].sort());
    });
  });

  describe('login failures count once across instances', () => {
    it('3 failures via A + 2 via B (as the same normalized name): the 6th via either is 429 with Retry-After', async () => {
      const account = await register(a);
      const ip = '10.42.0.1';
      for (let i = 0; i < 3; i++) expect((await login(a, account.username, 'wrong password!', ip)).status).toBe(401);
      // Upper case is the same name after normalization, so the same counter.
      for (let i = 0; i < 2; i++) expect((await login(b, account.username.toUpperCase(), 'wrong password!', ip)).status).toBe(401);

      // The counter lives in Redis under this run's prefix, not in either process.
      expect((await run.keys()).some((key) => key.startsWith(`${prefix}rl:login`))).toBe(true);

      for (const [via, name] of [
        [b, 'B'],
        [a, 'A'],
      ] as const) {
        const limited = await login(via, account.username, 'wrong password!', ip);
        expect({ via: name, status: limited.status, code: limited.body.code }).toEqual({ via: name, status: 429, code: 'RATE_LIMITED' });
        const retryAfter = Number(limited.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThan(800);
        expect(retryAfter).toBeLessThanOrEqual(900);
        expect(limited.headers.get('ratelimit')).toMatch(/^"login";r=0;t=\d+$/);
        // Even the right password waits now, on either instance.
        expect((await login(via, account.username, password, ip)).status).toBe(429);
      }
      // Another address is not locked out.
      expect((await login(b, account.username, password, '10.42.0.2')).status).toBe(200);
    });

    it('a success on one instance resets the count the other instance sees', async () => {
      const account = await register(a);
      const ip = '10.43.0.1';
      for (let i = 0; i < 4; i++) expect((await login(a, account.username, 'wrong password!', ip)).status).toBe(401);
      expect((await login(b, account.username, password, ip)).status).toBe(200);
      for (let i = 0; i < 5; i++) expect((await login(a, account.username, 'wrong password!', ip)).status).toBe(401);
      expect((await login(b, account.username, 'wrong password!', ip)).status).toBe(429);
    });
  });

  describe('refresh-token rotation across instances', () => {
    it('rotate through A, reuse the old token through B: 401, and the family is revoked on both', async () => {
      const account = await register(a);
      const bystander = await signIn(b, account.username);

      const rotated = await refresh(a, account.refreshToken);
      expect(rotated.status).toBe(200);
      const fresh = rotated.body.data as SessionTokens;
      expect(fresh.sessionId).toBe(account.sessionId);
      expect((await me(b, fresh.accessToken)).status).toBe(200);

      const replay = await refresh(b, account.refreshToken);
      expect(replay.status).toBe(401);
      expect(replay.body.code).toBe('UNAUTHENTICATED');
      expect(b.test.logLines.some((l) => l.security === 'refresh_token_reuse' && l.sessionId === account.sessionId)).toBe(true);

      // B detected the reuse, so B refuses at once; A learns it through Redis.
      expect((await me(b, fresh.accessToken)).status).toBe(401);
      const propagation = await refusedWithin(a, fresh.accessToken);
      expect(propagation, `A still accepted the token after ${Math.round(propagation.elapsedMs)} ms`).toMatchObject({ ok: true });
      expect(propagation.elapsedMs).toBeLessThan(PROPAGATION_MS);
      for (const via of [a, b]) {
        expect((await me(via, account.accessToken)).status).toBe(401);
        expect((await me(via, fresh.accessToken)).status).toBe(401);
      }
      // The newest refresh token of the family is dead too, through either instance.
      expect((await refresh(a, fresh.refreshToken)).status).toBe(401);
      expect((await refresh(b, fresh.refreshToken)).status).toBe(401);

      // Only that family: the user's other session lives on.
      expect((await me(a, bystander.accessToken)).status).toBe(200);
      expect((await me(b, bystander.accessToken)).status).toBe(200);
      expect((await refresh(a, bystander.refreshToken)).status).toBe(200);
    });
  });

  describe('an instance started after a revocation', () => {
    it('refuses the revoked sessions from its first request: it loads recent revocations from the database', async () => {
      const account = await register(a);
      const revokedOnB = await signIn(b, account.username);
      const live = await signIn(b, account.username);
      expect((await a.call('POST', '/auth/logout', { token: account.accessToken })).status).toBe(204);
      expect((await b.call('DELETE', `/auth/sessions/${revokedOnB.sessionId}`, { token: live.accessToken })).status).toBe(204);

      // No Redis for the latecomer: it missed every message, so only the database can tell it.
      const late = await instance('C', false);
      for (const token of [account.accessToken, revokedOnB.accessToken]) {
        const res = await me(late, token);
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('UNAUTHENTICATED');
      }
      expect((await me(late, live.accessToken)).status).toBe(200);
    });
  });
});
