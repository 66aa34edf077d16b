import { createHmac, randomBytes } from 'node:crypto';
import { decodeProtectedHeader, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createTokenSigner,
  createTokenVerifier,
  generateTokenKey,
  KEY_ALGORITHMS,
  type KeySet,
  parseKeySet,
  secretAsJwk,
  secretKeyId,
} from '../../../runtime/server';

/** Access-token keys: several at once, one signing, rotated by configuration; asymmetric ones published. */
const ISSUER = 'https://issuer.example.test';
const AUDIENCE = 'keys-test';
const SECRET = randomBytes(32);
const claims = { sub: 'user-1', roles: ['user'], sid: 'session-1' };

async function privateJwk(alg: 'EdDSA' | 'ES256', kid: string, ops?: string[]): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  return { ...(await exportJWK(privateKey)), kid, alg, ...(ops ? { key_ops: ops } : {}) };
}
const hsJwk = (kid: string, ops?: string[], bytes = 32): JWK => ({
  kty: 'oct',
  k: randomBytes(bytes).toString('base64url'),
  kid,
  alg: 'HS256',
  ...(ops ? { key_ops: ops } : {}),
});
const keySet = (keys: JWK[], secret?: Uint8Array) => parseKeySet(JSON.stringify({ keys }), { name: 'JWT_KEYS', secret });
const signer = (keys: KeySet) => createTokenSigner({ keys, issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 600 });
const verifier = (keys: KeySet) => createTokenVerifier({ keys, issuer: ISSUER, audience: AUDIENCE });
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (error: { code?: string }) => error.code,
  );

describe('rotating access-token keys', () => {
  it('keeps tokens of the previous key valid until it is retired, then refuses them', async () => {
    const first = await privateJwk('EdDSA', '2026-06');
    const second = await privateJwk('ES256', '2026-12');
    // Before: the first key alone. During: the second signs, the first still verifies. After: the first is gone.
    const before = await keySet([first]);
    const during = await keySet([
      { ...second, key_ops: ['sign'] },
      { ...first, key_ops: ['verify'] },
    ]);
    const after = await keySet([second]);

    const old = await signer(before).sign(claims);
    expect(decodeProtectedHeader(old)).toMatchObject({ alg: 'EdDSA', kid: '2026-06', typ: 'at+jwt' });
    const fresh = await signer(during).sign(claims);
    expect(decodeProtectedHeader(fresh)).toMatchObject({ alg: 'ES256', kid: '2026-12' });

    await expect(verifier(during).verify(old)).resolves.toMatchObject({ id: 'user-1', sessionId: 'session-1' });
    await expect(verifier(during).verify(fresh)).resolves.toMatchObject({ id: 'user-1' });
    await expect(verifier(after).verify(fresh)).resolves.toMatchObject({ id: 'user-1' });
    expect(await refusal(verifier(after).verify(old))).toBe('UNAUTHENTICATED');
  });

  it('pins each key to its algorithm: a token naming a key with another algorithm is refused', async () => {
    const ed = await privateJwk('EdDSA', 'ed');
    const hs = hsJwk('hs', ['verify']);
    const keys = await keySet([ed, hs]);
    const now = Math.floor(Date.now() / 1000);
    const token = (header: object, key: Uint8Array | CryptoKey | JWK) =>
      new SignJWT({ roles: ['user'], sid: 's', jti: 'j' })
        .setProtectedHeader({ typ: 'at+jwt', ...header } as unknown as { alg: string })
        .setSubject('user-1')
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(key as Uint8Array);
    const hsSecret = Buffer.from(hs.k!, 'base64url');
    // The right key and algorithm: accepted.
    expect(await refusal(verifier(keys).verify(await token({ alg: 'HS256', kid: 'hs' }, hsSecret)))).toBe('accepted');
    // The classic confusion: the EdDSA key's public bytes used as an HMAC secret, under its kid.
    const confused = `${Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'ed', typ: 'at+jwt' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub: 'user-1', roles: ['admin'], sid: 's', jti: 'j', iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600 }),
    ).toString('base64url')}`;
    const forged = `${confused}.${createHmac('sha256', Buffer.from(ed.x!, 'base64url')).update(confused).digest('base64url')}`;
    expect(await refusal(verifier(keys).verify(forged))).toBe('UNAUTHENTICATED');
    // The HS256 key's secret, with the EdDSA key's name.
    expect(await refusal(verifier(keys).verify(await token({ alg: 'HS256', kid: 'ed' }, hsSecret)))).toBe('UNAUTHENTICATED');
    // A key nobody configured, and a token that names none (no instance secret was given).
    expect(await refusal(verifier(keys).verify(await token({ alg: 'HS256', kid: 'other' }, hsSecret)))).toBe('UNAUTHENTICATED');
    expect(await refusal(verifier(keys).verify(await token({ alg: 'HS256' }, hsSecret)))).toBe('UNAUTHENTICATED');
  });

  it('checks tokens the instance secret signed (with or without its kid) only while JWT_KEYS lists it', async () => {
    const legacy = createTokenSigner({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 600 });
    const named = await legacy.sign(claims);
    expect(decodeProtectedHeader(named).kid).toBe(secretKeyId(SECRET));
    const now = Math.floor(Date.now() / 1000);
    const unnamed = await new SignJWT({ roles: ['user'], sid: 's', jti: 'j' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject('user-1')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(SECRET);
    const fresh = await privateJwk('EdDSA', 'new', ['sign']);
    // Listed (as `npm run new-jwt-key -- --from-secret` prints it), verify-only: its tokens still work.
    const moving = await keySet([fresh, { ...secretAsJwk(SECRET), key_ops: ['verify'] }], SECRET);
    expect(moving.signing.kid).toBe('new');
    expect(await refusal(verifier(moving).verify(named))).toBe('accepted');
    expect(await refusal(verifier(moving).verify(unnamed))).toBe('accepted');
    expect(decodeProtectedHeader(await signer(moving).sign(claims)).kid).toBe('new');
    // Not listed any more: retired like any key, whatever the instance secret still signs elsewhere.
    const moved = await keySet([fresh], SECRET);
    expect(await refusal(verifier(moved).verify(named))).toBe('UNAUTHENTICATED');
    expect(await refusal(verifier(moved).verify(unnamed))).toBe('UNAUTHENTICATED');
  });

  it('publishes the public halves of the asymmetric keys, verify-only ones included, and nothing else', async () => {
    const signing = await privateJwk('EdDSA', 'a', ['sign']);
    const previous = await privateJwk('ES256', 'b', ['verify']);
    // A verify-only key needs no private part.
    const { d: _d, ...previousPublic } = previous;
    const keys = await keySet([signing, previousPublic, hsJwk('c', ['verify'])], SECRET);
    expect(keys.jwks.keys.map((key) => key.kid)).toEqual(['a', 'b']);
    const text = JSON.stringify(keys.jwks);
    for (const secretPart of [signing.d, previous.d]) expect(text).not.toContain(secretPart);
    expect(text).not.toContain('"oct"');
    expect(keys.jwks.keys[0]).toEqual({ kty: 'OKP', crv: 'Ed25519', x: signing.x, kid: 'a', alg: 'EdDSA', use: 'sig' });
  });
});

describe('generateTokenKey (npm run new-jwt-key)', () => {
  it.each(KEY_ALGORITHMS)('makes a %s key JWT_KEYS takes, that signs tokens it then accepts', async (alg) => {
    const jwk = await generateTokenKey(alg, new Date('2026-12-03T10:00:00Z'));
    expect(jwk.kid).toMatch(new RegExp(`^${alg.toLowerCase()}-2026-12-03-[0-9a-f]{6}$`));
    const keys = await keySet([jwk]);
    const token = await signer(keys).sign(claims);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg, kid: jwk.kid });
    await expect(verifier(keys).verify(token)).resolves.toMatchObject({ id: 'user-1' });
    // Two keys are never the same.
    expect((await generateTokenKey(alg)).kid).not.toBe(jwk.kid);
  });
});

describe('JWT_KEYS refused at start, naming the key and never its material', () => {
  it.each<[string, () => Promise<string>, RegExp]>([
    ['not JSON', async () => 'keys', /JWT_KEYS is not JSON/],
    ['no keys', async () => JSON.stringify({ keys: [] }), /at least one key/],
    ['a key without kid', async () => JSON.stringify({ keys: [{ ...hsJwk('x'), kid: undefined }] }), /key 1 needs a "kid"/],
    ['a kid twice', async () => JSON.stringify({ keys: [hsJwk('x', ['sign']), hsJwk('x', ['verify'])] }), /key "x" appears twice/],
    [
      'an algorithm outside the list',
      async () => JSON.stringify({ keys: [{ ...hsJwk('x'), alg: 'none' }] }),
      /needs an "alg" of HS256, EdDSA, ES256/,
    ],
    ['a key of another type than its alg', async () => JSON.stringify({ keys: [{ ...hsJwk('x'), alg: 'EdDSA' }] }), /is not a EdDSA key/],
    ['two signing keys', async () => JSON.stringify({ keys: [hsJwk('x', ['sign']), hsJwk('y', ['sign'])] }), /"y" signs, and so does "x"/],
    ['no signing key', async () => JSON.stringify({ keys: [hsJwk('x', ['verify'])] }), /no signing key/],
    ['a short HS256 key', async () => JSON.stringify({ keys: [hsJwk('x', undefined, 16)] }), /is 16 bytes: an HS256 key needs at least 32/],
    [
      'an HS256 key that is not base64url',
      async () => JSON.stringify({ keys: [{ ...hsJwk('x'), k: 'not base64url!' }] }),
      /key "x" needs "k"/,
    ],
    [
      'an alg named like an object property',
      async () => JSON.stringify({ keys: [{ ...hsJwk('x'), alg: 'constructor' }] }),
      /needs an "alg" of/,
    ],
    [
      'a kid with a line break (not echoed)',
      async () => JSON.stringify({ keys: [{ ...hsJwk('x'), kid: 'a\nb' }] }),
      /^JWT_KEYS key 1 needs a "kid"/,
    ],
    [
      'a signing key without its private part',
      async () => {
        const { d: _d, ...pub } = await privateJwk('ES256', 'x');
        return JSON.stringify({ keys: [pub] });
      },
      /key "x" signs, so it needs its private part "d"/,
    ],
    [
      'a broken key',
      async () => JSON.stringify({ keys: [{ ...(await privateJwk('EdDSA', 'x')), x: 'AAAA' }] }),
      /key "x" is not a valid key/,
    ],
  ])('%s', async (_what, text, message) => {
    const value = await text();
    const error = await parseKeySet(value, { name: 'JWT_KEYS' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    for (const part of value.matchAll(/"(?:d|k)":"([^"]+)"/g)) expect((error as Error).message).not.toContain(part[1]);
  });
});
