import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { ApiError } from './api-error';

/**
 * Access tokens: HS256 JWTs with `typ: at+jwt` (RFC 9068), issuer and audience pinned.
 * Every failure reads the same to the client except an authentic token that has expired, which
 * says TOKEN_EXPIRED so clients know that refreshing will help (RFC 8725 §3.1, §3.11).
 */
export interface AuthUser {
  id: string;
  roles: string[];
  /** The session the token belongs to, when sessions are in use. */
  sessionId: string | undefined;
}

export interface TokenSettings {
  secret: Uint8Array;
  issuer: string;
  audience: string;
}

export interface TokenVerifier {
  verify(token: string): Promise<AuthUser>;
}

export const ACCESS_TOKEN_TYPE = 'at+jwt';
const ALGORITHM = 'HS256';

/** `isRevoked` lets a session store refuse a token of a revoked session on its next request. */
export function createTokenVerifier(
  settings: TokenSettings & { isRevoked?: (user: AuthUser, issuedAt: number) => boolean | Promise<boolean> },
): TokenVerifier {
  return {
    async verify(token) {
      let payload;
      try {
        ({ payload } = await jwtVerify(token, settings.secret, {
          algorithms: [ALGORITHM],
          issuer: settings.issuer,
          audience: settings.audience,
          typ: ACCESS_TOKEN_TYPE,
          requiredClaims: ['sub', 'exp', 'iat'],
        }));
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) {
          throw new ApiError('TOKEN_EXPIRED', 'The access token has expired', {
            headers: { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="The access token expired"' },
          });
        }
        throw unauthenticated();
      }
      const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
      const user: AuthUser = {
        id: payload.sub!,
        roles,
        sessionId: typeof payload.sid === 'string' ? payload.sid : undefined,
      };
      if (settings.isRevoked && (await settings.isRevoked(user, payload.iat!))) throw unauthenticated();
      return user;
    },
  };
}

export function createTokenSigner(settings: TokenSettings & { ttlSeconds: number }) {
  return {
    sign(claims: { sub: string; roles?: string[]; sid?: string }): Promise<string> {
      return new SignJWT({ roles: claims.roles ?? [], ...(claims.sid ? { sid: claims.sid } : {}) })
        .setProtectedHeader({ alg: ALGORITHM, typ: ACCESS_TOKEN_TYPE })
        .setSubject(claims.sub)
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setIssuedAt()
        .setExpirationTime(`${settings.ttlSeconds}s`)
        .setJti(randomUUID())
        .sign(settings.secret);
    },
  };
}

export function unauthenticated(): ApiError {
  return new ApiError('UNAUTHENTICATED', 'A valid access token is required', { headers: { 'WWW-Authenticate': 'Bearer' } });
}

// The scheme is case-insensitive (RFC 9110 §11.1).
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i;

export function bearerToken(header: string | undefined): string | undefined {
  return header ? BEARER.exec(header)?.[1] : undefined;
}
