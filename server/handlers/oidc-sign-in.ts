import { createHash } from 'node:crypto';
import type { AuthHandlers } from '../../generated/server';
import { ApiError } from '../../runtime/server';
import { hashToken, newOpaqueToken } from '../auth/opaque-token';
import { type OidcClient, OidcFailure, PROVIDER_RETRY_AFTER_SECONDS, type SignedIn } from '../auth/oidc-client';
import { displayNameOf, usernameCandidates, verifiedEmail } from '../auth/oidc-profile';
import { UNUSABLE_PASSWORD_HASH, verifyPassword } from '../auth/password-hash';
import type { Services } from '../services';
import { createOidcStore, type OidcFlowRecord } from '../services/oidc';
import { createSessionStore } from '../services/sessions';
import { createUserStore, type UserRecord, type UserStore } from '../services/users';
import { type Ctx, sanctioned, securityEvent, signInResult } from './sign-in';

/** How long a started sign-in may take to finish. */
const FLOW_TTL_SECONDS = 600;

/**
 * Sign-in with the OpenID Connect provider (server/auth/oidc-client.ts), in two operations for apps:
 * start (the provider's sign-in page; the state, nonce and PKCE verifier stay here) and finish (the
 * URL the provider sent the browser back to → the same answer as login). Signed out, the provider
 * account signs in the account linked to it, or a new one; started signed in, it is linked to the
 * caller's account. Accounts are never matched by email.
 */
export const oidcSignIn: Pick<
  AuthHandlers<Services>,
  'startOidcSignIn' | 'finishOidcSignIn' | 'listOidcIdentities' | 'unlinkOidcIdentity'
> = {
  async listOidcIdentities(_input, ctx) {
    const identities = await ctx.oidc.store.listFor(ctx.user.id);
    return {
      identities: identities.map((identity) => ({
        id: identityId(identity),
        issuer: identity.issuer,
        email: identity.email,
        linkedAt: identity.createdAt.toISOString(),
        lastUsedAt: identity.lastUsedAt.toISOString(),
      })),
    };
  },

  async unlinkOidcIdentity({ params, body }, ctx) {
    const gone = () => new ApiError('NOT_FOUND', 'No provider account with this id is linked to yours');
    const identity = (await ctx.oidc.store.listFor(ctx.user.id)).find((candidate) => identityId(candidate) === params.identityId);
    const me = identity && (await ctx.userStore.get(ctx.user.id));
    if (!me) throw gone();
    // The password first (slow), outside the transaction.
    if (me.passwordHash !== UNUSABLE_PASSWORD_HASH && !(await verifyPassword(me.passwordHash, body.currentPassword ?? ''))) {
      securityEvent(ctx, 'oidc_unlink_refused', { userId: me.id, code: 'INVALID_CREDENTIALS' }, 'warn');
      throw new ApiError('INVALID_CREDENTIALS', 'Unlinking a provider account needs this account’s password (currentPassword)');
    }
    // Counted and removed under the account's lock: two unlinks at once cannot remove the last way in.
    await ctx.database.db.transaction(async (tx) => {
      const locked = await createUserStore(tx).lock(me.id);
      const identities = createOidcStore(tx);
      if (!locked) throw gone();
      if (locked.passwordHash === UNUSABLE_PASSWORD_HASH && (await identities.listFor(me.id)).length <= 1) {
        throw new ApiError('CONFLICT', 'This is the only way into this account: it cannot be unlinked');
      }
      if (!(await identities.unlink(me.id, identity.issuer, identity.subject))) throw gone();
    });
    securityEvent(ctx, 'oidc_unlinked', { userId: me.id, issuer: identity.issuer });
  },

  async startOidcSignIn({ body }, ctx) {
    const client = configured(ctx);
    if (ctx.user) {
      // Linking: the access token alone is not enough to add a way into an account that has a password.
      // An account made by the provider has no password to ask for: it only signs in again with a
      // provider account linked to it already (finish refuses another), which sets its first password.
      const me = await ctx.userStore.get(ctx.user.id);
      const passwordless = me?.passwordHash === UNUSABLE_PASSWORD_HASH && body.currentPassword === undefined;
      if (!me || (!passwordless && !(await verifyPassword(me.passwordHash, body.currentPassword ?? '')))) {
        securityEvent(ctx, 'oidc_refused', { userId: ctx.user.id, code: 'INVALID_CREDENTIALS' }, 'warn');
        throw new ApiError('INVALID_CREDENTIALS', 'Linking a provider account needs this account’s password (currentPassword)');
      }
    }
    const request = await fromProvider(ctx, ctx.user?.id, () => client.authorizationRequest({ forLink: Boolean(ctx.user) }));
    // The state travels through the browser; the flow token stays with the app, so a redirect
    // intercepted on the way (another app on the redirect URI's scheme) cannot be finished.
    const flowToken = newOpaqueToken();
    await ctx.oidc.store.openFlow({
      stateHash: hashToken(request.state),
      flowTokenHash: hashToken(flowToken),
      nonce: request.nonce,
      codeVerifier: request.codeVerifier,
      linkUserId: ctx.user?.id,
      ttlMs: FLOW_TTL_SECONDS * 1000,
    });
    securityEvent(ctx, 'oidc_started', { userId: ctx.user?.id, purpose: ctx.user ? 'link' : 'sign_in' });
    return { authorizationUrl: request.url, flowToken, expiresIn: FLOW_TTL_SECONDS };
  },

  async finishOidcSignIn({ body }, ctx) {
    const client = configured(ctx);
    const callback = await fromProvider(ctx, ctx.user?.id, async () => client.callbackState(body.callbackUrl));
    // Spent before the provider is asked anything: a state works once, even if what follows fails.
    const flow = await ctx.oidc.store.takeFlow(hashToken(callback.state), hashToken(body.flowToken), ctx.user?.id);
    if (!flow) {
      securityEvent(ctx, 'oidc_refused', { userId: ctx.user?.id, code: 'OIDC_STATE_INVALID' }, 'warn');
      throw new ApiError(
        'OIDC_STATE_INVALID',
        'This sign-in is unknown, has expired, was finished already, or was started by another app or user; start a new one',
      );
    }
    const signedIn = await fromProvider(
      ctx,
      ctx.user?.id,
      () => client.finish(callback.url, { ...flow, state: callback.state, signedInAgain: Boolean(flow.linkUserId) }),
      true,
    );
    const known = await ctx.oidc.store.findIdentity(signedIn.issuer, signedIn.subject);
    // The profile names a new account and gives a linked one its email; a known sign-in needs neither.
    const claims =
      known && !flow.linkUserId ? signedIn.claims : await fromProvider(ctx, ctx.user?.id, () => client.profile(signedIn), true);
    let outcome: Settled | undefined;
    for (let attempt = 0; !outcome; attempt++) {
      try {
        outcome = await settle(ctx, flow, signedIn, claims, body.device);
      } catch (error) {
        // Two first sign-ins of one provider account at once: the loser's account is rolled back and it signs in the winner's.
        if (!(error instanceof Raced) || attempt > 0) throw refusal(ctx, ctx.user?.id, error);
      }
    }
    const fields = { userId: outcome.user.id, via: 'oidc' };
    if (outcome.created) securityEvent(ctx, 'account_created', fields);
    if (outcome.linked) securityEvent(ctx, 'oidc_linked', { ...fields, issuer: signedIn.issuer });
    else if (flow.linkUserId) securityEvent(ctx, 'oidc_reauthenticated', fields);
    securityEvent(ctx, outcome.result.status === 'authenticated' ? 'login_succeeded' : 'login_mfa_challenge', fields);
    return outcome.result;
  },
};

interface Settled {
  user: UserRecord;
  result: Awaited<ReturnType<typeof signInResult>>;
  created: boolean;
  linked: boolean;
}

/** A first sign-in that lost a race for its provider account: retried, it finds the account the other made. */
class Raced extends Error {}

/**
 * The account the provider account signs in (linked now, found, or made now) and the answer, in one
 * transaction: a refusal (sanctions, an account linked elsewhere) leaves nothing behind.
 */
function settle(ctx: Ctx, flow: OidcFlowRecord, signedIn: SignedIn, claims: Record<string, unknown>, device: string | undefined) {
  return ctx.database.db.transaction(async (tx): Promise<Settled> => {
    const users = createUserStore(tx);
    const identities = createOidcStore(tx);
    const identity = { issuer: signedIn.issuer, subject: signedIn.subject, email: verifiedEmail(claims) };
    let user: UserRecord | undefined;
    let created = false;
    let linked = false;
    if (flow.linkUserId) {
      user = await users.lock(flow.linkUserId);
      if (!user) throw stateInvalid();
      const link = await identities.link({ ...identity, userId: user.id });
      if (link === 'taken') {
        throw new ApiError('OIDC_IDENTITY_LINKED', 'This provider account is linked to another account; sign in with it there');
      }
      // Its access token alone must not add a thief's way into an account without a password (rolled back).
      if (link === 'linked' && user.passwordHash === UNUSABLE_PASSWORD_HASH) {
        throw new ApiError(
          'FORBIDDEN',
          'An account without a password links no other provider account: sign in again with the one it has, set a password, then link',
        );
      }
      linked = link === 'linked';
    } else {
      const existing = await identities.findIdentity(identity.issuer, identity.subject);
      user = existing && (await users.lock(existing.userId));
      if (!user) {
        user = await newAccount(users, claims);
        if ((await identities.link({ ...identity, userId: user.id })) !== 'linked') throw new Raced();
        created = true;
      }
    }
    const refused = sanctioned(user);
    if (refused) {
      securityEvent(ctx, 'login_refused', { userId: user.id, via: 'oidc', code: refused.code }, 'warn');
      throw refused;
    }
    await identities.used(identity.issuer, identity.subject);
    // Started signed in, the provider asked the person to sign in again (prompt=login): the session says so.
    const reauthenticated = Boolean(flow.linkUserId);
    return { user, result: await signInResult(user, device, ctx, createSessionStore(tx), reauthenticated), created, linked };
  });
}

/** A new account for a provider account: its username made from the claims (made unique), no password. */
async function newAccount(users: UserStore, claims: Record<string, unknown>): Promise<UserRecord> {
  for (const username of usernameCandidates(claims)) {
    const created = await users.create({ username, displayName: displayNameOf(claims, username), passwordHash: UNUSABLE_PASSWORD_HASH });
    if (created !== 'taken') return created;
  }
  throw new Error('No free username for a new account (the last candidate is random)');
}

function configured(ctx: Ctx): OidcClient {
  const { client } = ctx.oidc;
  if (!client) {
    throw new ApiError('OIDC_NOT_CONFIGURED', 'This server has no OpenID Connect provider; sign in with a username and password');
  }
  return client;
}

function stateInvalid(): ApiError {
  return new ApiError('OIDC_STATE_INVALID', 'The account this sign-in was started for no longer exists; start a new one');
}

/** Runs a step that asks the provider, turning its failures into problems (logged, without a code or token). */
/** `spent`: the sign-in's state is used up, so sending the same finish again cannot work. */
async function fromProvider<T>(ctx: Ctx, userId: string | undefined, step: () => Promise<T>, spent = false): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw refusal(ctx, userId, error, spent);
  }
}

/**
 * The problem for a failure of the provider's part, logged as a security event (a sanction refusal
 * was logged where its account was known); anything else (a bug) goes on as it is, to the 500 path.
 */
function refusal(ctx: Ctx, userId: string | undefined, error: unknown, spent = false): unknown {
  const who = { userId };
  if (error instanceof OidcFailure) {
    const level = error.misconfigured ? 'error' : 'warn';
    securityEvent(
      ctx,
      error.code === 'SERVICE_UNAVAILABLE' ? 'oidc_unavailable' : 'oidc_refused',
      { ...who, code: error.code, reason: error.reason },
      level,
    );
    if (error.code !== 'SERVICE_UNAVAILABLE') return new ApiError(error.code, error.detail);
    // No Retry-After: this finish cannot succeed again, a new sign-in can once the provider is back.
    if (spent) return new ApiError('SERVICE_UNAVAILABLE', `${error.detail}; start a new sign-in`);
    const retryAfter = String(PROVIDER_RETRY_AFTER_SECONDS);
    return new ApiError('SERVICE_UNAVAILABLE', error.detail, { headers: { 'Retry-After': retryAfter } });
  }
  if (error instanceof ApiError && (error.code.startsWith('OIDC_') || error.code === 'FORBIDDEN')) {
    securityEvent(ctx, 'oidc_refused', { ...who, code: error.code }, 'warn');
  }
  return error;
}

/** A linked provider account's id in the API: its issuer and subject, hashed (neither is a path segment). */
function identityId(identity: { issuer: string; subject: string }): string {
  return createHash('sha256').update(identity.issuer).update('\n').update(identity.subject).digest('hex').slice(0, 32);
}
