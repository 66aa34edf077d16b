import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { createTokenSigner } from '../../runtime/server';

/**
 * The tokens a sign-in hands out: a 15-minute access token (JWT, `typ: at+jwt`) naming its
 * session, and, for accounts with MFA, a 5-minute challenge token (`typ: mfa+jwt`) that is good
 * for nothing but finishing the sign-in. Distinct `typ`s keep one from passing as the other.
 */
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const MFA_TOKEN_TTL_SECONDS = 5 * 60;
const MFA_TOKEN_TYPE = 'mfa+jwt';

export interface TokenIssuerSettings {
  secret: Uint8Array;
  issuer: string;
  audience: string;
}

export function createSessionTokens(settings: TokenIssuerSettings) {
  const access = createTokenSigner({ ...settings, ttlSeconds: ACCESS_TOKEN_TTL_SECONDS });
  return {
    accessToken(user: { id: string; roles: string[] }, sessionId: string): Promise<string> {
      return access.sign({ sub: user.id, roles: user.roles, sid: sessionId });
    },

    mfaToken(userId: string, device: string | undefined): Promise<string> {
      return new SignJWT(device ? { device } : {})
        .setProtectedHeader({ alg: 'HS256', typ: MFA_TOKEN_TYPE })
        .setSubject(userId)
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setIssuedAt()
        .setExpirationTime(`${MFA_TOKEN_TTL_SECONDS}s`)
        .sign(settings.secret);
    },

    /** The user and device of a valid challenge token, or undefined. */
    async verifyMfaToken(token: string): Promise<{ userId: string; device: string | undefined } | undefined> {
      try {
        const { payload } = await jwtVerify(token, settings.secret, {
          algorithms: ['HS256'],
          issuer: settings.issuer,
          audience: settings.audience,
          typ: MFA_TOKEN_TYPE,
          requiredClaims: ['sub', 'exp'],
        });
        return { userId: payload.sub!, device: typeof payload.device === 'string' ? payload.device : undefined };
      } catch (error) {
        if (error instanceof joseErrors.JOSEError) return undefined;
        throw error;
      }
    },
  };
}

export type SessionTokens = ReturnType<typeof createSessionTokens>;
