import { createHmac } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, createTokenSigner, createTokenVerifier, MIN_SECRET_BYTES } from '../../../runtime/server';
import { AUDIENCE, createFixture, expectProblem, ISSUER, SECRET } from './fixture';

const fixture = createFixture();
const { app, probe } = fixture;

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token like the real ones, with each part overridable. */
function forge(options: {
  alg?: string;
  typ?: string;
  secret?: Uint8Array;
  issuer?: string;
  audience?: string;
  sub?: string | null;
  iat?: number;
  exp?: number | null;
  roles?: string[];
  sid?: unknown;
  jti?: unknown;
}): Promise<string> {
  const claims: Record<string, unknown> = { roles: options.roles ?? ['user'], sid: 'session-1', jti: 'token-1' };
  for (const claim of ['sid', 'jti'] as const) {
    if (claim in options) claims[claim] = options[claim];
    if (claims[claim] === undefined) delete claims[claim];
  }
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: options.typ ?? 'at+jwt' })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt(options.iat ?? now());
  if (options.sub !== null) jwt = jwt.setSubject(options.sub ?? 'user-1');
  if (options.exp !== null) jwt = jwt.setExpirationTime(options.exp ?? now() + 600);
  return jwt.sign(options.secret ?? SECRET);
}

/** A hand-made HS256 token: header and payload exactly as given, signed with the real secret. */
function handMade(header: object, payload: object): string {
  const signingInput = `${b64(header)}.${b64(payload)}`;
  return `${signingInput}.${createHmac('sha256', SECRET).update(signingInput).digest('base64url')}`;
}

const validClaims = () => ({
  sub: 'user-1',
  roles: ['user'],
  sid: 'session-1',
  jti: 'token-1',
  iss: ISSUER,
  aud: AUDIENCE,
  iat: now(),
  exp: now() + 600,
});

const attacks: [string, () => Promise<string | undefined> | string | undefined][] = [
  ['no Authorization header', () => undefined],
  ['a malformed header (Basic)', () => 'Basic dXNlcjpwYXNz'],
  ['a malformed header (Bearer without a token)', () => 'Bearer '],
  ['a malformed header (token without scheme)', async () => fixture.token()],
  ['a bearer token that is not a JWT', () => 'Bearer not-a-jwt'],
  [
    'a token signed with the wrong key',
    async () => `Bearer ${await forge({ secret: new TextEncoder().encode('another-secret-that-is-at-least-32-bytes') })}`,
  ],
  ['an unsecured token (alg: none) from jose', () => `Bearer ${new UnsecuredJWT(validClaims()).setSubject('user-1').encode()}`],
  ['a hand-made alg: none token with typ at+jwt', () => `Bearer ${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(validClaims())}.`],
  ['a token with typ JWT', async () => `Bearer ${await forge({ typ: 'JWT' })}`],
  ['a token with typ refresh+jwt', async () => `Bearer ${await forge({ typ: 'refresh+jwt' })}`],
  ['a hand-made token without typ', () => `Bearer ${handMade({ alg: 'HS256' }, validClaims())}`],
  [
    'a token whose payload was tampered with (roles: admin)',
    async () => {
      const [header, , signature] = (await fixture.token('user-1', ['user'])).split('.');
      return `Bearer ${header}.${b64({ ...validClaims(), roles: ['admin'] })}.${signature}`;
    },
  ],
  ['a token from the wrong issuer', async () => `Bearer ${await forge({ issuer: 'https://evil.example.test' })}`],
  ['a token for the wrong audience', async () => `Bearer ${await forge({ audience: 'another-api' })}`],
  ['a token signed with HS512 instead of HS256', async () => `Bearer ${await forge({ alg: 'HS512' })}`],
  ['a token without sub', async () => `Bearer ${await forge({ sub: null })}`],
  ['a token without exp', async () => `Bearer ${await forge({ exp: null })}`],
  // Without a session it could not be revoked; without an id it could not be told apart.
  ['a token without sid', async () => `Bearer ${await forge({ sid: undefined })}`],
  ['a token without jti', async () => `Bearer ${await forge({ jti: undefined })}`],
  ['a token with an empty sid', async () => `Bearer ${await forge({ sid: '' })}`],
  ['a token with a numeric sid', async () => `Bearer ${await forge({ sid: 42 })}`],
  ['a token with a numeric jti', async () => `Bearer ${await forge({ jti: 42 })}`],
  // Older than the access-token lifetime (15 minutes by default), whatever exp says, but with a bad signature.
  [
    'an over-age token with a bad signature',
    async () =>
      `Bearer ${await forge({ iat: now() - 3600, exp: now() + 3600, secret: new TextEncoder().encode('another-secret-that-is-at-least-32-bytes') })}`,
  ],
  [
    'an expired token with a bad signature',
    async () =>
      `Bearer ${await forge({ iat: now() - 7200, exp: now() - 3600, secret: new TextEncoder().encode('another-secret-that-is-at-least-32-bytes') })}`,
  ],
  [
    'an expired token from the wrong issuer',
    async () => `Bearer ${await forge({ iat: now() - 7200, exp: now() - 3600, issuer: 'https://evil.example.test' })}`,
  ],
  [
    'an expired token with typ refresh+jwt',
    async () => `Bearer ${await forge({ iat: now() - 7200, exp: now() - 3600, typ: 'refresh+jwt' })}`,
  ],
];

async function call(path: string, authorization: string | undefined) {
  const req = request(app).get(path);
  if (authorization !== undefined) req.set('Authorization', authorization);
  return req;
}

describe('authentication on an auth: user endpoint', () => {
  it('lets a valid token through and hands the handler ctx.user', async () => {
    const res = await call('/api/v1/me', `Bearer ${await fixture.token('user-42', ['user', 'editor'])}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { id: 'user-42', roles: ['user', 'editor'] } });
    expect(probe.users.whoAmI).toMatchObject({ id: 'user-42', roles: ['user', 'editor'] });
  });

  it.each(attacks)('answers %s with 401 UNAUTHENTICATED and the same body shape and detail', async (_name, make) => {
    const baseline = await call('/api/v1/me', undefined);
    const baselineBody = expectProblem(baseline, 401, 'UNAUTHENTICATED');

    const res = await call('/api/v1/me', await make());
    const body = expectProblem(res, 401, 'UNAUTHENTICATED');
    expect(Object.keys(body).sort()).toEqual(Object.keys(baselineBody).sort());
    expect(body.detail).toBe(baselineBody.detail);
    expect(body.title).toBe(baselineBody.title);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('accepts the Bearer scheme in any letter case', async () => {
    const res = await call('/api/v1/me', `bEARER ${await fixture.token('user-7', ['user'])}`);
    expect(res.status).toBe(200);
  });

  it('answers an authentic but expired token with 401 TOKEN_EXPIRED in the same shape', async () => {
    const baselineBody = expectProblem(await call('/api/v1/me', undefined), 401, 'UNAUTHENTICATED');
    const res = await call('/api/v1/me', `Bearer ${await forge({ iat: now() - 7200, exp: now() - 3600 })}`);
    const body = expectProblem(res, 401, 'TOKEN_EXPIRED');
    expect(Object.keys(body).sort()).toEqual(Object.keys(baselineBody).sort());
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('answers an authentic token older than the access-token lifetime with TOKEN_EXPIRED, whatever its exp says', async () => {
    // The default lifetime is 15 minutes: this one was issued 16 minutes ago and claims a day.
    const res = await call('/api/v1/me', `Bearer ${await forge({ iat: now() - 16 * 60, exp: now() + 86_400 })}`);
    expectProblem(res, 401, 'TOKEN_EXPIRED');
    expect((await call('/api/v1/me', `Bearer ${await forge({ iat: now() - 14 * 60, exp: now() + 86_400 })}`)).status).toBe(200);
  });

  it('takes the maximum age from maxAgeSeconds', async () => {
    const short = createFixture({ auth: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE, maxAgeSeconds: 60 } });
    const me = async (iat: number) =>
      request(short.app)
        .get('/api/v1/me')
        .set('Authorization', `Bearer ${await forge({ iat, exp: iat + 900 })}`);
    expectProblem(await me(now() - 120), 401, 'TOKEN_EXPIRED');
    expect((await me(now() - 30)).status).toBe(200);
  });

  it("allows an iat a few seconds ahead (another instance's clock), and no more", async () => {
    expect((await call('/api/v1/me', `Bearer ${await forge({ iat: now() + 2 })}`)).status).toBe(200);
    expectProblem(await call('/api/v1/me', `Bearer ${await forge({ iat: now() + 60 })}`), 401, 'UNAUTHENTICATED');
  });

  it('allows no leeway on exp: a token is expired from its exp on', async () => {
    expectProblem(await call('/api/v1/me', `Bearer ${await forge({ iat: now() - 60, exp: now() })}`), 401, 'TOKEN_EXPIRED');
  });

  it('hands the handler the session of the token', async () => {
    const res = await call('/api/v1/me', `Bearer ${await forge({ sid: 'session-77' })}`);
    expect(res.status).toBe(200);
    expect(probe.users.whoAmI).toMatchObject({ id: 'user-1', sessionId: 'session-77' });
  });

  it('does not call the handler for a refused token', async () => {
    probe.users.whoAmI = null;
    await call('/api/v1/me', `Bearer ${await forge({ alg: 'HS512' })}`);
    expect(probe.users.whoAmI).toBeNull();
  });
});

describe('roles', () => {
  it('answers a user token on an admin endpoint with 403 FORBIDDEN', async () => {
    const res = await call('/api/v1/admin/stats', `Bearer ${await fixture.token('user-1', ['user'])}`);
    expectProblem(res, 403, 'FORBIDDEN');
  });

  it('lets an admin token through', async () => {
    const res = await call('/api/v1/admin/stats', `Bearer ${await fixture.token('admin-1', ['admin'])}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { ok: true } });
    expect(probe.users.adminStats).toMatchObject({ id: 'admin-1', roles: ['admin'] });
  });

  it('answers no token on an admin endpoint with 401, not 403', async () => {
    expectProblem(await call('/api/v1/admin/stats', undefined), 401, 'UNAUTHENTICATED');
  });

  it('does not trust roles from a tampered payload', async () => {
    const [header, , signature] = (await fixture.token('user-1', ['user'])).split('.');
    const res = await call('/api/v1/admin/stats', `Bearer ${header}.${b64({ ...validClaims(), roles: ['admin'] })}.${signature}`);
    expectProblem(res, 401, 'UNAUTHENTICATED');
  });
});

describe('public endpoints', () => {
  it('ignore a bad token', async () => {
    const res = await call('/api/v1/ping', 'Bearer not-a-jwt');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { user: null } });
  });

  it('ignore an expired token', async () => {
    const res = await call('/api/v1/ping', `Bearer ${await forge({ iat: now() - 7200, exp: now() - 3600 })}`);
    expect(res.status).toBe(200);
  });

  it('work without a token', async () => {
    const res = await call('/api/v1/ping', undefined);
    expect(res.status).toBe(200);
    expect(probe.users.ping).toBeNull();
  });
});

describe('revocation hook', () => {
  it('answers a valid token with 401 when isRevoked returns true, passing it the user and iat', async () => {
    const isRevoked = vi.fn(() => true);
    const revoking = createFixture({ auth: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE, isRevoked } });
    const before = now();
    const token = await revoking.token('user-7', ['user']);
    const res = await request(revoking.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`);
    const body = expectProblem(res, 401, 'UNAUTHENTICATED');
    const baseline = await request(revoking.app).get('/api/v1/me');
    expect(body.detail).toBe(baseline.body.detail);
    expect(isRevoked).toHaveBeenCalledTimes(1);
    const [user, iat] = isRevoked.mock.calls[0] as unknown as [{ id: string }, number];
    expect(user.id).toBe('user-7');
    expect(iat).toBeGreaterThanOrEqual(before - 1);
    expect(revoking.probe.users.whoAmI).toBeUndefined();
  });

  it('lets the token through when isRevoked returns false (also async)', async () => {
    const lenient = createFixture({ auth: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE, isRevoked: async () => false } });
    const res = await request(lenient.app)
      .get('/api/v1/me')
      .set('Authorization', `Bearer ${await lenient.token('user-8')}`);
    expect(res.status).toBe(200);
  });
});

describe('signing secrets', () => {
  const short = new Uint8Array(MIN_SECRET_BYTES - 1);
  const settings = { issuer: ISSUER, audience: AUDIENCE };

  it(`refuses a secret under ${MIN_SECRET_BYTES} bytes to the verifier, the signer and the app`, () => {
    expect(() => createTokenVerifier({ ...settings, secret: short })).toThrow(ConfigError);
    expect(() => createTokenSigner({ ...settings, secret: short, ttlSeconds: 900 })).toThrow(/at least 32/);
    expect(() => createFixture({ auth: { ...settings, secret: short } })).toThrow(ConfigError);
    expect(() => createTokenVerifier({ ...settings, secret: new Uint8Array(MIN_SECRET_BYTES) })).not.toThrow();
  });

  it('signs tokens that name their session and themselves', async () => {
    const signer = createTokenSigner({ ...settings, secret: SECRET, ttlSeconds: 900 });
    const [, payload] = (await signer.sign({ sub: 'user-1', sid: 'session-9' })).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'user-1', sid: 'session-9', jti: expect.any(String) });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
  });
});
