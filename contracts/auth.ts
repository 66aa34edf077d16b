import { z } from 'zod';
import { endpoint, paginated, Timestamp, Uuid } from '../runtime/contract';
import { Me, UsernameInput } from './users';

/** A password being signed in with: whatever the account has. */
const password = z.string().min(1).max(1024).meta({ description: 'The account’s password' });
/** A password being chosen: the bounds of server/auth/password-policy.ts (its test checks they agree). */
const newPassword = z
  .string()
  .min(8)
  .max(128)
  .meta({
    description:
      '8–128 characters (counted after Unicode NFKC normalization); common and breached passwords, and the username or ' +
      'display name, are refused',
  });
const device = z.string().max(200).trim().min(1).meta({ description: 'A name for this device, e.g. "Pixel 9"' });
const totpCode = z
  .string()
  .length(6)
  .regex(/^\d{6}$/, 'A 6-digit code')
  .meta({ description: 'Code from the authenticator app' });
const recoveryCode = z.string().min(1).max(64).meta({ description: 'One of the recovery codes shown when MFA was enabled' });

export const AuthSession = z
  .object({
    status: z.literal('authenticated'),
    tokenType: z.literal('Bearer'),
    accessToken: z.string().max(4096),
    expiresIn: z.number().int().meta({ description: 'Seconds the access token is valid' }),
    refreshToken: z.string().max(200).meta({ description: 'Opaque; single use: every refresh returns a new one' }),
    sessionId: Uuid,
    user: Me,
  })
  .meta({
    id: 'AuthSession',
    description:
      'Tokens of a signed-in session: register, login, verifyMfaLogin and refreshTokens all answer them here, the access ' +
      'token at `data.accessToken` (send it as `Authorization: Bearer <accessToken>`)',
  });

export const MfaChallenge = z
  .object({
    mfaToken: z.string().max(4096).meta({ description: 'Send it back with a code to verifyMfaLogin; good for one sign-in' }),
    expiresIn: z.number().int(),
  })
  .meta({ id: 'MfaChallenge' });

export const LoginResult = z
  .discriminatedUnion('status', [AuthSession, z.object({ status: z.literal('mfa_required'), challenge: MfaChallenge })])
  .meta({ id: 'LoginResult', description: 'Tokens, or an MFA challenge when the account has MFA enabled' });

export const Session = z
  .object({
    id: Uuid,
    device: z.string().max(200).nullable(),
    ip: z.string().max(100).nullable(),
    createdAt: Timestamp,
    lastUsedAt: Timestamp,
    current: z.boolean().meta({ description: 'True for the session of the token making this request' }),
  })
  .meta({ id: 'Session', description: 'A signed-in device' });

const mfaProof = { code: totpCode.optional(), recoveryCode: recoveryCode.optional() };
/** MFA proofs take exactly one of `code` and `recoveryCode`. */
const oneProof = (v: { code?: string; recoveryCode?: string }) => (v.code === undefined) !== (v.recoveryCode === undefined);
const oneProofIssue = { message: 'Send either code or recoveryCode', path: ['code'] };

export const register = endpoint({
  method: 'POST',
  version: 1,
  path: '/auth/register',
  operationId: 'register',
  // Its answer holds credentials: never stored for an Idempotency-Key replay.
  idempotencyKey: false,
  summary: 'Create an account',
  description: 'Creates the account and signs it in.',
  tags: ['auth'],
  auth: 'public',
  body: z
    .object({ username: UsernameInput, password: newPassword, displayName: z.string().max(80).trim().min(1), device: device.optional() })
    .meta({
      example: { username: 'ana.milonguera', password: 'milonga at midnight in Almagro', displayName: 'Ana', device: 'Swagger UI' },
    }),
  response: { status: 201, body: AuthSession },
  errors: ['USERNAME_TAKEN'],
  rateLimit: { points: 10, windowSeconds: 3600, key: 'ip' },
});

export const login = endpoint({
  method: 'POST',
  version: 1,
  path: '/auth/login',
  operationId: 'login',
  // Its answer holds credentials: never stored for an Idempotency-Key replay.
  idempotencyKey: false,
  summary: 'Sign in',
  description:
    'Unknown user and wrong password get the same answer. With the right password, a suspended account is 403 ' +
    '`ACCOUNT_SUSPENDED` (its `until` says when the suspension ends; `appealSuspension` appeals it) and a banned one 403 `ACCOUNT_BANNED`.',
  tags: ['auth'],
  auth: 'public',
  body: z
    .object({ username: UsernameInput, password, device: device.optional() })
    .meta({ example: { username: 'ana.milonguera', password: 'milonga at midnight in Almagro', device: 'Swagger UI' } }),
  response: { status: 200, body: LoginResult },
  errors: ['INVALID_CREDENTIALS', 'ACCOUNT_SUSPENDED', 'ACCOUNT_BANNED'],
  rateLimit: [
    { name: 'login', points: 5, windowSeconds: 900, key: ['body.username', 'ip'], failuresOnly: true },
    { name: 'login-ip-daily', points: 100, windowSeconds: 86_400, key: 'ip', failuresOnly: true },
  ],
});

export const verifyMfaLogin = endpoint({
  method: 'POST',
  version: 1,
  path: '/auth/login/mfa',
  operationId: 'verifyMfaLogin',
  // Its answer holds credentials: never stored for an Idempotency-Key replay.
  idempotencyKey: false,
  summary: 'Finish signing in with an MFA code',
  description:
    'Takes the challenge from login and a code from the authenticator app, or a recovery code (each works once). ' +
    'A challenge is good for one sign-in: the first right code spends it, and after 5 wrong codes it is dead ' +
    '(`MFA_CHALLENGE_EXPIRED`, as when it is spent or its 5 minutes are up: sign in again). An account takes ' +
    'at most 10 wrong codes in 15 minutes over all its challenges, then `429` with `Retry-After`.',
  tags: ['auth'],
  auth: 'public',
  body: z
    .object({ mfaToken: z.string().min(1).max(4096), ...mfaProof })
    .refine(oneProof, oneProofIssue)
    .meta({ example: { mfaToken: 'challenge.mfaToken from login', code: '123456' } }),
  response: { status: 200, body: AuthSession },
  errors: ['INVALID_MFA_CODE', 'MFA_CHALLENGE_EXPIRED', 'ACCOUNT_SUSPENDED', 'ACCOUNT_BANNED'],
  rateLimit: { name: 'mfa', points: 10, windowSeconds: 900, key: 'ip', failuresOnly: true },
});

export const refreshTokens = endpoint({
  method: 'POST',
  version: 1,
  path: '/auth/refresh',
  operationId: 'refreshTokens',
  // Its answer holds credentials: never stored for an Idempotency-Key replay.
  idempotencyKey: false,
  summary: 'Exchange a refresh token for new tokens',
  description:
    'Every refresh token works once and is replaced by the one returned. Presenting a token that was ' +
    'already used revokes the whole session, since it means the token was copied.',
  tags: ['auth'],
  auth: 'public',
  body: z
    .object({ refreshToken: z.string().min(1).max(200) })
    .meta({ example: { refreshToken: 'refreshToken from login or the last refresh' } }),
  response: { status: 200, body: AuthSession },
  errors: ['UNAUTHENTICATED'],
  rateLimit: { points: 60, windowSeconds: 600, key: 'ip' },
});

export const logout = endpoint({
  method: 'POST',
  version: 1,
  path: '/auth/logout',
  operationId: 'logout',
  summary: 'Sign out this session',
  description: 'Its access token is refused from the next request on, and its refresh token no longer works.',
  tags: ['auth'],
  auth: 'user',
  response: { status: 204 },
});

export const logoutAll = endpoint({
  method: 'POST',
  version: 1,
  path: '/auth/logout-all',
  operationId: 'logoutAll',
  summary: 'Sign out every session',
  tags: ['auth'],
  auth: 'user',
  response: { status: 204 },
});

export const listSessions = endpoint({
  method: 'GET',
  version: 1,
  path: '/auth/sessions',
  operationId: 'listSessions',
  summary: 'List my signed-in sessions',
  tags: ['auth'],
  auth: 'user',
  response: paginated(Session),
});

export const revokeSession = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/auth/sessions/{sessionId}',
  operationId: 'revokeSession',
  summary: 'Sign out one of my sessions',
  tags: ['auth'],
  auth: 'user',
  params: z.object({ sessionId: Uuid }),
  response: { status: 204 },
  errors: ['NOT_FOUND'],
});

export const changePassword = endpoint({
  method: 'POST',
  version: 1,
  path: '/auth/password',
  operationId: 'changePassword',
  summary: 'Change my password',
  description:
    'Signs out every other session. An account made by signing in with a provider has no password: it sets its first one ' +
    'without `currentPassword`, in a session opened within the last 10 minutes by signing in again with the provider ' +
    'started signed in (startOidcSignIn with the access token, then finishOidcSignIn).',
  tags: ['auth'],
  auth: 'user',
  body: z
    .object({
      currentPassword: password.optional().meta({
        description: 'The account’s password; left out only to set the first password of an account made by a provider sign-in',
      }),
      newPassword,
    })
    .meta({ example: { currentPassword: 'milonga at midnight in Almagro', newPassword: 'vals at dawn in Boedo, then coffee' } }),
  response: { status: 204 },
  errors: ['INVALID_CREDENTIALS'],
  rateLimit: { name: 'password', points: 5, windowSeconds: 900, key: 'user', failuresOnly: true },
});

export const MfaEnrollment = z
  .object({
    secret: z.string().max(100).meta({ description: 'Base32 secret, for apps that cannot scan the URI' }),
    otpauthUri: z.string().max(500).meta({ description: 'otpauth:// URI, to show as a QR code' }),
  })
  .meta({ id: 'MfaEnrollment' });

export const enrollMfa = endpoint({
  method: 'POST',
  version: 1,
  path: '/auth/mfa/enroll',
  operationId: 'enrollMfa',
  // Its answer holds credentials: never stored for an Idempotency-Key replay.
  idempotencyKey: false,
  summary: 'Start enabling MFA',
  description: 'Returns a new TOTP secret; MFA is on once confirmMfa gets a valid code for it.',
  tags: ['auth'],
  auth: 'user',
  response: { status: 200, body: MfaEnrollment },
  errors: ['MFA_ALREADY_ENABLED'],
});

export const confirmMfa = endpoint({
  method: 'POST',
  version: 1,
  path: '/auth/mfa/confirm',
  operationId: 'confirmMfa',
  // Its answer holds credentials: never stored for an Idempotency-Key replay.
  idempotencyKey: false,
  summary: 'Enable MFA with a code',
  description:
    'Asks for the current password too, so a stolen access token cannot turn MFA on and lock the owner ' +
    'out. Returns ten one-time recovery codes; they are shown only this once.',
  tags: ['auth'],
  auth: 'user',
  body: z
    .object({ code: totpCode, currentPassword: password })
    .meta({ example: { code: '123456', currentPassword: 'milonga at midnight in Almagro' } }),
  response: { status: 200, body: z.object({ recoveryCodes: z.array(z.string().max(64)).max(20) }).meta({ id: 'RecoveryCodes' }) },
  errors: ['INVALID_MFA_CODE', 'MFA_NOT_ENROLLED', 'MFA_ALREADY_ENABLED', 'INVALID_CREDENTIALS'],
  rateLimit: { name: 'mfa-confirm', points: 10, windowSeconds: 900, key: 'user', failuresOnly: true },
});

export const disableMfa = endpoint({
  method: 'POST',
  version: 1,
  path: '/auth/mfa/disable',
  operationId: 'disableMfa',
  summary: 'Disable MFA',
  tags: ['auth'],
  auth: 'user',
  body: z
    .object(mfaProof)
    .refine(oneProof, oneProofIssue)
    .meta({ example: { recoveryCode: 'one of the recoveryCodes from confirmMfa' } }),
  response: { status: 204 },
  errors: ['INVALID_MFA_CODE', 'MFA_NOT_ENROLLED'],
  rateLimit: { name: 'mfa-disable', points: 10, windowSeconds: 900, key: 'user', failuresOnly: true },
});

export const OidcAuthorization = z
  .object({
    authorizationUrl: z
      .string()
      .max(4096)
      .meta({
        description:
          'The provider’s sign-in page for this sign-in: open it in the system browser (or an in-app browser tab). The provider ' +
          'sends the browser back to the app’s redirect URI, whose whole URL goes to finishOidcSignIn',
      }),
    flowToken: z
      .string()
      .max(100)
      .meta({
        description:
          'Keep it in the app, never in the browser: finishOidcSignIn needs it with the callback, so whoever intercepts ' +
          'the redirect cannot finish the sign-in',
      }),
    expiresIn: z.number().int().meta({ description: 'Seconds left to finish this sign-in' }),
  })
  .meta({ id: 'OidcAuthorization' });

export const startOidcSignIn = endpoint({
  method: 'POST',
  version: 1,
  path: '/auth/oidc/start',
  operationId: 'startOidcSignIn',
  // Its answer holds a single-use secret (the state): never stored for an Idempotency-Key replay.
  idempotencyKey: false,
  summary: 'Start signing in with the OpenID Connect provider',
  description:
    'Answers the provider’s sign-in page for a new sign-in (authorization code with PKCE; the state, nonce and code ' +
    'verifier stay on the server, good for one finishOidcSignIn within 10 minutes, by the app holding `flowToken`). ' +
    'Signed out, finishing it signs in the ' +
    'account linked to the provider account, or creates one; with an access token, finishing it links the provider ' +
    'account to the caller’s (who must then finish it, signed in), given the account’s password when it has one ' +
    '(401 `INVALID_CREDENTIALS` otherwise); the provider asks the person to sign in again. An account without a ' +
    'password, made by the provider, starts it without one to sign in again with its own provider account (its new ' +
    'session may set a first password with changePassword); it links no other (403 `FORBIDDEN` at finish). ' +
    '404 `OIDC_NOT_CONFIGURED` when this server has no ' +
    'provider; 503 with `Retry-After` while the provider cannot be reached.',
  tags: ['auth'],
  auth: 'optional',
  body: z
    .object({
      currentPassword: password.optional().meta({
        description:
          'Linking (with an access token): the account’s password, so a stolen access token cannot link the thief’s ' +
          'provider account. Not needed to sign in, nor by an account made by the provider (it has none) to sign in again',
      }),
    })
    .meta({
      id: 'OidcStart',
      description: 'Empty (`{}`) to sign in; with your password to link',
      example: { currentPassword: 'milonga at midnight in Almagro' },
    }),
  response: { status: 200, body: OidcAuthorization },
  // FORBIDDEN is answered by finishOidcSignIn now; it stays documented here, as published.
  errors: ['OIDC_NOT_CONFIGURED', 'INVALID_CREDENTIALS', 'FORBIDDEN', 'SERVICE_UNAVAILABLE'],
  rateLimit: [
    { name: 'oidc-start', points: 30, windowSeconds: 900, key: 'ip' },
    // changePassword's bucket: a wrong currentPassword here counts with wrong ones there.
    { name: 'password', points: 5, windowSeconds: 900, key: 'user', failuresOnly: true },
  ],
});

export const finishOidcSignIn = endpoint({
  method: 'POST',
  version: 1,
  path: '/auth/oidc/finish',
  operationId: 'finishOidcSignIn',
  // Its answer holds credentials: never stored for an Idempotency-Key replay.
  idempotencyKey: false,
  summary: 'Finish signing in with the OpenID Connect provider',
  description:
    'Takes the URL the provider sent the browser to (the configured redirect URI with `code`, `state` and `iss`) and the ' +
    '`flowToken` startOidcSignIn answered, checks them against the sign-in it began (`OIDC_STATE_INVALID`: unknown, ' +
    'expired, finished already, another app’s or another user’s), has the provider exchange the code (PKCE) and ' +
    'validates the ID token (issuer, audience, nonce, times, signature). ' +
    'Answers as login does: tokens, or an MFA challenge when the account has MFA on; a suspended or banned account is ' +
    'refused. The first sign-in with a provider account creates an account (its username made from the provider’s, ' +
    'with no password: it signs in with the provider only); a sign-in started with an access token links the provider ' +
    'account to the caller’s instead (409 `OIDC_IDENTITY_LINKED` when it is linked to another account; 403 `FORBIDDEN` ' +
    'when the caller’s account has no password: it signs in again with its own only). Accounts are ' +
    'never matched by email.',
  tags: ['auth'],
  auth: 'optional',
  body: z
    .object({
      callbackUrl: z.string().min(1).max(8192).meta({
        description: 'The whole URL the provider redirected the browser to, query included',
      }),
      flowToken: z.string().min(1).max(100).meta({ description: 'The `flowToken` startOidcSignIn answered for this sign-in' }),
      device: device.optional(),
    })
    .meta({
      id: 'OidcCallback',
      example: {
        callbackUrl: 'https://app.mundotango.life/oidc/callback?code=…&state=…&iss=…',
        flowToken: 'flowToken from startOidcSignIn',
        device: 'Swagger UI',
      },
    }),
  response: { status: 200, body: LoginResult },
  errors: [
    'OIDC_NOT_CONFIGURED',
    'OIDC_CALLBACK_INVALID',
    'OIDC_STATE_INVALID',
    'OIDC_PROVIDER_REFUSED',
    'OIDC_EXCHANGE_FAILED',
    'OIDC_ID_TOKEN_INVALID',
    'OIDC_IDENTITY_LINKED',
    'FORBIDDEN',
    'ACCOUNT_SUSPENDED',
    'ACCOUNT_BANNED',
    'SERVICE_UNAVAILABLE',
  ],
  rateLimit: [
    { name: 'oidc-finish', points: 10, windowSeconds: 900, key: 'ip', failuresOnly: true },
    // Login's daily cap per address: failures here and there count together.
    { name: 'login-ip-daily', points: 100, windowSeconds: 86_400, key: 'ip', failuresOnly: true },
  ],
});

const identityId = z
  .string()
  .length(32)
  .regex(/^[0-9a-f]{32}$/)
  .meta({ description: 'A linked provider account, as listOidcIdentities names it', example: '3f2a9c1b7d4e8f6a0b5c2d9e1f7a3b4c' });

export const OidcIdentity = z
  .object({
    id: identityId,
    issuer: z.string().max(1000).meta({ description: 'The provider (its issuer URL)' }),
    email: z.string().max(320).nullable().meta({ description: 'The email the provider verified, when it said so' }),
    linkedAt: Timestamp,
    lastUsedAt: Timestamp.meta({ description: 'The last sign-in with it' }),
  })
  .meta({ id: 'OidcIdentity' });

export const listOidcIdentities = endpoint({
  method: 'GET',
  version: 1,
  path: '/auth/oidc/identities',
  operationId: 'listOidcIdentities',
  summary: 'List the provider accounts linked to mine',
  description: 'The OpenID Connect provider accounts that sign this account in, oldest first (at most 100).',
  tags: ['auth'],
  auth: 'user',
  response: { status: 200, body: z.object({ identities: z.array(OidcIdentity).max(100) }) },
});

export const unlinkOidcIdentity = endpoint({
  method: 'POST',
  version: 1,
  path: '/auth/oidc/identities/{identityId}/removal',
  operationId: 'unlinkOidcIdentity',
  summary: 'Unlink a provider account from mine',
  description:
    'The provider account no longer signs this account in (sessions it opened stay: sign them out with logoutAll). ' +
    'Needs the account’s password when it has one (401 `INVALID_CREDENTIALS`). The last way into an account without ' +
    'a password cannot be unlinked: 409 `CONFLICT`. Someone else’s, or an unknown one: 404.',
  tags: ['auth'],
  auth: 'user',
  params: z.object({ identityId }),
  body: z
    .object({ currentPassword: password.optional() })
    .meta({ id: 'OidcUnlink', example: { currentPassword: 'milonga at midnight in Almagro' } }),
  response: { status: 204 },
  errors: ['NOT_FOUND', 'INVALID_CREDENTIALS', 'CONFLICT'],
  // changePassword's bucket: wrong passwords here count with wrong ones there.
  rateLimit: { name: 'password', points: 5, windowSeconds: 900, key: 'user', failuresOnly: true },
});
