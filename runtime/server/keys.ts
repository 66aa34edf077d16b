import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { ConfigError } from './config';
import { MIN_SECRET_BYTES } from './secret';

/**
 * The keys access tokens are signed and checked with. Each key has an id (`kid`, written in every
 * token it signs) and one algorithm, pinned: a token naming another algorithm for that key is
 * refused (RFC 8725 §3.1). One key signs; the others only verify, so a rotation never signs anyone
 * out: add the new key (verify-only) to every instance, make it the signing key, and retire the old
 * one — remove it — once the tokens it signed have expired (15 minutes later). A token naming a
 * retired or unknown key is refused like any forged one.
 *
 * Symmetric keys (HS256) stay private; the public halves of asymmetric ones (EdDSA with Ed25519,
 * ES256 with P-256) are published as a JWK Set (`/.well-known/jwks.json`) for other services.
 */
export type KeyAlgorithm = 'HS256' | 'EdDSA' | 'ES256';

const KID = /^[\w.-]{1,64}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

const KEY_TYPES: Record<KeyAlgorithm, { kty: string; crv?: string }> = {
  HS256: { kty: 'oct' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  ES256: { kty: 'EC', crv: 'P-256' },
};

type Key = webcrypto.CryptoKey | Uint8Array;

export interface TokenKey {
  kid: string;
  alg: KeyAlgorithm;
  verify: Key;
  /** Present on the key that signs. */
  sign?: Key;
  /** The public half, for the JWK Set (asymmetric keys only). */
  publicJwk?: JWK;
}

export interface KeySet {
  /** The key new tokens are signed with. */
  signing: TokenKey;
  /** Every key a token may name, the signing key included. */
  byKid: ReadonlyMap<string, TokenKey>;
  /**
   * The key for a token that names none: only the one made from the instance secret, for tokens
   * signed before tokens carried a `kid`.
   */
  unnamed?: TokenKey;
  /** The algorithms of all keys: anything else is refused before a key is looked up. */
  algorithms: KeyAlgorithm[];
  /** The public JWK Set: the asymmetric keys' public halves, verify-only ones included. */
  jwks: { keys: JWK[] };
}

/** The id of the key made from a secret: a fingerprint that tells nothing of the secret itself. */
export function secretKeyId(secret: Uint8Array): string {
  return `hs256-${createHash('sha256').update(secret).digest('base64url').slice(0, 12)}`;
}

/** One HS256 key made from a secret of at least MIN_SECRET_BYTES; it signs unless `verifyOnly`. */
async function secretKey(secret: Uint8Array, verifyOnly = false): Promise<TokenKey> {
  checkSecret(secret);
  const importAs = (use: 'sign' | 'verify') =>
    // Imported once: given the bytes, jose imports them again for every token (a third of a check's cost).
    webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, [use]);
  return {
    kid: secretKeyId(secret),
    alg: 'HS256',
    verify: await importAs('verify'),
    ...(verifyOnly ? {} : { sign: await importAs('sign') }),
  };
}

/** The key set of a deployment with one secret: it signs, and checks tokens with or without its `kid`. */
export async function keySetFromSecret(secret: Uint8Array): Promise<KeySet> {
  const key = await secretKey(secret);
  return assemble([key], key, key);
}

/**
 * The key set described by `JWT_KEYS`: a JWK Set (`{"keys": [...]}`) of private JWKs, each with a
 * `kid` and an `alg` (HS256, EdDSA or ES256). The key whose `key_ops` holds `"sign"` signs, else the
 * first key without `key_ops`; the others only check (`"key_ops": ["verify"]` says so, and such a key
 * needs no private part). Only the keys listed count: the instance secret (`secret`) checks access
 * tokens only when it is listed itself, so moving away from it retires it like any other key.
 * Errors name the variable and the key, never its material.
 */
export async function parseKeySet(text: string, options: { name: string; secret?: Uint8Array }): Promise<KeySet> {
  const { name } = options;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`${name} is not JSON: it must be a JWK Set, {"keys": [...]}`);
  }
  const list = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`${name} must be a JWK Set with at least one key: {"keys": [...]}`);
  // The key marked to sign, else the first key not marked at all.
  const ops = (jwk: unknown) => (jwk as JWK | null)?.key_ops;
  const marked = list.findIndex((jwk) => Array.isArray(ops(jwk)) && ops(jwk)!.includes('sign'));
  const signer = marked !== -1 ? marked : list.findIndex((jwk) => ops(jwk) === undefined);
  const keys: TokenKey[] = [];
  let signing: TokenKey | undefined;
  for (const [index, raw] of list.entries()) {
    const jwk = raw as JWK;
    // Named by its kid only when that is a well-formed one (an error message is no place for arbitrary text).
    const label = typeof jwk?.kid === 'string' && KID.test(jwk.kid) ? `${name} key "${jwk.kid}"` : `${name} key ${index + 1}`;
    const fail = (why: string): never => {
      throw new ConfigError(`${label} ${why}`);
    };
    if (typeof jwk !== 'object' || jwk === null) fail('is not a JWK object');
    if (typeof jwk.kid !== 'string' || !KID.test(jwk.kid)) fail('needs a "kid" of 1–64 letters, digits, ".", "-" or "_"');
    if (keys.some((key) => key.kid === jwk.kid)) fail('appears twice');
    const alg = jwk.alg as KeyAlgorithm;
    if (typeof alg !== 'string' || !Object.hasOwn(KEY_TYPES, alg))
      fail(`needs an "alg" of ${Object.keys(KEY_TYPES).join(', ')} (got ${JSON.stringify(jwk.alg)})`);
    const type = KEY_TYPES[alg];
    if (jwk.kty !== type.kty || (type.crv !== undefined && jwk.crv !== type.crv)) {
      fail(`is not a ${alg} key: ${alg} needs "kty": "${type.kty}"${type.crv ? ` and "crv": "${type.crv}"` : ''}`);
    }
    const keyOps = jwk.key_ops;
    if (keyOps !== undefined && (!Array.isArray(keyOps) || keyOps.length === 0 || keyOps.some((op) => op !== 'sign' && op !== 'verify'))) {
      fail('has "key_ops" other than "sign" and "verify"');
    }
    const signs = index === signer || (jwk.key_ops?.includes('sign') ?? false);
    if (signs && signing) fail(`signs, and so does "${signing.kid}": one key signs, the others only verify ("key_ops": ["verify"])`);
    let key: TokenKey;
    if (alg === 'HS256') {
      const secret =
        typeof jwk.k === 'string' && BASE64URL.test(jwk.k) ? Buffer.from(jwk.k, 'base64url') : fail('needs "k", the secret in base64url');
      if (secret.byteLength < MIN_SECRET_BYTES) fail(`is ${secret.byteLength} bytes: an HS256 key needs at least ${MIN_SECRET_BYTES}`);
      key = { ...(await secretKey(secret, !signs)), kid: jwk.kid! };
    } else {
      if (signs && typeof jwk.d !== 'string') fail('signs, so it needs its private part "d"');
      // The public members of its type only (an Ed25519 key has no "y").
      const publicJwk: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(alg === 'ES256' ? { y: jwk.y } : {}) };
      const imported = async (part: JWK) => (await importJWK({ ...part, ext: false }, alg).catch(() => fail('is not a valid key'))) as Key;
      key = {
        kid: jwk.kid!,
        alg,
        verify: await imported(publicJwk),
        ...(signs ? { sign: await imported({ ...publicJwk, d: jwk.d }) } : {}),
        publicJwk: { ...publicJwk, kid: jwk.kid, alg, use: 'sig' },
      };
    }
    keys.push(key);
    if (signs) signing = key;
  }
  if (!signing) throw new ConfigError(`${name} has no signing key: give one key "key_ops": ["sign"]`);
  // Tokens that name no key were signed with the instance secret before tokens carried a kid: they
  // are checked only while that secret is listed here (as `npm run new-jwt-key -- --from-secret` prints it).
  const unnamed = options.secret ? keys.find((key) => key.kid === secretKeyId(options.secret!)) : undefined;
  return assemble(keys, signing, unnamed);
}

function assemble(keys: TokenKey[], signing: TokenKey, unnamed: TokenKey | undefined): KeySet {
  return {
    signing,
    byKid: new Map(keys.map((key) => [key.kid, key])),
    unnamed,
    algorithms: [...new Set(keys.map((key) => key.alg))],
    jwks: { keys: keys.flatMap((key) => (key.publicJwk ? [key.publicJwk] : [])) },
  };
}

/** The one minimum for a signing secret, wherever it came from (environment, file, code). */
export function checkSecret(secret: Uint8Array): void {
  if (secret.byteLength < MIN_SECRET_BYTES) {
    throw new ConfigError(`The token secret has ${secret.byteLength} bytes; at least ${MIN_SECRET_BYTES} are required`);
  }
}

/**
 * A new private key as JWT_KEYS takes it (`npm run new-jwt-key`), with a `kid` naming its algorithm
 * and day: add it with `"key_ops": ["verify"]` first, then move `"sign"` to it.
 */
export async function generateTokenKey(alg: KeyAlgorithm, now = new Date()): Promise<JWK> {
  const kid = `${alg.toLowerCase()}-${now.toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`;
  if (alg === 'HS256') return { kty: 'oct', k: randomBytes(MIN_SECRET_BYTES).toString('base64url'), kid, alg };
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  return { ...(await exportJWK(privateKey)), kid, alg };
}

export const KEY_ALGORITHMS = Object.keys(KEY_TYPES) as KeyAlgorithm[];

/** The instance secret as a JWT_KEYS entry (`npm run new-jwt-key -- --from-secret`): its kid is the one its tokens carry. */
export function secretAsJwk(secret: Uint8Array): JWK {
  checkSecret(secret);
  return { kty: 'oct', k: Buffer.from(secret).toString('base64url'), kid: secretKeyId(secret), alg: 'HS256' };
}
