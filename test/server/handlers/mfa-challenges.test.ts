import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { SignJWT } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { currentTotp } from '../../../server/auth/totp';
import type { Database } from '../../../server/db/database';
import { MFA_ACCOUNT_MAX_FAILURES, MFA_CHALLENGE_MAX_FAILURES } from '../../../server/services/sessions';
import { createTestApp, TEST_SECRET } from '../../support/app';
import { describeOnServerBackend } from '../../support/database';

/**
 * The second step of an MFA sign-in cannot be brute-forced: a challenge is single-use, dies after
 * MFA_CHALLENGE_MAX_FAILURES wrong codes, and an account takes MFA_ACCOUNT_MAX_FAILURES wrong codes
 * over all its challenges and addresses. The state is in the database: two instances share it.
 */
const password = 'milonga de los jueves en canning';

describeOnServerBackend('MFA challenges', (backend) => {
  let database: Database;
  let a: Awaited<ReturnType<typeof createTestApp>>;
  let b: Awaited<ReturnType<typeof createTestApp>>;

  beforeAll(async () => {
    database = await backend.open();
    // Two instances on one database, as behind a load balancer (each with its own rate-limit memory).
    a = await createTestApp(database, { TRUST_PROXY: 'loopback' });
    b = await createTestApp(database, { TRUST_PROXY: 'loopback' });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.close();
  });

  // Every request from an address of its own, so the per-address limits stay out of the way:
  // what is tested here is what holds however many addresses an attacker has.
  let nextAddress = 0;
  const freshAddress = () => `10.66.${Math.floor(++nextAddress / 250)}.${nextAddress % 250}`;
  const api = (instance = a) => request(instance.app);

  async function withMfa() {
    const username = `dancer-${randomUUID().slice(0, 8)}`;
    const registered = await api()
      .post('/api/v1/auth/register')
      .set('X-Forwarded-For', freshAddress())
      .send({ username, password, displayName: 'Test Dancer' });
    expect(registered.status).toBe(201);
    const auth = { Authorization: `Bearer ${registered.body.data.accessToken}` };
    const secret: string = (await api().post('/api/v1/auth/mfa/enroll').set(auth)).body.data.secret;
    const confirmed = await api()
      .post('/api/v1/auth/mfa/confirm')
      .set(auth)
      .send({ code: currentTotp(secret), currentPassword: password });
    expect(confirmed.status).toBe(200);
    return {
      username,
      userId: registered.body.data.user.id as string,
      secret,
      recoveryCodes: confirmed.body.data.recoveryCodes as string[],
    };
  }

  async function challenge(username: string, instance = a): Promise<string> {
    const res = await api(instance).post('/api/v1/auth/login').set('X-Forwarded-For', freshAddress()).send({ username, password });
    expect(res.body.data?.status).toBe('mfa_required');
    return res.body.data.challenge.mfaToken;
  }

  const verify = (body: { mfaToken: string; code?: string; recoveryCode?: string }, instance = a) =>
    api(instance).post('/api/v1/auth/login/mfa').set('X-Forwarded-For', freshAddress()).send(body);

  /** A code that is not the right one now (nor in the steps around now). */
  function wrongCode(secret: string): string {
    const valid = new Set([-30_000, 0, 30_000].map((offset) => currentTotp(secret, Date.now() + offset)));
    for (let i = 0; ; i++) {
      const code = String(i).padStart(6, '0');
      if (!valid.has(code)) return code;
    }
  }

  it('a challenge gives one session: answered once, it is spent (on every instance)', async () => {
    const { username, recoveryCodes } = await withMfa();
    const mfaToken = await challenge(username);
    expect((await verify({ mfaToken, recoveryCode: recoveryCodes[0] })).status).toBe(200);
    for (const instance of [a, b]) {
      const again = await verify({ mfaToken, recoveryCode: recoveryCodes[1] }, instance);
      expect(again.status).toBe(401);
      expect(again.body.code).toBe('MFA_CHALLENGE_EXPIRED');
    }
    // The unused code still works with a new challenge.
    expect((await verify({ mfaToken: await challenge(username), recoveryCode: recoveryCodes[1] })).status).toBe(200);
  });

  it('two right answers to one challenge at once: one session', async () => {
    const { username, recoveryCodes } = await withMfa();
    const mfaToken = await challenge(username);
    const results = await Promise.all([
      verify({ mfaToken, recoveryCode: recoveryCodes[0] }, a),
      verify({ mfaToken, recoveryCode: recoveryCodes[1] }, b),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    expect(results.find((r) => r.status === 401)!.body.code).toBe('MFA_CHALLENGE_EXPIRED');
  });

  it(`a challenge dies after ${MFA_CHALLENGE_MAX_FAILURES} wrong codes, even from as many addresses and instances`, async () => {
    const { username, secret, recoveryCodes } = await withMfa();
    const mfaToken = await challenge(username);
    for (let i = 1; i <= MFA_CHALLENGE_MAX_FAILURES; i++) {
      const wrong = await verify({ mfaToken, code: wrongCode(secret) }, i % 2 ? a : b);
      expect(wrong.status).toBe(401);
      expect(wrong.body.code).toBe('INVALID_MFA_CODE');
      expect(wrong.body.detail).toContain(i < MFA_CHALLENGE_MAX_FAILURES ? `${MFA_CHALLENGE_MAX_FAILURES - i} more` : 'sign in again');
    }
    const right = await verify({ mfaToken, recoveryCode: recoveryCodes[0] });
    expect(right.status).toBe(401);
    expect(right.body.code).toBe('MFA_CHALLENGE_EXPIRED');
    expect(a.logLines.some((l) => l.security === 'mfa_failed' && l.userId !== undefined)).toBe(true);
  });

  it('a burst of wrong codes on one challenge gets no more tries than the limit', async () => {
    const { username, secret } = await withMfa();
    const mfaToken = await challenge(username);
    const code = wrongCode(secret);
    const results = await Promise.all(
      Array.from({ length: 4 * MFA_CHALLENGE_MAX_FAILURES }, (_, i) => verify({ mfaToken, code }, i % 2 ? a : b)),
    );
    const codes = results.map((r) => r.body.code);
    expect(codes.filter((c) => c === 'INVALID_MFA_CODE')).toHaveLength(MFA_CHALLENGE_MAX_FAILURES);
    expect(codes.filter((c) => c === 'MFA_CHALLENGE_EXPIRED')).toHaveLength(3 * MFA_CHALLENGE_MAX_FAILURES);
  });

  it(`an account takes ${MFA_ACCOUNT_MAX_FAILURES} wrong codes over all its challenges and addresses, then 429 even for the right code`, async () => {
    const { username, secret, recoveryCodes } = await withMfa();
    // New challenges from new addresses, each short of its own limit: the account's count still adds up.
    const perChallenge = MFA_CHALLENGE_MAX_FAILURES - 1;
    for (let failures = 0; failures < MFA_ACCOUNT_MAX_FAILURES; ) {
      const mfaToken = await challenge(username, failures % 2 ? a : b);
      for (let i = 0; i < perChallenge && failures < MFA_ACCOUNT_MAX_FAILURES; i++, failures++) {
        const wrong = await verify({ mfaToken, code: wrongCode(secret) }, i % 2 ? a : b);
        expect(wrong.body.code).toBe('INVALID_MFA_CODE');
      }
    }
    const locked = await verify({ mfaToken: await challenge(username), recoveryCode: recoveryCodes[0] });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('RATE_LIMITED');
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(locked.headers.ratelimit).toMatch(/^"mfa-account";r=0;t=\d+$/);
    expect(a.logLines.some((l) => l.security === 'mfa_locked')).toBe(true);
    const audited = await database.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM audit_log WHERE kind = 'mfa_locked'`);
    expect(audited.rows[0]!.n).toBeGreaterThanOrEqual(1);

    // Once the failures are older than the window, the right code works again (the recovery code was not spent).
    await database.db.execute(
      sql`UPDATE mfa_challenges SET last_failed_at = now() - interval '16 minutes' WHERE last_failed_at IS NOT NULL AND user_id = (SELECT id FROM users WHERE username = ${username})`,
    );
    expect((await verify({ mfaToken: await challenge(username), recoveryCode: recoveryCodes[0] })).status).toBe(200);
  });

  it('refuses an expired challenge, a forged one, and one naming another challenge, with MFA_CHALLENGE_EXPIRED', async () => {
    const { username, userId, recoveryCodes } = await withMfa();
    const mfaToken = await challenge(username);
    const jti = JSON.parse(Buffer.from(mfaToken.split('.')[1]!, 'base64url').toString()).jti as string;
    await database.db.execute(sql`UPDATE mfa_challenges SET expires_at = now() - interval '1 second' WHERE id = ${jti}`);
    const expired = await verify({ mfaToken, recoveryCode: recoveryCodes[0] });
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('MFA_CHALLENGE_EXPIRED');

    const sign = (claims: { sub: string; jti?: string }, key = TEST_SECRET) => {
      let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'mfa+jwt' }).setSubject(claims.sub);
      if (claims.jti) jwt = jwt.setJti(claims.jti);
      return jwt.setIssuer(a.config.JWT_ISSUER).setAudience(a.config.JWT_AUDIENCE).setIssuedAt().setExpirationTime('5m').sign(key);
    };
    const other = await withMfa();
    const othersJti = JSON.parse(Buffer.from((await challenge(other.username)).split('.')[1]!, 'base64url').toString()).jti as string;
    const tokens = {
      noChallenge: await sign({ sub: userId }),
      unknownChallenge: await sign({ sub: userId, jti: randomUUID() }),
      notAUuid: await sign({ sub: userId, jti: 'challenge-1' }),
      anotherUsersChallenge: await sign({ sub: userId, jti: othersJti }),
      wrongKey: await sign({ sub: userId, jti }, new TextEncoder().encode('another-secret-that-is-at-least-32-bytes!!')),
    };
    for (const [name, token] of Object.entries(tokens)) {
      const res = await verify({ mfaToken: token, recoveryCode: recoveryCodes[1] });
      expect({ name, status: res.status, code: res.body.code }).toEqual({ name, status: 401, code: 'MFA_CHALLENGE_EXPIRED' });
    }
    // None of these spent the code.
    expect((await verify({ mfaToken: await challenge(username), recoveryCode: recoveryCodes[1] })).status).toBe(200);
  });
});
