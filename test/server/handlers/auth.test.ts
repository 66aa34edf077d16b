import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { SignJWT, UnsecuredJWT } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentTotp } from '../../../server/auth/totp';
import type { Database } from '../../../server/db/database';
import { openServerDatabase } from '../../support/database';
import { createTestApp, TEST_SECRET } from '../../support/app';

let database: Database;
let test: Awaited<ReturnType<typeof createTestApp>>;
const password = 'milonga de los jueves en canning';

beforeAll(async () => {
  database = await openServerDatabase();
  // Behind a (test) proxy, so each simulated client can have its own address.
  test = await createTestApp(database, { TRUST_PROXY: 'loopback' });
});
afterAll(async () => {
  await test.close();
  await database.close();
});

const api = () => request(test.app);
const uniqueName = () => `dancer-${randomUUID().slice(0, 8)}`;
// Registration is rate-limited per address: every test account signs up from an address of its own.
let nextAddress = 0;
const freshAddress = () => `10.9.${Math.floor(++nextAddress / 250)}.${nextAddress % 250}`;

async function register(username = uniqueName(), body: Record<string, unknown> = {}) {
  const res = await api()
    .post('/api/v1/auth/register')
    .set('X-Forwarded-For', freshAddress())
    .send({ username, password, displayName: 'Test Dancer', ...body });
  expect(res.status).toBe(201);
  return { username, ...(res.body.data as { accessToken: string; refreshToken: string; sessionId: string; user: { id: string } }) };
}

const login = (username: string, pw = password, ip = '10.0.0.1') =>
  api().post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ username, password: pw });
const me = (token: string) => api().get('/api/v1/users/me').set('Authorization', `Bearer ${token}`);
const refresh = (refreshToken: string) => api().post('/api/v1/auth/refresh').send({ refreshToken });

describe('accounts and sessions', () => {
  it('register → login → getMe → refresh; reusing the old refresh token revokes the whole family', async () => {
    const account = await register();
    const signedIn = await login(account.username);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.data.status).toBe('authenticated');
    const session = signedIn.body.data;

    const profile = await me(session.accessToken);
    expect(profile.status).toBe(200);
    expect(profile.body.data).toMatchObject({ username: account.username, roles: ['user'], mfaEnabled: false });

    const rotated = await refresh(session.refreshToken);
    expect(rotated.status).toBe(200);
    expect(rotated.body.data.refreshToken).not.toBe(session.refreshToken);
    expect((await me(rotated.body.data.accessToken)).status).toBe(200);

    const replay = await refresh(session.refreshToken);
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('UNAUTHENTICATED');
    // The family is gone: the new refresh token and the new access token are refused too.
    expect((await refresh(rotated.body.data.refreshToken)).status).toBe(401);
    expect((await me(rotated.body.data.accessToken)).status).toBe(401);
    expect(test.logLines.some((l) => l.security === 'refresh_token_reuse' && l.sessionId === session.sessionId)).toBe(true);
    // And the admins see it in the audit log.
    const { rows } = await database.db.execute<{ kind: string; target_id: string; details: { sessionId: string } }>(
      sql`SELECT kind, target_id, details FROM audit_log WHERE kind = 'refresh_token_reuse' AND details->>'sessionId' = ${session.sessionId}`,
    );
    expect(rows).toHaveLength(1);
  });

  it('two parallel refreshes with one token: exactly one succeeds', async () => {
    const account = await register();
    const results = await Promise.all([refresh(account.refreshToken), refresh(account.refreshToken)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('logout: the access token is refused on the very next request', async () => {
    const account = await register();
    expect((await me(account.accessToken)).status).toBe(200);
    const out = await api().post('/api/v1/auth/logout').set('Authorization', `Bearer ${account.accessToken}`);
    expect(out.status).toBe(204);
    const after = await me(account.accessToken);
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('UNAUTHENTICATED');
    expect((await refresh(account.refreshToken)).status).toBe(401);
  });

  it('logoutAll from device A signs out device B', async () => {
    const account = await register();
    const deviceB = (await login(account.username)).body.data;
    const out = await api().post('/api/v1/auth/logout-all').set('Authorization', `Bearer ${account.accessToken}`);
    expect(out.status).toBe(204);
    expect((await me(deviceB.accessToken)).status).toBe(401);
    expect((await refresh(deviceB.refreshToken)).status).toBe(401);
    expect((await me(account.accessToken)).status).toBe(401);
  });

  it('lists sessions with the current one flagged, and revokes one of them', async () => {
    const account = await register();
    const other = (await login(account.username)).body.data;
    const list = await api().get('/api/v1/auth/sessions').set('Authorization', `Bearer ${account.accessToken}`);
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(2);
    const current = list.body.data.find((s: { current: boolean }) => s.current);
    expect(current.id).toBe(account.sessionId);
    expect(current).toMatchObject({ ip: expect.any(String), createdAt: expect.any(String), lastUsedAt: expect.any(String) });

    const revoke = await api().delete(`/api/v1/auth/sessions/${other.sessionId}`).set('Authorization', `Bearer ${account.accessToken}`);
    expect(revoke.status).toBe(204);
    expect((await me(other.accessToken)).status).toBe(401);
    expect((await me(account.accessToken)).status).toBe(200);
    const stranger = await register();
    const foreign = await api().delete(`/api/v1/auth/sessions/${account.sessionId}`).set('Authorization', `Bearer ${stranger.accessToken}`);
    expect(foreign.status).toBe(404);
  });

  it('changePassword signs out every other session and keeps this one', async () => {
    const account = await register();
    const other = (await login(account.username)).body.data;
    const change = await api()
      .post('/api/v1/auth/password')
      .set('Authorization', `Bearer ${account.accessToken}`)
      .send({ currentPassword: password, newPassword: 'a brand new tango passphrase' });
    expect(change.status).toBe(204);
    expect((await me(other.accessToken)).status).toBe(401);
    expect((await me(account.accessToken)).status).toBe(200);
    expect((await login(account.username)).status).toBe(401);
    expect((await login(account.username, 'a brand new tango passphrase')).status).toBe(200);
  });

  it('two changes from one current password at once: one wins, the other is told its current password is wrong', async () => {
    const account = await register();
    const change = (newPassword: string) =>
      api()
        .post('/api/v1/auth/password')
        .set('Authorization', `Bearer ${account.accessToken}`)
        .send({ currentPassword: password, newPassword });
    const results = await Promise.all([change('first of two new passphrases'), change('second of two new passphrases')]);
    expect(results.map((r) => r.status).sort()).toEqual([204, 401]);
    const won = results[0].status === 204 ? 'first of two new passphrases' : 'second of two new passphrases';
    const lost = results[0].status === 204 ? 'second of two new passphrases' : 'first of two new passphrases';
    expect((await login(account.username, won)).status).toBe(200);
    expect((await login(account.username, lost)).status).toBe(401);
  });
});

describe('login protection', () => {
  it('the 6th failed login within 15 minutes is 429 with Retry-After, RateLimit and RateLimit-Policy', async () => {
    const account = await register();
    for (let i = 0; i < 5; i++) expect((await login(account.username, 'wrong password!', '10.1.0.1')).status).toBe(401);
    const sixth = await login(account.username, 'wrong password!', '10.1.0.1');
    expect(sixth.status).toBe(429);
    expect(sixth.body.code).toBe('RATE_LIMITED');
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(800);
    expect(sixth.headers['ratelimit-policy']).toContain('"login";q=5;w=900');
    expect(sixth.headers.ratelimit).toMatch(/^"login";r=0;t=\d+$/);
    // Even the right password waits now; another address is not locked out.
    expect((await login(account.username, password, '10.1.0.1')).status).toBe(429);
    expect((await login(account.username, password, '10.1.0.2')).status).toBe(200);
    // The lockout is in the audit log, once however many attempts it refused, with the address.
    const { rows } = await database.db.execute<{ kind: string; actor_id: string | null; details: { ip: string } }>(
      sql`SELECT kind, actor_id, details FROM audit_log WHERE target_id = ${account.user.id}`,
    );
    expect(rows).toEqual([{ kind: 'login_locked', actor_id: null, details: { ip: '10.1.0.1' } }]);
  });

  it('a success before the limit resets the count', async () => {
    const account = await register();
    for (let i = 0; i < 4; i++) expect((await login(account.username, 'wrong password!', '10.2.0.1')).status).toBe(401);
    expect((await login(account.username, password, '10.2.0.1')).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await login(account.username, 'wrong password!', '10.2.0.1')).status).toBe(401);
    expect((await login(account.username, 'wrong password!', '10.2.0.1')).status).toBe(429);
  });

  it('a burst of parallel wrong passwords gets no more than 5 tries', async () => {
    const account = await register();
    const results = await Promise.all(Array.from({ length: 20 }, () => login(account.username, 'wrong password!', '10.4.0.1')));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  });

  it("a success resets the account's count but not the address's daily cap", async () => {
    // The daily cap is 100 failures per address: 99 spread over accounts (3 each, under the per-account 5).
    const victims = await Promise.all(Array.from({ length: 33 }, () => register()));
    // 99 Argon2 checks: the accounts side by side (the hashes run on libuv's threads), each account's three in turn.
    await Promise.all(
      victims.map(async (victim) => {
        for (let i = 0; i < 3; i++) expect((await login(victim.username, 'wrong password!', '10.5.0.1')).status).toBe(401);
      }),
    );
    const own = await register();
    expect((await login(own.username, password, '10.5.0.1')).status).toBe(200);
    // The success did not wipe the 99: one more failure is allowed, the next is refused, any account.
    const other = await register();
    expect((await login(other.username, 'wrong password!', '10.5.0.1')).status).toBe(401);
    const refused = await login(other.username, 'wrong password!', '10.5.0.1');
    expect(refused.status).toBe(429);
    expect(refused.headers.ratelimit).toMatch(/^"login-ip-daily";r=0;/);
  });

  it('unknown user and wrong password get an identical status and body', async () => {
    const account = await register();
    const unknown = await login(uniqueName(), 'wrong password!', '10.3.0.1');
    const wrong = await login(account.username, 'wrong password!', '10.3.0.2');
    const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(strip(unknown.body)).toEqual(strip(wrong.body));
    expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
    expect(test.logLines.filter((l) => l.security === 'login_failed' && l.ip === '10.3.0.2')).toHaveLength(1);
  });

  it('refuses alg none, a wrong key, an expired token, a refresh token as access token, and a tampered payload', async () => {
    const account = await register();
    const claims = { sub: account.user.id, sid: account.sessionId, roles: ['user'] };
    const signed = (key: Uint8Array, exp: number) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .setIssuer(test.config.JWT_ISSUER)
        .setAudience(test.config.JWT_AUDIENCE)
        .setIssuedAt(exp - 900)
        .setExpirationTime(exp)
        .setJti(randomUUID())
        .sign(key);
    const now = Math.floor(Date.now() / 1000);
    const [header, payload, signature] = account.accessToken.split('.') as [string, string, string];
    const tampered = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), roles: ['admin'] }),
    ).toString('base64url');
    const cases = {
      none: new UnsecuredJWT(claims)
        .setIssuer(test.config.JWT_ISSUER)
        .setAudience(test.config.JWT_AUDIENCE)
        .setExpirationTime('5m')
        .encode(),
      wrongKey: await signed(new TextEncoder().encode('another-secret-that-is-at-least-32-bytes!!'), now + 600),
      refreshAsAccess: account.refreshToken,
      tampered: `${header}.${tampered}.${signature}`,
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await me(token);
      expect({ name, status: res.status, code: res.body.code }).toEqual({ name, status: 401, code: 'UNAUTHENTICATED' });
    }
    const expired = await me(await signed(TEST_SECRET, now - 60));
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('TOKEN_EXPIRED');
  });
});

describe('hostile bodies', () => {
  it('a deeply nested body is refused as a client error, not a crash', async () => {
    const nested = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const res = await api()
      .post('/api/v1/auth/login')
      .set('Content-Type', 'application/json')
      .send(`{"username":"abc","password":"x","n":${nested},"s":"\\u0041"}`);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });
});

describe('registration rules', () => {
  it('refuses weak and common passwords with a field-level 400', async () => {
    // Too short is the contract's own bound (the spec states 8–128); the rest is the policy's.
    for (const [weak, code] of [
      ['short', 'too_small'],
      ['password123', 'weak_password'],
      ['qwertyuiop', 'weak_password'],
    ]) {
      const res = await api()
        .post('/api/v1/auth/register')
        .set('X-Forwarded-For', freshAddress())
        .send({ username: uniqueName(), password: weak, displayName: 'X' });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ path: '/body/password', code })]);
    }
  });

  it('ＡＤＭＩＮ cannot register beside admin, and logs in as the same name', async () => {
    const base = `adm${randomUUID().slice(0, 6)}`;
    await register(base);
    const fullwidth = [...base]
      .map((c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0))
      .join('')
      .toUpperCase();
    const clash = await api()
      .post('/api/v1/auth/register')
      .set('X-Forwarded-For', freshAddress())
      .send({ username: fullwidth, password, displayName: 'Impostor' });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('USERNAME_TAKEN');
    expect((await login(base.toUpperCase())).status).toBe(200);
  });
});

describe('MFA', () => {
  async function withMfa() {
    const account = await register();
    const auth = { Authorization: `Bearer ${account.accessToken}` };
    const enrolled = await api().post('/api/v1/auth/mfa/enroll').set(auth);
    expect(enrolled.status).toBe(200);
    expect(enrolled.body.data.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    const secret: string = enrolled.body.data.secret;
    // A stolen access token alone cannot turn MFA on: the password is asked again.
    const withoutPassword = await api()
      .post('/api/v1/auth/mfa/confirm')
      .set(auth)
      .send({ code: currentTotp(secret), currentPassword: 'not the password!' });
    expect(withoutPassword.status).toBe(401);
    expect(withoutPassword.body.code).toBe('INVALID_CREDENTIALS');
    const confirmed = await api()
      .post('/api/v1/auth/mfa/confirm')
      .set(auth)
      .send({ code: currentTotp(secret), currentPassword: password });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.data.recoveryCodes).toHaveLength(10);
    const { rows } = await database.db.execute<{ actor_id: string }>(
      sql`SELECT actor_id FROM audit_log WHERE kind = 'mfa_enabled' AND target_id = ${account.user.id}`,
    );
    expect(rows).toEqual([{ actor_id: account.user.id }]);
    return { account, secret, recoveryCodes: confirmed.body.data.recoveryCodes as string[] };
  }

  it('login answers with a challenge; tokens come only with a valid code', async () => {
    const { account, secret } = await withMfa();
    const first = await login(account.username);
    expect(first.status).toBe(200);
    expect(first.body.data.status).toBe('mfa_required');
    expect(first.body.data.accessToken).toBeUndefined();
    const { mfaToken } = first.body.data.challenge;

    // The challenge is no access token.
    expect((await me(mfaToken)).status).toBe(401);
    const wrong = await api().post('/api/v1/auth/login/mfa').send({ mfaToken, code: '000000' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('INVALID_MFA_CODE');
    // The confirm step used the current code: the next window's code is needed (no replay).
    const next = currentTotp(secret, Date.now() + 30_000);
    const ok = await api().post('/api/v1/auth/login/mfa').send({ mfaToken, code: next });
    expect(ok.status).toBe(200);
    expect((await me(ok.body.data.accessToken)).status).toBe(200);
    const replay = await api().post('/api/v1/auth/login/mfa').send({ mfaToken, code: next });
    expect(replay.status).toBe(401);
  });

  it('a recovery code works once', async () => {
    const { account, recoveryCodes } = await withMfa();
    const challenge = async () => (await login(account.username)).body.data.challenge.mfaToken as string;
    const code = recoveryCodes[0]!;
    expect(
      (
        await api()
          .post('/api/v1/auth/login/mfa')
          .send({ mfaToken: await challenge(), recoveryCode: code })
      ).status,
    ).toBe(200);
    const again = await api()
      .post('/api/v1/auth/login/mfa')
      .send({ mfaToken: await challenge(), recoveryCode: code });
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('INVALID_MFA_CODE');
  });
});
