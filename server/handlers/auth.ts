import type { AuthHandlers } from '../../generated/server';
import { ApiError, fieldError, unauthenticated, type AuthUser, type BaseContext } from '../../runtime/server';
import { hashPassword, needsRehash, verifyDummy, verifyPassword } from '../auth/password-hash';
import { passwordProblem } from '../auth/password-policy';
import { hashRecoveryCode, newRecoveryCodes } from '../auth/recovery-codes';
import { ACCESS_TOKEN_TTL_SECONDS, MFA_TOKEN_TTL_SECONDS } from '../auth/session-tokens';
import { newTotpSecret, totpUri, verifyTotp } from '../auth/totp';
import type { Services } from '../services';
import type { UserRecord } from '../services/users';
import { toMe } from './user-views';

type Ctx = BaseContext<Services>;

/**
 * Sign-in, tokens, sessions and MFA. Security events are logged with user id, address and request
 * id; never a password, code or token.
 */
export const auth: AuthHandlers<Services> = {
  async register({ body }, ctx) {
    const problem = passwordProblem(body.password, { username: body.username, displayName: body.displayName });
    if (problem) throw fieldError('/body/password', 'weak_password', problem);
    const created = await ctx.userStore.create({
      username: body.username,
      displayName: body.displayName,
      passwordHash: await hashPassword(body.password),
    });
    if (created === 'taken') throw new ApiError('USERNAME_TAKEN', 'This username is taken');
    securityEvent(ctx, 'account_created', { userId: created.id });
    return startSession(created, body.device, ctx);
  },

  async login({ body }, ctx) {
    const user = await ctx.userStore.findByUsername(body.username);
    // An unknown name costs one argon2 verification too, so timing does not tell which names exist.
    const valid = user ? await verifyPassword(user.passwordHash, body.password) : await verifyDummy(body.password);
    if (!user || !valid) {
      securityEvent(ctx, 'login_failed', { userId: user?.id }, 'warn');
      throw invalidCredentials();
    }
    if (needsRehash(user.passwordHash)) await ctx.userStore.setPasswordHash(user.id, await hashPassword(body.password));
    if (user.mfaEnabled) {
      securityEvent(ctx, 'login_mfa_challenge', { userId: user.id });
      return { status: 'mfa_required', challenge: { mfaToken: await ctx.tokens.mfaToken(user.id, body.device), expiresIn: MFA_TOKEN_TTL_SECONDS } };
    }
    securityEvent(ctx, 'login_succeeded', { userId: user.id });
    return { status: 'authenticated', session: await startSession(user, body.device, ctx) };
  },

  async verifyMfaLogin({ body }, ctx) {
    const challenge = await ctx.tokens.verifyMfaToken(body.mfaToken);
    const user = challenge && (await ctx.userStore.get(challenge.userId));
    if (!user?.mfaEnabled || !(await mfaProofValid(user, body, ctx))) {
      securityEvent(ctx, 'mfa_failed', { userId: user?.id }, 'warn');
      throw new ApiError('INVALID_MFA_CODE', 'The code is wrong, already used, or the sign-in expired');
    }
    securityEvent(ctx, 'login_succeeded', { userId: user.id, mfa: body.code ? 'totp' : 'recovery_code' });
    return startSession(user, challenge!.device, ctx);
  },

  async refreshTokens({ body }, ctx) {
    const rotation = await ctx.sessionStore.rotate(body.refreshToken);
    if (rotation.kind === 'reused') {
      await ctx.revocations.revoke([rotation.session.id]);
      securityEvent(ctx, 'refresh_token_reuse', { userId: rotation.session.userId, sessionId: rotation.session.id }, 'warn');
      throw unauthenticated();
    }
    const user = rotation.kind === 'rotated' ? await ctx.userStore.get(rotation.session.userId) : undefined;
    if (rotation.kind !== 'rotated' || !user) throw unauthenticated();
    return sessionBody(user, rotation.session.id, rotation.refreshToken, ctx);
  },

  async logout(_input, ctx) {
    const sessionId = ctx.user.sessionId;
    if (!sessionId) return;
    await ctx.sessionStore.revoke(sessionId, 'logout');
    await revoked(ctx, ctx.user, [sessionId], 'logout');
  },

  async logoutAll(_input, ctx) {
    const ids = await ctx.sessionStore.revokeAll(ctx.user.id, 'logout everywhere');
    await revoked(ctx, ctx.user, ids, 'logout everywhere');
  },

  async listSessions({ page }, { sessionStore, user }) {
    const { items, next } = await sessionStore.list(user.id, page);
    return {
      items: items.map((s) => ({
        id: s.id,
        device: s.device,
        ip: s.ip,
        createdAt: s.createdAt.toISOString(),
        lastUsedAt: s.lastUsedAt.toISOString(),
        current: s.id === user.sessionId,
      })),
      next,
    };
  },

  async revokeSession({ params }, ctx) {
    const session = await ctx.sessionStore.get(params.sessionId);
    // Someone else's session reads as missing: ids are not confirmed to strangers.
    if (!session || session.userId !== ctx.user.id || session.revokedAt) throw new ApiError('NOT_FOUND', 'No such session of yours');
    await ctx.sessionStore.revoke(session.id, 'revoked by user');
    await revoked(ctx, ctx.user, [session.id], 'revoked by user');
  },

  async changePassword({ body }, ctx) {
    const user = await currentUser(ctx);
    if (!(await verifyPassword(user.passwordHash, body.currentPassword))) {
      securityEvent(ctx, 'password_change_failed', { userId: user.id }, 'warn');
      throw invalidCredentials();
    }
    const problem = passwordProblem(body.newPassword, { username: user.username, displayName: user.displayName });
    if (problem) throw fieldError('/body/newPassword', 'weak_password', problem);
    await ctx.userStore.setPasswordHash(user.id, await hashPassword(body.newPassword));
    const others = await ctx.sessionStore.revokeAll(user.id, 'password changed', ctx.user.sessionId);
    await revoked(ctx, ctx.user, others, 'password changed');
  },

  async enrollMfa(_input, ctx) {
    const user = await currentUser(ctx);
    if (user.mfaEnabled) throw new ApiError('MFA_ALREADY_ENABLED', 'Disable MFA before enrolling again');
    const secret = newTotpSecret();
    await ctx.userStore.setMfaSecret(user.id, secret);
    return { secret, otpauthUri: totpUri(secret, user.username) };
  },

  async confirmMfa({ body }, ctx) {
    const user = await currentUser(ctx);
    if (user.mfaEnabled) throw new ApiError('MFA_ALREADY_ENABLED', 'MFA is already on');
    if (!user.mfaSecret) throw new ApiError('MFA_NOT_ENROLLED', 'Call enrollMfa first');
    if (!(await verifyPassword(user.passwordHash, body.currentPassword))) {
      securityEvent(ctx, 'mfa_confirm_failed', { userId: user.id }, 'warn');
      throw invalidCredentials();
    }
    const step = verifyTotp(user.mfaSecret, body.code);
    if (step === null) throw new ApiError('INVALID_MFA_CODE', 'The code does not match; check the device clock');
    const codes = newRecoveryCodes();
    await ctx.userStore.enableMfa(user.id, step, codes.map(hashRecoveryCode));
    securityEvent(ctx, 'mfa_enabled', { userId: user.id });
    return { recoveryCodes: codes };
  },

  async disableMfa({ body }, ctx) {
    const user = await currentUser(ctx);
    if (!user.mfaEnabled) throw new ApiError('MFA_NOT_ENROLLED', 'MFA is not on');
    if (!(await mfaProofValid(user, body, ctx))) {
      securityEvent(ctx, 'mfa_failed', { userId: user.id }, 'warn');
      throw new ApiError('INVALID_MFA_CODE', 'The code is wrong or already used');
    }
    await ctx.userStore.disableMfa(user.id);
    securityEvent(ctx, 'mfa_disabled', { userId: user.id });
  },
};

async function startSession(user: UserRecord, device: string | undefined, ctx: Ctx) {
  const { session, refreshToken } = await ctx.sessionStore.open({
    userId: user.id,
    device: device ?? ctx.client.userAgent?.slice(0, 200),
    ip: ctx.client.ip,
  });
  return sessionBody(user, session.id, refreshToken, ctx);
}

async function sessionBody(user: UserRecord, sessionId: string, refreshToken: string, ctx: Ctx) {
  return {
    tokenType: 'Bearer' as const,
    accessToken: await ctx.tokens.accessToken(user, sessionId),
    expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    refreshToken,
    sessionId,
    user: toMe(user),
  };
}

/** A TOTP code (each time step once) or a recovery code (each once). */
async function mfaProofValid(user: UserRecord, proof: { code?: string; recoveryCode?: string }, ctx: Ctx): Promise<boolean> {
  if (proof.code !== undefined) {
    const step = user.mfaSecret ? verifyTotp(user.mfaSecret, proof.code, user.mfaLastStep) : null;
    return step !== null && (await ctx.userStore.claimTotpStep(user.id, step));
  }
  return proof.recoveryCode !== undefined && (await ctx.userStore.useRecoveryCode(user.id, hashRecoveryCode(proof.recoveryCode)));
}

async function currentUser(ctx: Ctx & { user: AuthUser }): Promise<UserRecord> {
  const user = await ctx.userStore.get(ctx.user.id);
  if (!user) throw unauthenticated();
  return user;
}

/** After the store revoked sessions: their access tokens are refused from the next request on, here and on every instance. */
async function revoked(ctx: Ctx, user: AuthUser, sessionIds: string[], reason: string): Promise<void> {
  await ctx.revocations.revoke(sessionIds);
  securityEvent(ctx, 'sessions_revoked', { userId: user.id, sessionIds, reason });
}

function invalidCredentials(): ApiError {
  return new ApiError('INVALID_CREDENTIALS', 'Invalid username or password');
}

function securityEvent(ctx: Ctx, event: string, fields: Record<string, unknown>, level: 'info' | 'warn' = 'info'): void {
  ctx.log[level]({ security: event, ...fields, ip: ctx.client.ip }, `security: ${event}`);
}
