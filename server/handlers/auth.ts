import type { AuthHandlers } from '../../generated/server';
import { ApiError, fieldError, unauthenticated, type AuthUser } from '../../runtime/server';
import { hashPassword, needsRehash, UNUSABLE_PASSWORD_HASH, verifyDummy, verifyPassword } from '../auth/password-hash';
import { passwordProblem } from '../auth/password-policy';
import { hashRecoveryCode, newRecoveryCodes } from '../auth/recovery-codes';
import { newTotpSecret, totpUri, verifyTotp } from '../auth/totp';
import type { Services } from '../services';
import { MFA_ACCOUNT_MAX_FAILURES, MFA_ACCOUNT_WINDOW_MS, MFA_CHALLENGE_MAX_FAILURES } from '../services/sessions';
import { inTransaction } from '../services/transaction';
import type { UserRecord, UserStore } from '../services/users';
import { oidcSignIn } from './oidc-sign-in';
import { type Ctx, sanctioned, securityEvent, sessionBody, signInResult, startSession } from './sign-in';

/**
 * Sign-in, tokens, sessions and MFA (sign-in with a provider: ./oidc-sign-in.ts). Security events
 * are logged with user id, address and request id; never a password, code or token.
 *
 * An operation that writes more than once runs its writes in one transaction (`inTransaction`),
 * together with what may still fail after them (signing the tokens): a failure at any step leaves
 * nothing behind, so the client's retry starts from where it was. Slow work (argon2) comes before.
 */
export const auth: AuthHandlers<Services> = {
  ...oidcSignIn,

  async register({ body }, ctx) {
    const problem = passwordProblem(body.password, { username: body.username, displayName: body.displayName });
    if (problem) throw fieldError('/body/password', 'weak_password', problem);
    const passwordHash = await hashPassword(body.password);
    // The account and its first session: both or neither.
    const session = await inTransaction(ctx.database.db, async ({ userStore, sessionStore }) => {
      const created = await userStore.create({ username: body.username, displayName: body.displayName, passwordHash });
      return created === 'taken' ? undefined : startSession(created, body.device, ctx, sessionStore);
    });
    if (!session) throw new ApiError('USERNAME_TAKEN', 'This username is taken');
    securityEvent(ctx, 'account_created', { userId: session.user.id });
    return session;
  },

  async login({ body }, ctx) {
    const user = await verifiedUser(ctx, body.username, body.password);
    const refused = sanctioned(user);
    if (refused) {
      securityEvent(ctx, 'login_refused', { userId: user.id, code: refused.code }, 'warn');
      throw refused;
    }
    const rehashed = needsRehash(user.passwordHash) ? await hashPassword(body.password) : undefined;
    const result = await inTransaction(ctx.database.db, async ({ userStore, sessionStore }) => {
      // Checked again on the locked row: a suspension committed since the read above refuses this
      // sign-in, and one still waiting for the row comes after the session, which it then revokes.
      const current = await userStore.lock(user.id);
      if (!current) throw invalidCredentials();
      const late = sanctioned(current);
      if (late) throw late;
      if (rehashed) await userStore.replacePasswordHash(user.id, user.passwordHash, rehashed);
      return signInResult(user, body.device, ctx, sessionStore);
    });
    securityEvent(ctx, result.status === 'authenticated' ? 'login_succeeded' : 'login_mfa_challenge', { userId: user.id });
    return result;
  },

  /**
   * A challenge is answered once: the first right code spends it. Wrong codes are limited per
   * challenge (MFA_CHALLENGE_MAX_FAILURES, then it is dead and the sign-in starts over with the
   * password), per account over all its challenges (MFA_ACCOUNT_MAX_FAILURES within
   * MFA_ACCOUNT_WINDOW_MS, then 429), and per address (the contract's limit). The state is in the
   * database, so every instance sees it; the user's row is locked while a code is checked, so
   * parallel guesses are counted one after another.
   */
  async verifyMfaLogin({ body }, ctx) {
    const claims = await ctx.tokens.verifyMfaToken(body.mfaToken);
    if (!claims) {
      securityEvent(ctx, 'mfa_challenge_refused', {}, 'warn');
      throw challengeExpired();
    }
    const outcome = await inTransaction(ctx.database.db, async ({ userStore, sessionStore }) => {
      const user = await userStore.lock(claims.userId);
      const challenge = await sessionStore.lockMfaChallenge(claims.challengeId);
      if (!user?.mfaEnabled || !challenge?.usable || challenge.userId !== user.id) return { kind: 'expired' as const };
      const refused = sanctioned(user);
      if (refused) return { kind: 'refused' as const, refused };
      const recent = await sessionStore.recentMfaFailures(user.id);
      if (recent.count >= MFA_ACCOUNT_MAX_FAILURES)
        return { kind: 'locked' as const, retryAfterSeconds: Math.max(1, Math.ceil(recent.clearsInMs / 1000)) };
      // The proof's own write (the TOTP step or the recovery code) commits only with the session.
      if (!(await mfaProofValid(user, body, userStore)))
        return { kind: 'wrong' as const, failures: await sessionStore.failMfaChallenge(challenge.id) };
      await sessionStore.spendMfaChallenge(challenge.id);
      return { kind: 'ok' as const, session: await startSession(user, challenge.device ?? undefined, ctx, sessionStore) };
    });
    const fields = { userId: claims.userId, challengeId: claims.challengeId };
    switch (outcome.kind) {
      case 'ok':
        securityEvent(ctx, 'login_succeeded', { ...fields, mfa: body.code ? 'totp' : 'recovery_code' });
        return outcome.session;
      case 'expired':
        securityEvent(ctx, 'mfa_challenge_refused', fields, 'warn');
        throw challengeExpired();
      case 'refused':
        securityEvent(ctx, 'login_refused', { ...fields, code: outcome.refused.code }, 'warn');
        throw outcome.refused;
      case 'locked': {
        await auditedEvent(ctx, 'mfa_locked', claims.userId, null, { challengeId: claims.challengeId });
        const retryAfter = String(outcome.retryAfterSeconds);
        throw new ApiError('RATE_LIMITED', `Too many wrong codes for this account; try again in ${retryAfter} s`, {
          headers: {
            'RateLimit-Policy': `"mfa-account";q=${MFA_ACCOUNT_MAX_FAILURES};w=${MFA_ACCOUNT_WINDOW_MS / 1000}`,
            RateLimit: `"mfa-account";r=0;t=${retryAfter}`,
            'Retry-After': retryAfter,
          },
        });
      }
      case 'wrong': {
        securityEvent(ctx, 'mfa_failed', { ...fields, failures: outcome.failures }, 'warn');
        const left = Math.max(0, MFA_CHALLENGE_MAX_FAILURES - outcome.failures);
        throw new ApiError(
          'INVALID_MFA_CODE',
          left > 0
            ? `The code is wrong or already used; ${left} more ${left === 1 ? 'try' : 'tries'} on this sign-in`
            : 'The code is wrong or already used; sign in again',
        );
      }
    }
  },

  async refreshTokens({ body }, ctx) {
    // The old token is spent only together with the new tokens' being made: a failure in between
    // must not leave the client holding a used token, whose retry would read as theft.
    const outcome = await inTransaction(ctx.database.db, async ({ userStore, sessionStore }) => {
      const rotation = await sessionStore.rotate(body.refreshToken);
      if (rotation.kind !== 'rotated') return rotation;
      const user = await userStore.get(rotation.session.userId);
      return user && !sanctioned(user)
        ? { kind: 'issued' as const, session: await sessionBody(user, rotation.session.id, rotation.refreshToken, ctx) }
        : { kind: 'invalid' as const };
    });
    if (outcome.kind === 'reused') {
      await ctx.revocations.revoke([outcome.session.id]);
      // Whoever replayed it is unknown: a thief, or the user's own client after the thief.
      await auditedEvent(ctx, 'refresh_token_reuse', outcome.session.userId, null, { sessionId: outcome.session.id });
      throw unauthenticated();
    }
    if (outcome.kind !== 'issued') throw unauthenticated();
    return outcome.session;
  },

  async logout(_input, ctx) {
    const sessionId = ctx.user.sessionId;
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
    await proveCurrentPassword(ctx, user, body.currentPassword);
    const problem = passwordProblem(body.newPassword, { username: user.username, displayName: user.displayName });
    if (problem) throw fieldError('/body/newPassword', 'weak_password', problem);
    const passwordHash = await hashPassword(body.newPassword);
    // The new password and signing out the other sessions: a password changed with the thief's
    // session still open would be worse than no change. Replaced only if it is still the one proven:
    // of two changes at once, the second finds its current password gone.
    const others = await inTransaction(ctx.database.db, async ({ userStore, sessionStore }) => {
      if (!(await userStore.replacePasswordHash(user.id, user.passwordHash, passwordHash))) return undefined;
      return sessionStore.revokeAll(user.id, 'password changed', ctx.user.sessionId);
    });
    if (!others) throw invalidCredentials();
    securityEvent(ctx, user.passwordHash === UNUSABLE_PASSWORD_HASH ? 'password_set' : 'password_changed', { userId: user.id });
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
    await auditedEvent(ctx, 'mfa_enabled', user.id, user.id, {});
    return { recoveryCodes: codes };
  },

  async disableMfa({ body }, ctx) {
    // Spending the proof and turning MFA off: both or neither (a recovery code is not lost to a failure).
    const outcome = await inTransaction(ctx.database.db, async ({ userStore }) => {
      const user = await userStore.lock(ctx.user.id);
      if (!user) return 'gone';
      if (!user.mfaEnabled) return 'not-enrolled';
      if (!(await mfaProofValid(user, body, userStore))) return 'wrong';
      await userStore.disableMfa(user.id);
      return 'disabled';
    });
    if (outcome === 'gone') throw unauthenticated();
    if (outcome === 'not-enrolled') throw new ApiError('MFA_NOT_ENROLLED', 'MFA is not on');
    if (outcome === 'wrong') {
      securityEvent(ctx, 'mfa_failed', { userId: ctx.user.id }, 'warn');
      throw new ApiError('INVALID_MFA_CODE', 'The code is wrong or already used');
    }
    await auditedEvent(ctx, 'mfa_disabled', ctx.user.id, ctx.user.id, {});
  },
};

/** A TOTP code (each time step once) or a recovery code (each once), spent through `userStore`. */
async function mfaProofValid(user: UserRecord, proof: { code?: string; recoveryCode?: string }, userStore: UserStore): Promise<boolean> {
  if (proof.code !== undefined) {
    const step = user.mfaSecret ? verifyTotp(user.mfaSecret, proof.code, user.mfaLastStep) : null;
    return step !== null && (await userStore.claimTotpStep(user.id, step));
  }
  return proof.recoveryCode !== undefined && (await userStore.useRecoveryCode(user.id, hashRecoveryCode(proof.recoveryCode)));
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

function challengeExpired(): ApiError {
  return new ApiError('MFA_CHALLENGE_EXPIRED', 'This sign-in expired, was completed, or had too many wrong codes; sign in again');
}

/** The user whose username and password these are; INVALID_CREDENTIALS otherwise, the same for a name that does not exist. */
export async function verifiedUser(ctx: Ctx, username: string, password: string): Promise<UserRecord> {
  const user = await ctx.userStore.findByUsername(username);
  // An unknown name costs one argon2 verification too, so timing does not tell which names exist.
  const valid = user ? await verifyPassword(user.passwordHash, password) : await verifyDummy(password);
  if (!user || !valid) {
    securityEvent(ctx, 'login_failed', { userId: user?.id }, 'warn');
    throw invalidCredentials();
  }
  return user;
}

/** How recent a provider sign-in must be for an account made by it to set its first password. */
const FIRST_PASSWORD_WINDOW_MS = 10 * 60 * 1000;

/**
 * The proof changePassword takes: the current password; or, for an account a provider sign-in made
 * (it has none), a session opened within FIRST_PASSWORD_WINDOW_MS by a sign-in with the provider
 * started signed in, for which the provider asked the person to sign in again (`prompt=login`). A
 * token alone, even of a session just opened, does not do: a thief holding one cannot make the
 * account theirs with a password.
 */
async function proveCurrentPassword(ctx: Ctx & { user: AuthUser }, user: UserRecord, currentPassword: string | undefined) {
  if (user.passwordHash === UNUSABLE_PASSWORD_HASH && currentPassword === undefined) {
    if (await ctx.sessionStore.reauthenticatedWithin(ctx.user.sessionId, FIRST_PASSWORD_WINDOW_MS)) return;
    securityEvent(ctx, 'password_change_failed', { userId: user.id, reason: 'not reauthenticated' }, 'warn');
    throw new ApiError(
      'INVALID_CREDENTIALS',
      'This account has no password yet: sign in with your provider again, signed in (startOidcSignIn with your access ' +
        'token), then set one with the new session within 10 minutes (without currentPassword)',
    );
  }
  if (!(await verifyPassword(user.passwordHash, currentPassword ?? ''))) {
    securityEvent(ctx, 'password_change_failed', { userId: user.id }, 'warn');
    throw invalidCredentials();
  }
}

function invalidCredentials(): ApiError {
  return new ApiError('INVALID_CREDENTIALS', 'Invalid username or password');
}

/** A security event admins review: logged for operators, and in the audit log. */
async function auditedEvent(
  ctx: Ctx,
  kind: 'refresh_token_reuse' | 'mfa_enabled' | 'mfa_disabled' | 'mfa_locked',
  userId: string,
  actorId: string | null,
  details: Record<string, unknown>,
): Promise<void> {
  securityEvent(ctx, kind, { userId, ...details }, kind === 'mfa_enabled' || kind === 'mfa_disabled' ? 'info' : 'warn');
  await ctx.admin.record({ actorId, kind, targetType: 'user', targetId: userId, details });
}
