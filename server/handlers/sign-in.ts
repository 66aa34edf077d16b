import { ApiError, type BaseContext } from '../../runtime/server';
import { ACCESS_TOKEN_TTL_SECONDS, MFA_TOKEN_TTL_SECONDS } from '../auth/session-tokens';
import type { Services } from '../services';
import type { SessionStore } from '../services/sessions';
import type { UserRecord } from '../services/users';
import { toMe } from '../services/user-views';

/**
 * What every way of signing in shares once it knows who signs in (a password, a provider): the
 * sanctions that refuse it, the MFA challenge or the session's tokens, and the security log.
 */

export type Ctx = BaseContext<Services>;

/**
 * A suspended or banned account does not sign in (its sessions were revoked when it happened); a
 * suspension ends by itself. The right credentials are needed to learn this: a wrong password is
 * INVALID_CREDENTIALS as for anyone.
 */
export function sanctioned(user: UserRecord): ApiError | undefined {
  if (user.bannedAt) return new ApiError('ACCOUNT_BANNED', 'This account is banned');
  if (user.suspendedUntil && user.suspendedUntil.getTime() > Date.now()) {
    const until = user.suspendedUntil;
    return new ApiError('ACCOUNT_SUSPENDED', `This account is suspended until ${until.toISOString()}`, { until });
  }
  return undefined;
}

/**
 * The answer to a sign-in whose first factor passed: the session's tokens, or, when the account
 * has MFA on, a challenge for verifyMfaLogin. Through the stores of the caller's transaction.
 * `reauthenticated`: the person has just signed in again at the provider (a session opened now is
 * marked so).
 */
export async function signInResult(
  user: UserRecord,
  device: string | undefined,
  ctx: Ctx,
  sessionStore: SessionStore,
  reauthenticated = false,
) {
  if (!user.mfaEnabled) return startSession(user, device, ctx, sessionStore, reauthenticated);
  const challenge = await sessionStore.openMfaChallenge({
    userId: user.id,
    device: deviceName(device, ctx),
    ttlMs: MFA_TOKEN_TTL_SECONDS * 1000,
  });
  return {
    status: 'mfa_required' as const,
    challenge: { mfaToken: await ctx.tokens.mfaToken(user.id, challenge.id), expiresIn: MFA_TOKEN_TTL_SECONDS },
  };
}

/** Opens a session through `sessionStore` (the one of the caller's transaction) and makes its tokens. */
export async function startSession(
  user: UserRecord,
  device: string | undefined,
  ctx: Ctx,
  sessionStore: SessionStore,
  reauthenticated = false,
) {
  const { session, refreshToken } = await sessionStore.open({
    userId: user.id,
    device: deviceName(device, ctx),
    ip: ctx.client.ip,
    reauthenticated,
  });
  return sessionBody(user, session.id, refreshToken, ctx);
}

/** The name the client gave its device, else its user agent. */
function deviceName(device: string | undefined, ctx: Ctx): string | undefined {
  return device ?? ctx.client.userAgent?.slice(0, 200);
}

export async function sessionBody(user: UserRecord, sessionId: string, refreshToken: string, ctx: Ctx) {
  return {
    status: 'authenticated' as const,
    tokenType: 'Bearer' as const,
    accessToken: await ctx.tokens.accessToken(user, sessionId),
    expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    refreshToken,
    sessionId,
    user: toMe(user),
  };
}

/** One line in the log for operators: user id, address and request id; never a password, code or token. */
export function securityEvent(ctx: Ctx, event: string, fields: Record<string, unknown>, level: 'info' | 'warn' | 'error' = 'info'): void {
  ctx.log[level]({ security: event, ...fields, ip: ctx.client.ip }, `security: ${event}`);
}
