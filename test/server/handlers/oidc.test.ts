import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../runtime/server';
import { currentTotp } from '../../../server/auth/totp';
import { hashPassword } from '../../../server/auth/password-hash';
import { ConfigSchema } from '../../../server/config';
import type { Database } from '../../../server/db/database';
import { createTestApp } from '../../support/app';
import { dancersOf } from '../../support/dancers';
import { openServerDatabase } from '../../support/database';
import { type OidcTestProvider, startOidcProvider, TEST_CLIENT, TEST_REDIRECT_URI } from '../../support/oidc-provider';

/**
 * Sign-in with an OpenID Connect provider, end to end against a real one (oidc-provider) in this
 * process: startOidcSignIn → the provider's sign-in (driven as a browser would) → finishOidcSignIn
 * with the URL the provider redirected to.
 */

const REDIRECT_URI = TEST_REDIRECT_URI;
/** Another app registered at the same provider, with the same redirect URI. */
const OTHER_CLIENT = { client_id: 'another-app', client_secret: 'another-app-secret-for-tests', redirect_uris: [REDIRECT_URI] };

let database: Database;
let provider: OidcTestProvider;
let test: Awaited<ReturnType<typeof createTestApp>>;
const { dancer: storedDancer } = dancersOf(() => test);
/** The password of each dancer's access token: linking needs it. */
const passwords = new Map<string, string>();
/** A dancer with a password, as registering makes one: a provider account links to theirs given it. */
async function dancer() {
  const stored = await storedDancer();
  const password = `a tango passphrase of ${stored.username}`;
  await test.services.userStore.replacePasswordHash(stored.id, 'not-a-real-hash', await hashPassword(password));
  passwords.set(stored.token, password);
  return stored;
}

beforeAll(async () => {
  [database, provider] = await Promise.all([openServerDatabase(), startOidcProvider({ clients: [TEST_CLIENT, OTHER_CLIENT] })]);
  // Behind a (test) proxy, so that each test signs in from an address of its own (the operations are rate-limited per address).
  test = await createTestApp(database, { TRUST_PROXY: 'loopback', ...oidcEnv(provider.issuer) });
});
afterAll(async () => {
  await test?.close();
  await provider?.close();
  await database?.close();
});

function oidcEnv(issuer: string) {
  return {
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: TEST_CLIENT.client_id,
    OIDC_CLIENT_SECRET: TEST_CLIENT.client_secret,
    OIDC_REDIRECT_URI: REDIRECT_URI,
  };
}

let nextAddress = 0;
const freshAddress = () => `10.14.${Math.floor(++nextAddress / 250)}.${nextAddress % 250}`;

/** The flow token each started sign-in answered, by its state: what the app keeps to finish it. */
const flowTokens = new Map<string, string>();

async function start(options: { token?: string; ip?: string; app?: typeof test; currentPassword?: string } = {}) {
  const req = request((options.app ?? test).app)
    .post('/api/v1/auth/oidc/start')
    .set('X-Forwarded-For', options.ip ?? freshAddress());
  const currentPassword = options.currentPassword ?? (options.token ? passwords.get(options.token) : undefined);
  const res = await (options.token ? req.set('Authorization', `Bearer ${options.token}`) : req).send({ currentPassword });
  if (res.status === 200) {
    flowTokens.set(new URL(res.body.data.authorizationUrl).searchParams.get('state')!, res.body.data.flowToken);
  }
  return res;
}

/** Finishes with the callback URL and, unless told otherwise, the flow token of the sign-in its state names. */
function finish(callbackUrl: string, options: { token?: string; ip?: string; app?: typeof test; flowToken?: string } = {}) {
  const req = request((options.app ?? test).app)
    .post('/api/v1/auth/oidc/finish')
    .set('X-Forwarded-For', options.ip ?? freshAddress());
  const state = URL.canParse(callbackUrl) ? new URL(callbackUrl).searchParams.get('state') : null;
  const flowToken = options.flowToken ?? flowTokens.get(state ?? '') ?? 'a-flow-token-of-no-sign-in';
  return (options.token ? req.set('Authorization', `Bearer ${options.token}`) : req).send({ callbackUrl, flowToken, device: 'Test phone' });
}

/** A person at the provider, with an id of their own. */
function person(profile: Parameters<OidcTestProvider['addAccount']>[1] = {}): string {
  const sub = `person-${randomUUID()}`;
  provider.addAccount(sub, profile);
  return sub;
}

/** Starts a sign-in (signed in with `token` to link) and signs `sub` in at the provider: the callback URL the app is sent to. */
async function callbackFor(sub: string, options: { token?: string; edit?: (url: URL) => void } = {}) {
  const started = await start({ token: options.token });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const url = new URL(started.body.data.authorizationUrl);
  options.edit?.(url);
  return { callbackUrl: await provider.signIn(url.href, sub), authorizationUrl: new URL(started.body.data.authorizationUrl) };
}

async function signIn(sub: string, token?: string) {
  const { callbackUrl } = await callbackFor(sub, { token });
  return finish(callbackUrl, { token });
}

const me = (accessToken: string) => request(test.app).get('/api/v1/users/me').set('Authorization', `Bearer ${accessToken}`);
const identities = async (userId: string) =>
  (
    await database.db.execute<{ subject: string; email: string | null }>(
      sql`SELECT subject, email FROM oidc_identities WHERE user_id = ${userId} ORDER BY created_at`,
    )
  ).rows;

describe('signing in with the provider', () => {
  it('starts with an authorization URL of the provider: code flow, PKCE S256, state, nonce, the configured redirect URI', async () => {
    const res = await start();
    expect(res.status).toBe(200);
    expect(res.body.data.expiresIn).toBe(600);
    expect(res.body.data.flowToken).toMatch(/^[\w-]{43}$/);
    const url = new URL(res.body.data.authorizationUrl);
    expect(url.origin).toBe(provider.issuer);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: TEST_CLIENT.client_id,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid email profile',
      code_challenge_method: 'S256',
      state: expect.stringMatching(/^[\w-]{43}$/),
      nonce: expect.stringMatching(/^[\w-]{43}$/),
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
    });
    expect(url.href).not.toContain(TEST_CLIENT.client_secret);
    // Only hashes of the state and the flow token are kept.
    const state = url.searchParams.get('state')!;
    const { rows } = await database.db.execute<{ state_hash: string; flow_token_hash: string }>(
      sql`SELECT state_hash, flow_token_hash FROM oidc_flows WHERE state_hash IN (${state}, ${sha256(state)})`,
    );
    expect(rows).toEqual([{ state_hash: sha256(state), flow_token_hash: sha256(res.body.data.flowToken) }]);
  });

  it('a first sign-in creates an account named after the provider’s; the next ones sign in the same account', async () => {
    const sub = person({ preferred_username: 'Éva Milonguera', name: 'Éva Pérez', email: 'eva@example.org', email_verified: true });
    const first = await signIn(sub);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.data).toMatchObject({
      status: 'authenticated',
      tokenType: 'Bearer',
      user: { username: 'eva.milonguera', displayName: 'Éva Pérez', roles: ['user'], mfaEnabled: false },
    });
    const session = first.body.data;
    expect((await me(session.accessToken)).body.data.id).toBe(session.user.id);
    const refreshed = await request(test.app).post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken });
    expect(refreshed.status).toBe(200);
    // The verified email is kept with the provider account.
    expect(await identities(session.user.id)).toEqual([{ subject: sub, email: 'eva@example.org' }]);

    const again = await signIn(sub);
    expect(again.status).toBe(200);
    expect(again.body.data.user.id).toBe(session.user.id);
    expect(again.body.data.sessionId).not.toBe(session.sessionId);
    const sessions = await request(test.app).get('/api/v1/auth/sessions').set('Authorization', `Bearer ${again.body.data.accessToken}`);
    expect(sessions.body.data.map((s: { device: string }) => s.device)).toEqual(['Test phone', 'Test phone']);
  });

  it('a taken username is made unique, an unverified email is not kept, and the account has no password', async () => {
    const taken = await dancer();
    const sub = person({ preferred_username: taken.username, email: 'someone@example.org', email_verified: false });
    const res = await signIn(sub);
    expect(res.status).toBe(200);
    expect(res.body.data.user.username).toMatch(new RegExp(`^${taken.username.slice(0, 25).replaceAll('.', '\\.')}-\\d{4}$`));
    expect(res.body.data.user.id).not.toBe(taken.id);
    expect(await identities(res.body.data.user.id)).toEqual([{ subject: sub, email: null }]);
    const { user, accessToken } = res.body.data;
    // Not even the stored placeholder is a password.
    const login = await request(test.app)
      .post('/api/v1/auth/login')
      .set('X-Forwarded-For', freshAddress())
      .send({ username: user.username, password: '!no-password' });
    expect(login.status).toBe(401);
    expect(login.body.code).toBe('INVALID_CREDENTIALS');
    const auth = (r: request.Test) => r.set('Authorization', `Bearer ${accessToken}`);
    const change = await auth(request(test.app).post('/api/v1/auth/password')).send({
      currentPassword: '!no-password',
      newPassword: 'a brand new passphrase for tango',
    });
    expect(change.status).toBe(401);
    expect(change.body.code).toBe('INVALID_CREDENTIALS');
    const deletion = await auth(request(test.app).post('/api/v1/users/me/deletion')).send({ password: '!no-password' });
    expect(deletion.status).toBe(401);
    expect((await me(accessToken)).status).toBe(200);
  });

  it('an account the provider made sets its first password after signing in there again, signed in; then it can delete itself', async () => {
    const sub = person({ preferred_username: 'first password' });
    const first = (await signIn(sub)).body.data;
    const auth = (r: request.Test, token: string) => r.set('Authorization', `Bearer ${token}`);
    const setPassword = (token: string, body: object) =>
      auth(request(test.app).post('/api/v1/auth/password'), token).send({ newPassword: 'a first passphrase for the milonga', ...body });
    const notYet = (res: request.Response) => {
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'INVALID_CREDENTIALS', detail: expect.stringContaining('sign in with your provider again') });
    };
    // A token alone, even of a session just opened, sets nothing: it may be a thief's.
    notYet(await setPassword(first.accessToken, {}));

    // Started with the access token, the provider asks the person to sign in again (prompt=login, max_age).
    const { callbackUrl, authorizationUrl } = await callbackFor(sub, { token: first.accessToken });
    expect(authorizationUrl.searchParams.get('prompt')).toBe('login');
    expect(authorizationUrl.searchParams.get('max_age')).toBe('300');
    const again = await finish(callbackUrl, { token: first.accessToken });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.data.user.id).toBe(first.user.id);
    expect(test.logLines).toContainEqual(expect.objectContaining({ security: 'oidc_reauthenticated', userId: first.user.id }));
    // Eleven minutes later it is too late, refreshed or not.
    const late = again.body.data;
    await database.db.execute(sql`UPDATE sessions SET reauthenticated_at = now() - interval '11 minutes' WHERE id = ${late.sessionId}`);
    const refreshed = await request(test.app).post('/api/v1/auth/refresh').send({ refreshToken: late.refreshToken });
    for (const token of [late.accessToken, refreshed.body.data.accessToken]) notYet(await setPassword(token, {}));

    const fresh = (await signIn(sub, first.accessToken)).body.data;
    expect((await setPassword(fresh.accessToken, {})).status).toBe(204);
    // As any password change: the other sessions are signed out.
    expect((await me(first.accessToken)).status).toBe(401);
    const login = await request(test.app)
      .post('/api/v1/auth/login')
      .set('X-Forwarded-For', freshAddress())
      .send({ username: fresh.user.username, password: 'a first passphrase for the milonga' });
    expect(login.status).toBe(200);
    // Now it has one, changing it takes it, even in a session just signed in again.
    const again2 = await setPassword(login.body.data.accessToken, { newPassword: 'another passphrase, for the practica' });
    expect(again2.status).toBe(401);
    expect(again2.body.code).toBe('INVALID_CREDENTIALS');

    const deletion = await auth(request(test.app).post('/api/v1/users/me/deletion'), login.body.data.accessToken).send({
      password: 'a first passphrase for the milonga',
    });
    expect(deletion.status).toBe(204);
    expect(await identities(fresh.user.id)).toEqual([]);
  });

  it('MFA still applies: an account with MFA on gets a challenge, answered with a code', async () => {
    const owner = await dancer();
    const secret = 'JBSWY3DPEHPK3PXP';
    await test.services.userStore.setMfaSecret(owner.id, secret);
    await test.services.userStore.enableMfa(owner.id, Math.floor(Date.now() / 30_000) - 2, ['unused recovery code hash']);
    const sub = person({ name: 'Con MFA' });
    // Linking, signed in, asks for MFA too.
    const linked = await signIn(sub, owner.token);
    expect(linked.status).toBe(200);
    expect(linked.body.data.status).toBe('mfa_required');

    const res = await signIn(sub);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ status: 'mfa_required', challenge: { mfaToken: expect.any(String), expiresIn: expect.any(Number) } });
    const verified = await request(test.app)
      .post('/api/v1/auth/login/mfa')
      .send({ mfaToken: res.body.data.challenge.mfaToken, code: currentTotp(secret) });
    expect(verified.status).toBe(200);
    expect(verified.body.data.user.id).toBe(owner.id);
  });

  it('a banned or suspended account is refused, as at login', async () => {
    const [banned, suspended] = [await dancer(), await dancer()];
    const [bannedSub, suspendedSub] = [person(), person()];
    await database.db.execute(sql`INSERT INTO oidc_identities (issuer, subject, user_id)
      VALUES (${provider.issuer}, ${bannedSub}, ${banned.id}), (${provider.issuer}, ${suspendedSub}, ${suspended.id})`);
    await database.db.execute(sql`UPDATE users SET banned_at = now() WHERE id = ${banned.id}`);
    await database.db.execute(sql`UPDATE users SET suspended_until = now() + interval '2 days' WHERE id = ${suspended.id}`);

    const bannedAgain = await signIn(bannedSub);
    expect(bannedAgain.status).toBe(403);
    expect(bannedAgain.body.code).toBe('ACCOUNT_BANNED');
    const suspendedAgain = await signIn(suspendedSub);
    expect(suspendedAgain.status).toBe(403);
    expect(suspendedAgain.body.code).toBe('ACCOUNT_SUSPENDED');
    expect(new Date(suspendedAgain.body.until).getTime()).toBeGreaterThan(Date.now() + 86_400_000);
  });

  it('the provider declining the sign-in is OIDC_PROVIDER_REFUSED', async () => {
    const started = await start();
    const callbackUrl = await provider.signIn(started.body.data.authorizationUrl, person(), { deny: true });
    const res = await finish(callbackUrl);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('OIDC_PROVIDER_REFUSED');
    expect(res.body.detail).toContain('access_denied');
  });
});

describe('what the finish refuses', () => {
  it('a state used once already, one never started here, or one past its 10 minutes: OIDC_STATE_INVALID', async () => {
    const sub = person();
    const { callbackUrl } = await callbackFor(sub);
    expect((await finish(callbackUrl)).status).toBe(200);
    const replayed = await finish(callbackUrl);
    expect(replayed.status).toBe(400);
    expect(replayed.body.code).toBe('OIDC_STATE_INVALID');

    // The state in the authorization request swapped on the way: the provider answers one this server never gave.
    const swapped = await callbackFor(sub, { edit: (url) => url.searchParams.set('state', 'a-state-of-someone-else-entirely') });
    const mismatch = await finish(swapped.callbackUrl);
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.code).toBe('OIDC_STATE_INVALID');

    const late = await callbackFor(sub);
    const state = new URL(late.callbackUrl).searchParams.get('state')!;
    await database.db.execute(sql`UPDATE oidc_flows SET expires_at = now() - interval '1 second' WHERE state_hash = ${sha256(state)}`);
    const expired = await finish(late.callbackUrl);
    expect(expired.status).toBe(400);
    expect(expired.body.code).toBe('OIDC_STATE_INVALID');
  });

  it('a redirect intercepted on its way to the app, finished without the app’s flow token: OIDC_STATE_INVALID', async () => {
    const { callbackUrl } = await callbackFor(person());
    const another = (await start()).body.data.flowToken;
    for (const flowToken of ['guessed', another]) {
      const stolen = await finish(callbackUrl, { flowToken });
      expect(stolen.status).toBe(400);
      expect(stolen.body.code).toBe('OIDC_STATE_INVALID');
    }
    // The app that started it still finishes it.
    expect((await finish(callbackUrl)).status).toBe(200);
  });

  it('an ID token whose nonce is not the sign-in’s: OIDC_ID_TOKEN_INVALID, and no account is made', async () => {
    const sub = person({ preferred_username: 'nonce.cambiado' });
    const { callbackUrl } = await callbackFor(sub, { edit: (url) => url.searchParams.set('nonce', 'another-nonce-than-the-one-kept') });
    const res = await finish(callbackUrl);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('OIDC_ID_TOKEN_INVALID');
    const { rows } = await database.db.execute(sql`SELECT 1 FROM oidc_identities WHERE subject = ${sub}`);
    expect(rows).toHaveLength(0);
  });

  it('a code used already, or issued to another client, with a fresh state: OIDC_EXCHANGE_FAILED', async () => {
    const sub = person();
    const used = await callbackFor(sub);
    expect((await finish(used.callbackUrl)).status).toBe(200);
    const fresh = await callbackFor(sub);
    const replay = new URL(fresh.callbackUrl);
    replay.searchParams.set('code', new URL(used.callbackUrl).searchParams.get('code')!);
    const replayed = await finish(replay.href);
    expect(replayed.status).toBe(400);
    expect(replayed.body.code).toBe('OIDC_EXCHANGE_FAILED');
    expect(replayed.body.detail).toContain('invalid_grant');

    // Another app's authorization request, answered at the same redirect URI.
    const other = new URL(`${provider.issuer}/auth`);
    for (const [name, value] of Object.entries({
      client_id: OTHER_CLIENT.client_id,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      nonce: 'n',
    }))
      other.searchParams.set(name, value);
    const foreignCode = new URL(await provider.signIn(other.href, sub)).searchParams.get('code')!;
    const ours = new URL((await callbackFor(sub)).callbackUrl);
    ours.searchParams.set('code', foreignCode);
    const foreign = await finish(ours.href);
    expect(foreign.status).toBe(400);
    expect(foreign.body.code).toBe('OIDC_EXCHANGE_FAILED');
  });

  it('an answer of another issuer (mix-up), or naming none: OIDC_CALLBACK_INVALID', async () => {
    // A second provider where this server's client is registered too: its code must not be taken for our provider's.
    const impostor = await startOidcProvider();
    try {
      const sub = person();
      impostor.addAccount(sub, {});
      const { authorizationUrl } = await callbackFor(sub);
      const atImpostor = new URL(authorizationUrl.pathname + authorizationUrl.search, impostor.issuer);
      const mixedUp = await finish(await impostor.signIn(atImpostor.href, sub));
      expect(mixedUp.status).toBe(400);
      expect(mixedUp.body.code).toBe('OIDC_CALLBACK_INVALID');
      expect(mixedUp.body.detail).toContain('another issuer');
    } finally {
      await impostor.close();
    }
    const unnamed = new URL((await callbackFor(person())).callbackUrl);
    unnamed.searchParams.delete('iss');
    const res = await finish(unnamed.href);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('OIDC_CALLBACK_INVALID');
  });

  it('a callback URL that is not one: malformed, elsewhere, without a single state or a code, or too long', async () => {
    const { callbackUrl } = await callbackFor(person());
    const elsewhere = new URL(callbackUrl);
    elsewhere.host = 'attacker.example';
    const twoStates = new URL(callbackUrl);
    twoStates.searchParams.append('state', 'another');
    for (const bad of ['not a url', 'https://app.mundotango.test/oidc/callback', elsewhere.href, twoStates.href]) {
      const res = await finish(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.code, bad).toBe('OIDC_CALLBACK_INVALID');
    }
    const started = new URL((await start()).body.data.authorizationUrl);
    const codeless = await finish(`${REDIRECT_URI}?state=${started.searchParams.get('state')}`);
    expect(codeless.status).toBe(400);
    expect(codeless.body.code).toBe('OIDC_CALLBACK_INVALID');
    const huge = await finish(`${REDIRECT_URI}?state=${'s'.repeat(9000)}`);
    expect(huge.status).toBe(400);
    expect(huge.body.code).toBe('VALIDATION_FAILED');
    expect(huge.body.errors[0].path).toBe('/body/callbackUrl');
    // None of these spent the sign-in: its own callback still finishes it.
    expect((await finish(callbackUrl)).status).toBe(200);
  });

  it('failures are limited per address like login’s: 10 in 15 minutes, then 429', async () => {
    const ip = freshAddress();
    const bogus = `${REDIRECT_URI}?code=x&state=never-started`;
    for (let i = 0; i < 10; i++) expect((await finish(bogus, { ip })).body.code).toBe('OIDC_STATE_INVALID');
    const limited = await finish(bogus, { ip });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['ratelimit-policy']).toContain('"oidc-finish";q=10;w=900');
  });
});

describe('linking a provider account to a signed-in account', () => {
  it('links it to the caller’s account; signing in with it then signs that account in', async () => {
    const owner = await dancer();
    const sub = person({ email: 'owner@example.org', email_verified: true });
    const linked = await signIn(sub, owner.token);
    expect(linked.status, JSON.stringify(linked.body)).toBe(200);
    expect(linked.body.data.user.id).toBe(owner.id);
    expect(await identities(owner.id)).toEqual([{ subject: sub, email: 'owner@example.org' }]);
    const signedIn = await signIn(sub);
    expect(signedIn.body.data.user.id).toBe(owner.id);
    // Linking again is no change.
    expect((await signIn(sub, owner.token)).body.data.user.id).toBe(owner.id);
  });

  it('needs the account’s password: an access token alone links nothing (401 INVALID_CREDENTIALS)', async () => {
    const owner = await dancer();
    for (const currentPassword of [undefined, 'not the password']) {
      const res = await request(test.app)
        .post('/api/v1/auth/oidc/start')
        .set('X-Forwarded-For', freshAddress())
        .set('Authorization', `Bearer ${owner.token}`)
        .send(currentPassword === undefined ? {} : { currentPassword });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('INVALID_CREDENTIALS');
    }
    expect(test.logLines.some((l) => l.security === 'oidc_refused' && l.userId === owner.id && l.code === 'INVALID_CREDENTIALS')).toBe(
      true,
    );
    const started = await start({ token: owner.token });
    expect(started.status).toBe(200);
    // The provider asks its user to sign in again: a session a stranger left in the browser links nothing.
    expect(new URL(started.body.data.authorizationUrl).searchParams.get('prompt')).toBe('login');
    const plain = new URL((await start()).body.data.authorizationUrl).searchParams;
    expect(plain.has('prompt')).toBe(false);

    // An account made by the provider has no password: any given is wrong, and its access token links
    // nothing more (it signs in again with its own provider account only).
    const made = await signIn(person());
    expect(made.status).toBe(200);
    const wrong = await start({ token: made.body.data.accessToken, currentPassword: '!no-password' });
    expect(wrong.status).toBe(401);
    const stranger = person();
    const refused = await signIn(stranger, made.body.data.accessToken);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    expect(await identities(made.body.data.user.id)).toHaveLength(1);
    expect(test.logLines).toContainEqual(expect.objectContaining({ security: 'oidc_refused', code: 'FORBIDDEN' }));
    // The stranger's provider account is no one's yet: it makes an account of its own.
    const own = await signIn(stranger);
    expect(own.status).toBe(200);
    expect(own.body.data.user.id).not.toBe(made.body.data.user.id);
  });

  it('lists the linked provider accounts, and unlinks one given the password; the last way into a passwordless account stays', async () => {
    const owner = await dancer();
    const sub = person({ email: 'listed@example.org', email_verified: true });
    expect((await signIn(sub, owner.token)).status).toBe(200);
    const listed = await request(test.app).get('/api/v1/auth/oidc/identities').set('Authorization', `Bearer ${owner.token}`);
    expect(listed.status).toBe(200);
    expect(listed.body.data.identities).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        issuer: provider.issuer,
        email: 'listed@example.org',
        linkedAt: expect.any(String),
        lastUsedAt: expect.any(String),
      },
    ]);
    const id = listed.body.data.identities[0].id as string;
    const unlink = (token: string, body: object, identity = id) =>
      request(test.app).post(`/api/v1/auth/oidc/identities/${identity}/removal`).set('Authorization', `Bearer ${token}`).send(body);

    // Someone else's is unknown to a stranger; the owner's access token alone removes nothing.
    const stranger = await dancer();
    expect((await unlink(stranger.token, { currentPassword: passwords.get(stranger.token) })).status).toBe(404);
    const noPassword = await unlink(owner.token, {});
    expect(noPassword.status).toBe(401);
    expect(noPassword.body.code).toBe('INVALID_CREDENTIALS');
    expect(await identities(owner.id)).toHaveLength(1);

    expect((await unlink(owner.token, { currentPassword: passwords.get(owner.token) })).status).toBe(204);
    expect(await identities(owner.id)).toEqual([]);
    // The provider account signs the owner in no more: it makes an account of its own.
    const after = await signIn(sub);
    expect(after.status).toBe(200);
    expect(after.body.data.user.id).not.toBe(owner.id);

    // That new account has no password: its only provider account cannot be unlinked.
    const own = (await request(test.app).get('/api/v1/auth/oidc/identities').set('Authorization', `Bearer ${after.body.data.accessToken}`))
      .body.data.identities[0].id as string;
    const last = await unlink(after.body.data.accessToken, {}, own);
    expect(last.status).toBe(409);
    expect(last.body.code).toBe('CONFLICT');
  });

  it('a provider account linked to another account cannot be linked again: OIDC_IDENTITY_LINKED', async () => {
    const sub = person();
    const first = await signIn(sub);
    const intruder = await dancer();
    const res = await signIn(sub, intruder.token);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('OIDC_IDENTITY_LINKED');
    expect(await identities(intruder.id)).toEqual([]);
    expect((await identities(first.body.data.user.id)).map((i) => i.subject)).toEqual([sub]);
  });

  it('only the user who started a link finishes it (anyone else: OIDC_STATE_INVALID, and it stays theirs); all of it is logged', async () => {
    const owner = await dancer();
    const stranger = await dancer();
    const sub = person();
    const { callbackUrl } = await callbackFor(sub, { token: owner.token });
    for (const token of [undefined, stranger.token]) {
      const res = await finish(callbackUrl, { token });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('OIDC_STATE_INVALID');
    }
    const res = await finish(callbackUrl, { token: owner.token });
    expect(res.status).toBe(200);
    expect(res.body.data.user.id).toBe(owner.id);
    expect(await identities(stranger.id)).toEqual([]);

    // The security log tells all of it, and never a code, state, token or secret.
    const events = test.logLines.filter((l) => typeof l.security === 'string' && l.userId === owner.id).map((l) => l.security);
    expect(events).toEqual(expect.arrayContaining(['oidc_started', 'oidc_linked', 'login_succeeded']));
    expect(test.logLines.some((l) => l.security === 'oidc_refused' && l.userId === stranger.id && l.code === 'OIDC_STATE_INVALID')).toBe(
      true,
    );
    const logged = JSON.stringify(test.logLines);
    const params = new URL(callbackUrl).searchParams;
    const secrets = [
      params.get('code')!,
      params.get('state')!,
      res.body.data.accessToken,
      res.body.data.refreshToken,
      TEST_CLIENT.client_secret,
    ];
    for (const secret of secrets) expect(logged).not.toContain(secret);
  });
});

describe('configuration and outages', () => {
  it('without OIDC_* both operations are 404 OIDC_NOT_CONFIGURED', async () => {
    const plain = await createTestApp(database);
    try {
      const started = await start({ app: plain });
      expect(started.status).toBe(404);
      expect(started.body.code).toBe('OIDC_NOT_CONFIGURED');
      const finished = await finish(`${REDIRECT_URI}?code=c&state=s`, { app: plain });
      expect(finished.status).toBe(404);
      expect(finished.body.code).toBe('OIDC_NOT_CONFIGURED');
    } finally {
      await plain.close();
    }
  });

  it('a provider that cannot be reached is 503 with Retry-After, logged without a stack', async () => {
    // A port nothing listens on: one just closed.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const down = await createTestApp(database, oidcEnv(`http://127.0.0.1:${port}`));
    try {
      const res = await start({ app: down });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('SERVICE_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('10');
      expect(down.logLines.some((l) => l.security === 'oidc_unavailable' && String(l.reason).includes('unreachable'))).toBe(true);
      expect(JSON.stringify(down.logLines)).not.toMatch(/"stack"/);
    } finally {
      await down.close();
    }
  });

  it('a client secret the provider refuses is 503, logged as an error naming the variables to check', async () => {
    const misconfigured = await createTestApp(database, { ...oidcEnv(provider.issuer), OIDC_CLIENT_SECRET: 'not-the-registered-secret' });
    try {
      const started = await start({ app: misconfigured });
      const callbackUrl = await provider.signIn(started.body.data.authorizationUrl, person());
      const res = await finish(callbackUrl, { app: misconfigured });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('SERVICE_UNAVAILABLE');
      // Its state is spent: no Retry-After for this finish, a new sign-in instead.
      expect(res.headers['retry-after']).toBeUndefined();
      expect(res.body.detail).toMatch(/start a new sign-in$/);
      const line = misconfigured.logLines.find((l) => l.security === 'oidc_unavailable');
      expect(line).toMatchObject({ level: 'error', reason: expect.stringContaining('OIDC_CLIENT_SECRET') });
    } finally {
      await misconfigured.close();
    }
  });

  it('the configuration takes all four OIDC_* variables or none, and an http:// issuer in production only when allowed', () => {
    const all = oidcEnv('https://id.example.org');
    expect(loadConfig(ConfigSchema, all).OIDC_ISSUER).toBe('https://id.example.org');
    const { OIDC_CLIENT_SECRET: _, ...partial } = all;
    expect(() => loadConfig(ConfigSchema, partial)).toThrow(
      /OIDC_CLIENT_SECRET: OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_REDIRECT_URI go together: set OIDC_CLIENT_SECRET too/,
    );
    expect(() => loadConfig(ConfigSchema, { ...all, OIDC_REDIRECT_URI: 'https://app.example/cb#x' })).toThrow(
      /OIDC_REDIRECT_URI: must not have a fragment/,
    );
    expect(() => loadConfig(ConfigSchema, { ...all, OIDC_REDIRECT_URI: 'https://app.example/cb?from=app' })).toThrow(
      /OIDC_REDIRECT_URI: must not have a query/,
    );
    const http = { ...all, OIDC_ISSUER: 'http://id.internal', NODE_ENV: 'production' };
    expect(() => loadConfig(ConfigSchema, http)).toThrow(/OIDC_ISSUER: is http:\/\/ in production/);
    expect(loadConfig(ConfigSchema, { ...http, OIDC_ALLOW_HTTP: 'true' }).OIDC_ALLOW_HTTP).toBe(true);
  });
});

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
