import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentTotp } from '../../../server/auth/totp';
import type { Database } from '../../../server/db/database';
import { openServerDatabase } from '../../support/database';
import { recoveryCodes, refreshTokens, users } from '../../../server/db/schema';
import { createTestApp } from '../../support/app';
import { around, createRecorder, type Recorded } from './recorder';

/**
 * Drives the whole account surface through one app, recording every response, while reading the
 * stored secrets from the database after each request (so every value a secret column ever held
 * is known). Then: no stored secret reaches a response, and no password, token or code reaches
 * the log.
 */

let database: Database;
let test: Awaited<ReturnType<typeof createTestApp>>;
let recorder: ReturnType<typeof createRecorder>;

/** Every value each secret column held at any point of the run. */
const stored = {
  passwordHash: new Set<string>(),
  mfaSecret: new Set<string>(),
  tokenHash: new Set<string>(),
  codeHash: new Set<string>(),
};

/** What the client knows and the log must never see. */
const clientSecrets = {
  passwords: new Set<string>(),
  accessTokens: new Set<string>(),
  refreshTokens: new Set<string>(),
  mfaTokens: new Set<string>(),
  totpCodes: new Set<string>(),
  recoveryCodes: new Set<string>(),
  totpSecrets: new Set<string>(),
};

async function readStoredSecrets(): Promise<void> {
  for (const row of await database.db.select({ passwordHash: users.passwordHash, mfaSecret: users.mfaSecret }).from(users)) {
    stored.passwordHash.add(row.passwordHash);
    if (row.mfaSecret) stored.mfaSecret.add(row.mfaSecret);
  }
  for (const row of await database.db.select({ tokenHash: refreshTokens.tokenHash }).from(refreshTokens))
    stored.tokenHash.add(row.tokenHash);
  for (const row of await database.db.select({ codeHash: recoveryCodes.codeHash }).from(recoveryCodes)) stored.codeHash.add(row.codeHash);
}

const password = 'milonga de los jueves en canning';
const newPassword = 'a brand new tango passphrase';
const wrongPassword = 'not my password at all';
const weakPassword = 'password123';
const tooLongPassword = `${'x'.repeat(1030)}`;
let nextAddress = 0;
const freshAddress = () => `10.77.0.${++nextAddress}`;

interface Tokens {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  user: { id: string };
}

/** Keeps every token a response hands out, to look for it in the log later. */
function keep(tokens: Tokens): Tokens {
  clientSecrets.accessTokens.add(tokens.accessToken);
  clientSecrets.refreshTokens.add(tokens.refreshToken);
  return tokens;
}

beforeAll(async () => {
  database = await openServerDatabase();
  test = await createTestApp(database, { TRUST_PROXY: 'loopback' });
  recorder = createRecorder(test.app, readStoredSecrets);
  for (const pw of [password, newPassword, wrongPassword, weakPassword, tooLongPassword]) clientSecrets.passwords.add(pw);
  await driveAccountSurface();
});
afterAll(async () => {
  await test?.close();
  await database?.close();
});

/** register, login, profile, search, refresh, sessions, MFA (enroll, confirm, login, recovery, disable), password change, errors. */
async function driveAccountSurface(): Promise<void> {
  const { call } = recorder;
  const expectStatus = (res: { status: number; text: string }, status: number, what: string) =>
    expect(res.status, `${what}: ${res.text}`).toBe(status);
  const suffix = randomUUID().slice(0, 8);
  const alice = `alice-${suffix}`;
  const bob = `bob-${suffix}`;

  // Registration, and its failures.
  let res = await call('register', 'post', '/auth/register', {
    ip: freshAddress(),
    body: { username: alice, password, displayName: 'Alice Leak' },
  });
  expectStatus(res, 201, 'register alice');
  const a1 = keep(res.body.data as Tokens);
  res = await call('register', 'post', '/auth/register', {
    ip: freshAddress(),
    body: { username: bob, password, displayName: 'Bob Leak', device: 'Pixel 9' },
  });
  expectStatus(res, 201, 'register bob');
  const b1 = keep(res.body.data as Tokens);
  res = await call('register taken', 'post', '/auth/register', {
    ip: freshAddress(),
    body: { username: alice.toUpperCase(), password, displayName: 'Again' },
  });
  expectStatus(res, 409, 'register taken');
  res = await call('register weak', 'post', '/auth/register', {
    ip: freshAddress(),
    body: { username: `weak-${suffix}`, password: weakPassword, displayName: 'W' },
  });
  expectStatus(res, 400, 'register weak');
  res = await call('register too long', 'post', '/auth/register', {
    ip: freshAddress(),
    body: { username: `long-${suffix}`, password: tooLongPassword, displayName: 'L' },
  });
  expectStatus(res, 400, 'register too long');

  // Login, and its failures.
  res = await call('login wrong password', 'post', '/auth/login', { ip: '10.78.0.1', body: { username: alice, password: wrongPassword } });
  expectStatus(res, 401, 'login wrong password');
  res = await call('login unknown user', 'post', '/auth/login', { ip: '10.78.0.1', body: { username: `nobody-${suffix}`, password } });
  expectStatus(res, 401, 'login unknown user');
  res = await call('login', 'post', '/auth/login', { ip: '10.78.0.1', body: { username: alice, password, device: 'Laptop' } });
  expectStatus(res, 200, 'login');
  const a2 = keep(res.body.data as Tokens);

  // Profiles and search.
  res = await call('getMe', 'get', '/users/me', { token: a1.accessToken });
  expectStatus(res, 200, 'getMe');
  res = await call('getMe garbage token', 'get', '/users/me', { token: 'not-a-token' });
  expectStatus(res, 401, 'getMe garbage token');
  res = await call('getMe refresh token as bearer', 'get', '/users/me', { token: a1.refreshToken });
  expectStatus(res, 401, 'getMe refresh token as bearer');
  res = await call('updateMe', 'patch', '/users/me', {
    token: a1.accessToken,
    body: { bio: 'Milonguera', city: 'Buenos Aires', danceRole: 'follower' },
  });
  expectStatus(res, 200, 'updateMe');
  res = await call('updateMe invalid', 'patch', '/users/me', { token: a1.accessToken, body: { displayName: '', avatarUrl: 'ftp://x' } });
  expectStatus(res, 400, 'updateMe invalid');
  res = await call('getUser by name', 'get', `/users/${bob}`, { token: a1.accessToken });
  expectStatus(res, 200, 'getUser by name');
  res = await call('getUser by id', 'get', `/users/${a1.user.id}`, { token: b1.accessToken });
  expectStatus(res, 200, 'getUser by id');
  res = await call('getUser unknown', 'get', `/users/nobody-${suffix}`, { token: a1.accessToken });
  expectStatus(res, 404, 'getUser unknown');
  res = await call('searchUsers', 'get', `/users?q=${suffix}`, { token: b1.accessToken });
  expectStatus(res, 200, 'searchUsers');
  expect(res.body.data).toHaveLength(2);
  res = await call('searchUsers by city, paged', 'get', '/users?city=buenos%20aires&limit=1', { token: b1.accessToken });
  expectStatus(res, 200, 'searchUsers by city');
  res = await call('searchUsers anonymous', 'get', `/users?q=${suffix}`);
  expectStatus(res, 401, 'searchUsers anonymous');

  // Refresh and sessions.
  res = await call('refresh', 'post', '/auth/refresh', { body: { refreshToken: a2.refreshToken } });
  expectStatus(res, 200, 'refresh');
  const a2r = keep(res.body.data as Tokens);
  res = await call('refresh garbage', 'post', '/auth/refresh', { body: { refreshToken: 'garbage' } });
  expectStatus(res, 401, 'refresh garbage');
  res = await call('listSessions', 'get', '/auth/sessions', { token: a1.accessToken });
  expectStatus(res, 200, 'listSessions');
  expect(res.body.data).toHaveLength(2);
  res = await call('revokeSession unknown', 'delete', `/auth/sessions/${randomUUID()}`, { token: a1.accessToken });
  expectStatus(res, 404, 'revokeSession unknown');
  res = await call('revokeSession of another user', 'delete', `/auth/sessions/${b1.sessionId}`, { token: a1.accessToken });
  expectStatus(res, 404, 'revokeSession of another user');

  // MFA: enroll, confirm, and the errors around them.
  res = await call('confirmMfa before enroll', 'post', '/auth/mfa/confirm', {
    token: a1.accessToken,
    body: { code: '123456', currentPassword: password },
  });
  expectStatus(res, 409, 'confirmMfa before enroll');
  res = await call('enrollMfa', 'post', '/auth/mfa/enroll', { token: a1.accessToken });
  expectStatus(res, 200, 'enrollMfa');
  const secret: string = res.body.data.secret;
  clientSecrets.totpSecrets.add(secret);
  res = await call('confirmMfa wrong code', 'post', '/auth/mfa/confirm', {
    token: a1.accessToken,
    body: { code: wrongCode(secret), currentPassword: password },
  });
  expectStatus(res, 401, 'confirmMfa wrong code');
  const confirmCode = currentTotp(secret);
  clientSecrets.totpCodes.add(confirmCode);
  res = await call('confirmMfa', 'post', '/auth/mfa/confirm', {
    token: a1.accessToken,
    body: { code: confirmCode, currentPassword: password },
  });
  expectStatus(res, 200, 'confirmMfa');
  const codes = res.body.data.recoveryCodes as string[];
  for (const code of codes) clientSecrets.recoveryCodes.add(code);
  res = await call('enrollMfa when enabled', 'post', '/auth/mfa/enroll', { token: a1.accessToken });
  expectStatus(res, 409, 'enrollMfa when enabled');

  // MFA login with a TOTP code (the next step: the confirm step is spent), then with a recovery code.
  res = await call('login mfa challenge', 'post', '/auth/login', { ip: '10.78.0.2', body: { username: alice, password } });
  expectStatus(res, 200, 'login mfa challenge');
  expect(res.body.data.status).toBe('mfa_required');
  let mfaToken: string = res.body.data.challenge.mfaToken;
  clientSecrets.mfaTokens.add(mfaToken);
  res = await call('verifyMfaLogin wrong code', 'post', '/auth/login/mfa', { body: { mfaToken, code: wrongCode(secret) } });
  expectStatus(res, 401, 'verifyMfaLogin wrong code');
  const nextCode = currentTotp(secret, Date.now() + 30_000);
  clientSecrets.totpCodes.add(nextCode);
  res = await call('verifyMfaLogin code', 'post', '/auth/login/mfa', { body: { mfaToken, code: nextCode } });
  expectStatus(res, 200, 'verifyMfaLogin code');
  keep(res.body.data as Tokens);
  res = await call('verifyMfaLogin code replay', 'post', '/auth/login/mfa', { body: { mfaToken, code: nextCode } });
  expectStatus(res, 401, 'verifyMfaLogin code replay');
  res = await call('login mfa challenge', 'post', '/auth/login', { ip: '10.78.0.2', body: { username: alice, password } });
  expectStatus(res, 200, 'login mfa challenge 2');
  mfaToken = res.body.data.challenge.mfaToken;
  clientSecrets.mfaTokens.add(mfaToken);
  res = await call('verifyMfaLogin recovery code', 'post', '/auth/login/mfa', { body: { mfaToken, recoveryCode: codes[0] } });
  expectStatus(res, 200, 'verifyMfaLogin recovery code');
  const a3 = keep(res.body.data as Tokens);
  res = await call('verifyMfaLogin recovery code reused', 'post', '/auth/login/mfa', { body: { mfaToken, recoveryCode: codes[0] } });
  expectStatus(res, 401, 'verifyMfaLogin recovery code reused');
  res = await call('verifyMfaLogin both proofs', 'post', '/auth/login/mfa', { body: { mfaToken, code: nextCode, recoveryCode: codes[1] } });
  expectStatus(res, 400, 'verifyMfaLogin both proofs');
  res = await call('getMe with mfa', 'get', '/users/me', { token: a3.accessToken });
  expectStatus(res, 200, 'getMe with mfa');
  expect(res.body.data.mfaEnabled).toBe(true);

  // Password change, and its failures.
  res = await call('changePassword wrong current', 'post', '/auth/password', {
    token: a3.accessToken,
    body: { currentPassword: wrongPassword, newPassword },
  });
  expectStatus(res, 401, 'changePassword wrong current');
  res = await call('changePassword weak', 'post', '/auth/password', {
    token: a3.accessToken,
    body: { currentPassword: password, newPassword: weakPassword },
  });
  expectStatus(res, 400, 'changePassword weak');
  res = await call('changePassword', 'post', '/auth/password', { token: a3.accessToken, body: { currentPassword: password, newPassword } });
  expectStatus(res, 204, 'changePassword');
  res = await call('login old password', 'post', '/auth/login', { ip: '10.78.0.3', body: { username: alice, password } });
  expectStatus(res, 401, 'login old password');
  res = await call('login new password', 'post', '/auth/login', { ip: '10.78.0.3', body: { username: alice, password: newPassword } });
  expectStatus(res, 200, 'login new password');
  mfaToken = res.body.data.challenge.mfaToken;
  clientSecrets.mfaTokens.add(mfaToken);
  res = await call('verifyMfaLogin after password change', 'post', '/auth/login/mfa', { body: { mfaToken, recoveryCode: codes[1] } });
  expectStatus(res, 200, 'verifyMfaLogin after password change');
  const a4 = keep(res.body.data as Tokens);

  // The sessions signed out by the password change, and a reused refresh token.
  res = await call('getMe revoked session', 'get', '/users/me', { token: a1.accessToken });
  expectStatus(res, 401, 'getMe revoked session');
  res = await call('refresh revoked session', 'post', '/auth/refresh', { body: { refreshToken: a2r.refreshToken } });
  expectStatus(res, 401, 'refresh revoked session');
  res = await call('refresh reused token', 'post', '/auth/refresh', { body: { refreshToken: a2.refreshToken } });
  expectStatus(res, 401, 'refresh reused token');
  res = await call('refresh', 'post', '/auth/refresh', { body: { refreshToken: a4.refreshToken } });
  expectStatus(res, 200, 'refresh after mfa');
  const a5 = keep(res.body.data as Tokens);

  // Disable MFA: failures first (the TOTP steps near now are spent, so recovery codes prove it).
  res = await call('disableMfa wrong recovery code', 'post', '/auth/mfa/disable', {
    token: a5.accessToken,
    body: { recoveryCode: 'aaaa-bbbb-cccc' },
  });
  expectStatus(res, 401, 'disableMfa wrong recovery code');
  res = await call('disableMfa no proof', 'post', '/auth/mfa/disable', { token: a5.accessToken, body: {} });
  expectStatus(res, 400, 'disableMfa no proof');
  res = await call('disableMfa', 'post', '/auth/mfa/disable', { token: a5.accessToken, body: { recoveryCode: codes[2] } });
  expectStatus(res, 204, 'disableMfa');
  res = await call('disableMfa when off', 'post', '/auth/mfa/disable', { token: a5.accessToken, body: { recoveryCode: codes[3] } });
  expectStatus(res, 409, 'disableMfa when off');

  // Signing out.
  res = await call('listSessions', 'get', '/auth/sessions', { token: a5.accessToken });
  expectStatus(res, 200, 'listSessions at the end');
  res = await call('logout', 'post', '/auth/logout', { token: a5.accessToken });
  expectStatus(res, 204, 'logout');
  res = await call('getMe after logout', 'get', '/users/me', { token: a5.accessToken });
  expectStatus(res, 401, 'getMe after logout');
  res = await call('logoutAll', 'post', '/auth/logout-all', { token: b1.accessToken });
  expectStatus(res, 204, 'logoutAll');
}

/** A well-formed code that is not valid now (nor one step either side). */
function wrongCode(secret: string): string {
  const valid = new Set([-30_000, 0, 30_000].map((offset) => currentTotp(secret, Date.now() + offset)));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!valid.has(candidate)) return candidate;
  }
}

/** Pieces of an argon2 PHC string (`$argon2id$v=19$m=…$salt$hash`) that are secret on their own. */
function hashParts(phc: string): string[] {
  return [phc, ...phc.split('$').filter((part) => part.length >= 16)];
}

/** Everything of `response` the client received, as one string. */
const seen = (response: Recorded) => `${response.headers}\n${response.body}`;

describe('no stored secret leaves the API', () => {
  it('recorded the whole surface, and read every secret column while it was set', () => {
    const operations = new Set(recorder.responses.map((r) => `${r.method} ${r.path.replace(/\?.*/, '')}`));
    expect(operations.size).toBeGreaterThanOrEqual(15);
    expect(recorder.responses.length).toBeGreaterThanOrEqual(50);
    // alice's first and second password, bob's.
    expect(stored.passwordHash.size).toBeGreaterThanOrEqual(3);
    expect(stored.mfaSecret.size).toBe(1);
    expect(stored.codeHash.size).toBe(10);
    expect(stored.tokenHash.size).toBeGreaterThanOrEqual(clientSecrets.refreshTokens.size);
  });

  it('no password hash, refresh-token hash or recovery-code hash appears in any response', () => {
    const secrets = [
      ...[...stored.passwordHash].flatMap((hash) => hashParts(hash).map((value) => ({ column: 'users.password_hash', value }))),
      ...[...stored.tokenHash].map((value) => ({ column: 'refresh_tokens.token_hash', value })),
      ...[...stored.codeHash].map((value) => ({ column: 'recovery_codes.code_hash', value })),
    ];
    const leaks = recorder.responses.flatMap((response) =>
      secrets
        .filter(({ value }) => seen(response).includes(value))
        .map(({ column, value }) => ({
          response: `${response.label}: ${response.method} ${response.path}`,
          column,
          context: around(seen(response), value),
        })),
    );
    expect(leaks).toEqual([]);
  });

  it('the TOTP secret appears only in the one enrollment response', () => {
    // The enrollment response hands the secret to the user once (as `secret` and inside
    // `otpauthUri`) by design, to set up the authenticator app: exactly that response is exempt.
    const enrollment = recorder.responses.filter((r) => r.label === 'enrollMfa' && r.status === 200);
    expect(enrollment).toHaveLength(1);
    const [secret] = [...stored.mfaSecret];
    expect(enrollment[0]!.body).toContain(secret);
    const leaks = recorder.responses
      .filter((response) => response !== enrollment[0] && seen(response).includes(secret!))
      .map((response) => `${response.label}: ${response.method} ${response.path}`);
    expect(leaks).toEqual([]);
  });

  it('no response names a secret column or field', () => {
    const names = ['passwordHash', 'password_hash', 'mfaSecret', 'mfa_secret', 'tokenHash', 'token_hash', 'codeHash', 'code_hash'];
    const leaks = recorder.responses.flatMap((response) =>
      names
        .filter((name) => seen(response).toLowerCase().includes(name.toLowerCase()))
        .map((name) => `${response.label}: ${response.method} ${response.path} names ${name}`),
    );
    expect(leaks).toEqual([]);
  });
});

describe('no credential reaches the log', () => {
  it('no password, token, MFA code, recovery code, TOTP secret or stored hash in any log line', () => {
    expect(test.logLines.length).toBeGreaterThanOrEqual(recorder.responses.length);
    expect(test.logLines.some((line) => line.security === 'login_failed')).toBe(true);
    expect(test.logLines.some((line) => line.security === 'mfa_enabled')).toBe(true);
    const log = test.logLines.map((line) => JSON.stringify(line)).join('\n');

    const exact: { kind: string; value: string }[] = [
      ...[...clientSecrets.passwords].map((value) => ({ kind: 'password', value })),
      ...[...clientSecrets.accessTokens].flatMap((value) => [
        { kind: 'access token', value },
        { kind: 'access token signature', value: value.split('.')[2]! },
      ]),
      ...[...clientSecrets.refreshTokens].map((value) => ({ kind: 'refresh token', value })),
      ...[...clientSecrets.mfaTokens].map((value) => ({ kind: 'MFA challenge token', value })),
      ...[...clientSecrets.recoveryCodes].flatMap((value) => [
        { kind: 'recovery code', value },
        { kind: 'recovery code (undashed)', value: value.replaceAll('-', '') },
      ]),
      ...[...clientSecrets.totpSecrets].map((value) => ({ kind: 'TOTP secret', value })),
      ...[...stored.passwordHash].flatMap((hash) => hashParts(hash).map((value) => ({ kind: 'password hash', value }))),
      ...[...stored.tokenHash].map((value) => ({ kind: 'refresh-token hash', value })),
      ...[...stored.codeHash].map((value) => ({ kind: 'recovery-code hash', value })),
    ];
    expect(exact.filter(({ value }) => log.includes(value)).map(({ kind, value }) => ({ kind, context: around(log, value) }))).toEqual([]);

    // Six digits could occur inside an id by chance; a logged code would stand on its own.
    const codes = [...clientSecrets.totpCodes].filter((code) => new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`).test(log));
    expect(codes).toEqual([]);
  });
});
