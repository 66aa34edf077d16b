import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { currentTotp } from '../../../server/auth/totp';
import type { Database } from '../../../server/db/database';
import { createTestApp } from '../../support/app';
import { describeEachBackend } from '../../support/database';

/**
 * Every operation that writes more than once does so in one transaction: a failure at any step
 * after the first write leaves nothing behind, so the client's retry succeeds. Failures are
 * injected two ways: a token signer that throws (after every database write of the operation),
 * and a database trigger that refuses one write (`arm(table, op, match)`: the next such write of
 * a row whose JSON contains `match`).
 */
const FAULTS = [
  'CREATE TABLE test_faults (tbl text NOT NULL, op text NOT NULL, match text NOT NULL)',
  `CREATE FUNCTION test_fault() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE row_text text;
  BEGIN
    IF TG_OP = 'DELETE' THEN row_text := to_jsonb(OLD)::text; ELSE row_text := to_jsonb(NEW)::text; END IF;
    IF EXISTS (SELECT 1 FROM test_faults f WHERE f.tbl = TG_TABLE_NAME AND f.op = TG_OP AND position(f.match IN row_text) > 0) THEN
      RAISE EXCEPTION 'injected fault: % on %', TG_OP, TG_TABLE_NAME;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END $$`,
  ...['sessions', 'refresh_tokens', 'recovery_codes', 'users'].map(
    (table) => `CREATE TRIGGER ${table}_fault BEFORE INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION test_fault()`,
  ),
];

const password = 'milonga de los jueves en canning';
const newPassword = 'a brand new tango passphrase';

describeEachBackend('multi-write operations are atomic', (backend) => {
  let database: Database;
  let test: Awaited<ReturnType<typeof createTestApp>>;

  beforeAll(async () => {
    database = await backend.open();
    for (const statement of FAULTS) await database.db.execute(sql.raw(statement));
    test = await createTestApp(database, { TRUST_PROXY: 'loopback' });
  });
  afterAll(async () => {
    await test?.close();
    await database?.close();
  });
  afterEach(async () => {
    await database.db.execute(sql`DELETE FROM test_faults`);
    restoreSigner();
  });

  const arm = (table: string, op: 'INSERT' | 'UPDATE' | 'DELETE', match: string) =>
    database.db.execute(sql`INSERT INTO test_faults (tbl, op, match) VALUES (${table}, ${op}, ${match})`);

  let realTokens: (typeof test.services)['tokens'] | undefined;
  /** The access-token signer fails: the last step of every operation that hands out tokens. */
  function breakSigner() {
    realTokens = test.services.tokens;
    test.services.tokens = {
      ...realTokens,
      accessToken: async () => {
        throw new Error('injected fault: signer unavailable');
      },
    };
  }
  function restoreSigner() {
    if (realTokens) test.services.tokens = realTokens;
    realTokens = undefined;
  }

  const api = () => request(test.app);
  let nextAddress = 0;
  const freshAddress = () => `10.77.${Math.floor(++nextAddress / 250)}.${nextAddress % 250}`;
  const uniqueName = () => `dancer-${randomUUID().slice(0, 8)}`;
  const registerRaw = (username: string, device?: string) =>
    api()
      .post('/api/v1/auth/register')
      .set('X-Forwarded-For', freshAddress())
      .send({ username, password, displayName: 'Test Dancer', ...(device ? { device } : {}) });
  const login = (username: string, pw = password) =>
    api().post('/api/v1/auth/login').set('X-Forwarded-For', freshAddress()).send({ username, password: pw });
  const me = (token: string) => api().get('/api/v1/users/me').set('Authorization', `Bearer ${token}`);
  const refresh = (refreshToken: string) =>
    api().post('/api/v1/auth/refresh').set('X-Forwarded-For', freshAddress()).send({ refreshToken });
  const userCount = async (username: string) =>
    (await database.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM users WHERE username = ${username}`)).rows[0]!.n;

  async function register(username = uniqueName()) {
    const res = await registerRaw(username);
    expect(res.status).toBe(201);
    return { username, ...(res.body.data as { accessToken: string; refreshToken: string; sessionId: string; user: { id: string } }) };
  }

  describe('register', () => {
    it('a signer failure after the account and session rows leaves no account: the retry is 201, not 409', async () => {
      const username = uniqueName();
      breakSigner();
      const failed = await registerRaw(username);
      expect(failed.status).toBe(500);
      restoreSigner();
      expect(await userCount(username)).toBe(0);
      expect((await login(username)).status).toBe(401);
      const retry = await registerRaw(username);
      expect(retry.status).toBe(201);
      expect((await me(retry.body.data.accessToken)).status).toBe(200);
    });

    it('a failed session insert leaves no account', async () => {
      const username = uniqueName();
      const device = `fault-${randomUUID()}`;
      await arm('sessions', 'INSERT', device);
      expect((await registerRaw(username, device)).status).toBe(500);
      expect(await userCount(username)).toBe(0);
      expect((await registerRaw(username, device)).status).toBe(500);
      await database.db.execute(sql`DELETE FROM test_faults`);
      expect((await registerRaw(username, device)).status).toBe(201);
    });

    it('two registrations of one name at once: one 201, one 409', async () => {
      const username = uniqueName();
      const [a, b] = await Promise.all([registerRaw(username), registerRaw(username)]);
      expect([a.status, b.status].sort()).toEqual([201, 409]);
      expect(await userCount(username)).toBe(1);
    });
  });

  it('login: a signer failure opens no session', async () => {
    const account = await register();
    breakSigner();
    expect((await login(account.username)).status).toBe(500);
    restoreSigner();
    const sessions = await api().get('/api/v1/auth/sessions').set('Authorization', `Bearer ${account.accessToken}`);
    expect(sessions.body.data).toHaveLength(1);
  });

  it('refreshTokens: a failure after the rotation does not spend the refresh token (the retry is no reuse)', async () => {
    const account = await register();
    breakSigner();
    expect((await refresh(account.refreshToken)).status).toBe(500);
    restoreSigner();
    const retry = await refresh(account.refreshToken);
    expect(retry.status).toBe(200);
    expect((await me(retry.body.data.accessToken)).status).toBe(200);
    expect(test.logLines.some((l) => l.security === 'refresh_token_reuse' && l.sessionId === account.sessionId)).toBe(false);
  });

  it('changePassword: when signing out the other sessions fails, the password is unchanged', async () => {
    const account = await register();
    const other = (await login(account.username)).body.data;
    await arm('refresh_tokens', 'UPDATE', other.sessionId);
    const change = await api()
      .post('/api/v1/auth/password')
      .set('Authorization', `Bearer ${account.accessToken}`)
      .send({ currentPassword: password, newPassword });
    expect(change.status).toBe(500);
    expect((await login(account.username)).status).toBe(200);
    expect((await me(other.accessToken)).status).toBe(200);
  });

  it('logoutAll: a failure on one session signs out none, and the retry signs out all', async () => {
    const account = await register();
    const second = (await login(account.username)).body.data;
    const third = (await login(account.username)).body.data;
    await arm('refresh_tokens', 'UPDATE', third.sessionId);
    const out = () => api().post('/api/v1/auth/logout-all').set('Authorization', `Bearer ${account.accessToken}`);
    expect((await out()).status).toBe(500);
    const live = await database.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM sessions WHERE user_id = ${account.user.id} AND revoked_at IS NULL`,
    );
    expect(live.rows[0]!.n).toBe(3);
    await database.db.execute(sql`DELETE FROM test_faults`);
    expect((await out()).status).toBe(204);
    for (const token of [account.accessToken, second.accessToken, third.accessToken]) expect((await me(token)).status).toBe(401);
  });

  describe('with MFA', () => {
    async function withMfa() {
      const account = await register();
      const auth = { Authorization: `Bearer ${account.accessToken}` };
      const secret: string = (await api().post('/api/v1/auth/mfa/enroll').set(auth)).body.data.secret;
      const confirmed = await api()
        .post('/api/v1/auth/mfa/confirm')
        .set(auth)
        .send({ code: currentTotp(secret), currentPassword: password });
      expect(confirmed.status).toBe(200);
      return { account, auth, secret, recoveryCodes: confirmed.body.data.recoveryCodes as string[] };
    }

    it('verifyMfaLogin: a signer failure spends neither the recovery code nor the challenge', async () => {
      const { account, recoveryCodes } = await withMfa();
      const mfaToken = (await login(account.username)).body.data.challenge.mfaToken;
      breakSigner();
      const failed = await api().post('/api/v1/auth/login/mfa').send({ mfaToken, recoveryCode: recoveryCodes[0] });
      expect(failed.status).toBe(500);
      restoreSigner();
      const retry = await api().post('/api/v1/auth/login/mfa').send({ mfaToken, recoveryCode: recoveryCodes[0] });
      expect(retry.status).toBe(200);
    });

    it('disableMfa: a failure while turning MFA off does not spend the recovery code', async () => {
      const { account, auth, recoveryCodes } = await withMfa();
      await arm('users', 'UPDATE', account.username);
      // The proof's own write (spending the code) goes through; the next one fails.
      const failed = await api().post('/api/v1/auth/mfa/disable').set(auth).send({ recoveryCode: recoveryCodes[0] });
      expect(failed.status).toBe(500);
      await database.db.execute(sql`DELETE FROM test_faults`);
      const retry = await api().post('/api/v1/auth/mfa/disable').set(auth).send({ recoveryCode: recoveryCodes[0] });
      expect(retry.status).toBe(204);
      const audited = await database.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM audit_log WHERE kind = 'mfa_disabled'`);
      expect(audited.rows[0]!.n).toBe(1);
    });
  });
});
