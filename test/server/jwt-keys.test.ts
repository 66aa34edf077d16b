import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createLogger, loadConfig, secretAsJwk } from '../../runtime/server';
import { ConfigSchema } from '../../server/config';
import type { Database } from '../../server/db/database';
import { startServer } from '../../server/start';
import { openTestDatabase } from '../support/database';

/**
 * JWT_KEYS as an operator uses it, through `npm start`'s code: a key rotation over three
 * deployments of one database, seen by a signed-in user (never signed out) and by another service
 * that checks tokens against /.well-known/jwks.json.
 */
let database: Database;
let dataDir: string;
const log = createLogger({ level: 'silent' });
const SECRET = randomBytes(32).toString('hex');

beforeAll(async () => {
  database = await openTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), 'mundo-keys-'));
});
afterAll(async () => {
  await database?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function privateJwk(alg: 'EdDSA' | 'ES256', kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  return { ...(await exportJWK(privateKey)), kid, alg };
}

/** A deployment with these keys: its URL while `use` runs. */
async function deployed(keys: JWK[] | undefined, use: (url: string) => Promise<void>) {
  const env: Record<string, string> = { NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, JWT_SECRET: SECRET };
  if (keys) env.JWT_KEYS = JSON.stringify({ keys });
  const server = await startServer(loadConfig(ConfigSchema, env), { log, database });
  try {
    await use(server.url);
  } finally {
    await server.shutdown();
  }
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const me = (url: string, token: string) => fetch(`${url}/api/v1/users/me`, { headers: { Authorization: `Bearer ${token}` } });

describe('JWT_KEYS: rotating the access-token keys', () => {
  it('signs nobody out: old tokens work until their key is retired, refresh tokens throughout; JWKS serves each step', async () => {
    const june = await privateJwk('EdDSA', '2026-06');
    const december = await privateJwk('ES256', '2026-12');
    let tokens: { accessToken: string; refreshToken: string } = { accessToken: '', refreshToken: '' };
    let fromSecret = '';
    let juneToken = '';

    // Before: JWT_SECRET alone signs (its kid is a fingerprint); nothing to publish.
    await deployed(undefined, async (url) => {
      const registered = await post(`${url}/api/v1/auth/register`, {
        username: 'rotation.ana',
        password: 'milonga at midnight in Almagro',
        displayName: 'Ana',
      });
      expect(registered.status).toBe(201);
      fromSecret = (await registered.json()).data.accessToken;
      expect(decodeProtectedHeader(fromSecret)).toMatchObject({ alg: 'HS256', kid: expect.stringMatching(/^hs256-/) });
      const jwks = await fetch(`${url}/.well-known/jwks.json`);
      expect(await jwks.json()).toEqual({ keys: [] });
    });

    // JWT_KEYS set: the June key signs, the secret (listed, as new-jwt-key --from-secret prints it) only
    // verifies, so its token still works; other services verify with the JWKS.
    const secretKey = { ...secretAsJwk(Buffer.from(SECRET, 'utf8')), key_ops: ['verify'] };
    await deployed([{ ...june, key_ops: ['sign'] }, secretKey], async (url) => {
      expect((await me(url, fromSecret)).status).toBe(200);
      const login = await post(`${url}/api/v1/auth/login`, { username: 'rotation.ana', password: 'milonga at midnight in Almagro' });
      tokens = (await login.json()).data;
      juneToken = tokens.accessToken;
      expect(decodeProtectedHeader(juneToken)).toMatchObject({ alg: 'EdDSA', kid: '2026-06' });
      const jwks = await fetch(`${url}/.well-known/jwks.json`);
      expect(jwks.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
      expect(jwks.headers.get('cache-control')).toBe('public, max-age=300');
      const { payload } = await jwtVerify(tokens.accessToken, createLocalJWKSet(await jwks.json()), {
        issuer: 'https://api.mundotango.life',
        audience: 'mundo-tango',
      });
      expect(payload.sub).toBeDefined();
    });

    // During: December signs, June only verifies. The June token still works; a refresh gets a December one.
    await deployed(
      [
        { ...december, key_ops: ['sign'] },
        { ...june, key_ops: ['verify'] },
      ],
      async (url) => {
        expect((await me(url, tokens.accessToken)).status).toBe(200);
        const jwks = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
        expect(jwks.keys.map((key) => key.kid)).toEqual(['2026-12', '2026-06']);
        const refreshed = await post(`${url}/api/v1/auth/refresh`, { refreshToken: tokens.refreshToken });
        expect(refreshed.status).toBe(200);
        tokens = (await refreshed.json()).data;
        expect(decodeProtectedHeader(tokens.accessToken).kid).toBe('2026-12');
        expect((await me(url, juneToken)).status).toBe(200);
      },
    );

    // After: June and the secret are retired. Their tokens are refused like forged ones; the user, refreshed, is still in.
    await deployed([december], async (url) => {
      for (const retired of [juneToken, fromSecret]) {
        const refused = await me(url, retired);
        expect(refused.status).toBe(401);
        expect((await refused.json()).code).toBe('UNAUTHENTICATED');
      }
      expect((await me(url, tokens.accessToken)).status).toBe(200);
    });
  });
});

describe('JWT_KEYS that cannot be used', () => {
  it('stop the start with a message naming the variable and the key', async () => {
    const broken = { keys: [{ ...(await privateJwk('EdDSA', 'k1')), alg: 'RS256' }] };
    await expect(deployed(broken.keys, async () => {})).rejects.toThrow(ConfigError);
    await expect(deployed(broken.keys, async () => {})).rejects.toThrow(/JWT_KEYS key "k1" needs an "alg" of HS256, EdDSA, ES256/);
  });
});
