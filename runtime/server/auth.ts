import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { ApiError } from '../core/api-error';
import { ConfigError } from './config';
import { checkSecret, type KeySet, keySetFromSecret } from './keys';

/**
 * Access tokens: JWTs with `typ: at+jwt` (RFC 9068), signed by the key set's signing key and
 * naming it (`kid`; see keys.ts for rotation), issuer and audience pinned, naming
 * their session (`sid`, so revoking the session refuses them) and themselves (`jti`), and no
 * older than the access-token lifetime, whatever their `exp` says.
 * Every failure reads the same to the client except an authentic token that has expired, which
 * says TOKEN_EXPIRED so clients know that refreshing will help (RFC 8725 §3.1, §3.11).
 */
export interface AuthUser {
  id: string;
  roles: string[];
  /** The session the token belongs to: revoking it refuses the token. */
  sessionId: string;
}

export interface TokenSettings {
  /** One HS256 key of at least MIN_SECRET_BYTES (RFC 7518 §3.2: 256 bits), when there is no key set. */
  secret?: Uint8Array;
  /** The signing key and the keys that verify (keys.ts); it takes the place of `secret`. */
  keys?: KeySet;
  issuer: string;
  audience: string;
  /**
   * The access-token lifetime: a token whose `iat` is older is refused as expired, even if its
   * `exp` is later (say, one minted with a longer lifetime). Defaults to DEFAULT_ACCESS_TOKEN_TTL_SECONDS.
   */
  maxAgeSeconds?: number;
}

export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
/**
 * How far in the future an `iat` may be: the clocks of the instance that signed and the one that
 * checks may differ by a little (and `iat` is in whole seconds). There is no leeway on `exp`.
 */
export const IAT_LEEWAY_SECONDS = 5;

export interface TokenVerifier {
  verify(token: string): Promise<AuthUser>;
}

export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** The settings' key set; a short secret is refused at once (a configuration error, not a failed request). */
function keysOf(settings: TokenSettings): Promise<KeySet> {
  if (settings.keys) return Promise.resolve(settings.keys);
  if (!settings.secret) throw new ConfigError('Access tokens need a secret or a key set');
  checkSecret(settings.secret);
  const keys = keySetFromSecret(settings.secret);
  keys.catch(() => {});
  return keys;
}

/** `isRevoked` lets a session store refuse a token of a revoked session on its next request. */
export function createTokenVerifier(
  settings: TokenSettings & { isRevoked?: (user: AuthUser, issuedAt: number) => boolean | Promise<boolean> },
): TokenVerifier {
  const keys = keysOf(settings);
  const maxAge = settings.maxAgeSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS;
  return {
    async verify(token) {
      const set = await keys;
      let payload;
      try {
        // The key the token names (none: the instance secret's), and only with that key's algorithm.
        const keyOf = (header: { kid?: string; alg?: string }) => {
          const key = header.kid === undefined ? set.unnamed : set.byKid.get(header.kid);
          if (!key || key.alg !== header.alg) throw new Error('no such key');
          return key.verify;
        };
        ({ payload } = await jwtVerify(token, keyOf, {
          algorithms: set.algorithms,
          issuer: settings.issuer,
          audience: settings.audience,
          typ: ACCESS_TOKEN_TYPE,
          requiredClaims: ['sub', 'exp', 'iat', 'sid', 'jti'],
        }));
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) throw tokenExpired();
        throw unauthenticated();
      }
      // A token without a session could not be revoked; one without an id could not be told apart.
      if (typeof payload.sid !== 'string' || payload.sid === '' || typeof payload.jti !== 'string' || payload.jti === '')
        throw unauthenticated();
      // The maximum age is checked here rather than by jose's maxTokenAge, whose leeway would
      // apply to `exp` too: a token is refused from its `exp` on (a socket closed then must not
      // reconnect with it), but an `iat` a few seconds ahead is another instance's clock.
      const age = Math.floor(Date.now() / 1000) - payload.iat!;
      if (age < -IAT_LEEWAY_SECONDS) throw unauthenticated();
      if (age > maxAge) throw tokenExpired();
      const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
      const user: AuthUser = { id: payload.sub!, roles, sessionId: payload.sid };
      if (settings.isRevoked && (await settings.isRevoked(user, payload.iat!))) throw unauthenticated();
      return user;
    },
  };
}

export function createTokenSigner(settings: TokenSettings & { ttlSeconds: number }) {
  const keys = keysOf(settings);
  return {
    async sign(claims: { sub: string; roles?: string[]; sid: string }): Promise<string> {
      const { signing } = await keys;
      return new SignJWT({ roles: claims.roles ?? [], sid: claims.sid })
        .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: ACCESS_TOKEN_TYPE })
        .setSubject(claims.sub)
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setIssuedAt()
        .setExpirationTime(`${settings.ttlSeconds}s`)
        .setJti(randomUUID())
        .sign(signing.sign!);
    },
  };
}

function tokenExpired(): ApiError {
  return new ApiError('TOKEN_EXPIRED', 'The access token has expired', {
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="The access token expired"' },
  });
}

/**
 * Where a user's roles are read for operations that need one, when they may have changed since
 * the token was issued (granted or revoked): such operations then follow the change on the next
 * request, not when the token expires. Without it, the token's roles decide.
 */
export type CurrentRoles = (userId: string) => Promise<readonly string[]>;

/**
 * The caller of an operation that needs a signed-in user (with one of `roles`, when given). With
 * `currentRoles`, the roles are read afresh when the operation needs one, or when the token claims a
 * role some operation needs (`privileged`): a revoked moderator is refused everywhere on the next
 * request, while a token with no such role costs no lookup.
 */
export async function signedInUser(
  authorization: string | undefined,
  verifier: TokenVerifier,
  roles: ReadonlySet<string> | undefined,
  currentRoles?: CurrentRoles,
  privileged?: ReadonlySet<string>,
): Promise<AuthUser> {
  const token = bearerToken(authorization);
  if (!token) throw unauthenticated();
  let user = await verifier.verify(token);
  const stale = roles !== undefined || (privileged !== undefined && user.roles.some((role) => privileged.has(role)));
  if (currentRoles && stale) user = { ...user, roles: [...(await currentRoles(user.id))] };
  if (roles && !user.roles.some((role) => roles.has(role))) throw new ApiError('FORBIDDEN', 'Your role does not allow this operation');
  return user;
}

export function unauthenticated(): ApiError {
  return new ApiError('UNAUTHENTICATED', 'A valid access token is required', { headers: { 'WWW-Authenticate': 'Bearer' } });
}

// The scheme is case-insensitive (RFC 9110 §11.1).
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i;

export function bearerToken(header: string | undefined): string | undefined {
  return header ? BEARER.exec(header)?.[1] : undefined;
}
