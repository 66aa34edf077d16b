import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { createTokenSigner, type KeySet } from '../../runtime/server';

/**
 * The tokens a sign-in hands out: a 15-minute access token (JWT, `typ: at+jwt`) naming its
 * session, and, for accounts with MFA, a 5-minute challenge token (`typ: mfa+jwt`) naming its
 * stored challenge, good for nothing but finishing that sign-in, once. Distinct `typ`s keep one
 * from passing as the other.
 */
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const MFA_TOKEN_TTL_SECONDS = 5 * 60;
const MFA_TOKEN_TYPE = 'mfa+jwt';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TokenIssuerSettings {
  /** Signs MFA challenges (checked by this API alone), and access tokens when there is no key set. */
  secret: Uint8Array;
  keys?: KeySet;
  issuer: string;
  audience: string;
}

export function createSessionTokens(settings: TokenIssuerSettings) {
  const access = createTokenSigner({ ...settings, ttlSeconds: ACCESS_TOKEN_TTL_SECONDS });
  return {
    accessToken(user: { id: string; roles: string[] }, sessionId: string): Promise<string> {
      return access.sign({ sub: user.id, roles: user.roles, sid: sessionId });
    },

    /** The token of a stored MFA challenge: it names the row (`jti`), where the challenge's state is kept. */
    mfaToken(userId: string, challengeId: string): Promise<string> {
      return new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: MFA_TOKEN_TYPE })
        .setSubject(userId)
        .setJti(challengeId)
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setIssuedAt()
        .setExpirationTime(`${MFA_TOKEN_TTL_SECONDS}s`)
        .sign(settings.secret);
    },

    /** The user and challenge of an authentic, unexpired challenge token, or undefined. */
    async verifyMfaToken(token: string): Promise<{ userId: string; challengeId: string } | undefined> {
      try {
        const { payload } = await jwtVerify(token, settings.secret, {
          algorithms: ['HS256'],
          issuer: settings.issuer,
          audience: settings.audience,
          typ: MFA_TOKEN_TYPE,
          requiredClaims: ['sub', 'exp', 'jti'],
        });
        const { sub, jti } = payload;
        // Both name rows: anything but the ids this server signs is no challenge of ours.
        if (typeof sub !== 'string' || typeof jti !== 'string' || !UUID.test(sub) || !UUID.test(jti)) return undefined;
        return { userId: sub, challengeId: jti };
      } catch (error) {
        if (error instanceof joseErrors.JOSEError) return undefined;
        throw error;
      }
    },
  };
}

export type SessionTokens = ReturnType<typeof createSessionTokens>;
