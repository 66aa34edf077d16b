import * as client from 'openid-client';
import type { OidcSettings } from '../config';

/**
 * The relying-party side of OpenID Connect sign-in, on openid-client: discovery (cached), the
 * authorization request (code flow with PKCE S256, state and nonce) and the callback (its issuer,
 * the code exchange and the ID token's validation: issuer, audience, nonce, times, signature).
 * It keeps nothing per sign-in: the caller stores the state, nonce and code verifier.
 *
 * Failures are `OidcFailure`s with a stable code, a detail for the client and a reason for the log;
 * neither ever holds a code, a token or what the provider sent besides its OAuth error code.
 */

export type OidcFailureCode =
  | 'OIDC_CALLBACK_INVALID'
  | 'OIDC_PROVIDER_REFUSED'
  | 'OIDC_EXCHANGE_FAILED'
  | 'OIDC_ID_TOKEN_INVALID'
  | 'SERVICE_UNAVAILABLE';

export class OidcFailure extends Error {
  override name = 'OidcFailure';
  constructor(
    readonly code: OidcFailureCode,
    readonly detail: string,
    /** For the log: openid-client's error code and message, or the provider's OAuth error code. */
    readonly reason: string,
    /** A misconfiguration the operator must fix (logged as an error), not a passing outage. */
    readonly misconfigured = false,
  ) {
    super(`${code}: ${reason}`);
  }
}

/** How long a client is asked to wait while the provider cannot be reached. */
export const PROVIDER_RETRY_AFTER_SECONDS = 10;
/** Discovery is trusted this long; after that the next request discovers again (keeping the old one if that fails). */
const DISCOVERY_TTL_MS = 60 * 60_000;
/** Each request to the provider may take this long. */
const PROVIDER_TIMEOUT_SECONDS = 5;
const SCOPE = 'openid email profile';

export interface AuthorizationRequest {
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** What a validated sign-in tells of the person: the ID token's claims, with the userinfo's when asked for. */
export interface ProviderIdentity {
  issuer: string;
  subject: string;
  claims: Record<string, unknown>;
}

export interface OidcClient {
  /**
   * `forLink` (started signed in: a link, or signing in again): the provider asks the person to sign
   * in again (`prompt=login`), whatever session its browser holds, and must say when they did
   * (`max_age`, checked at finish).
   */
  authorizationRequest(options?: { forLink?: boolean }): Promise<AuthorizationRequest>;
  /**
   * The callback's state, after checking it is an answer at the redirect URI with exactly one
   * state (nothing is asked of the provider yet, so a stranger's junk costs nothing).
   */
  callbackState(callbackUrl: string): { url: URL; state: string };
  /** Validates the answer, has the provider exchange its code and validates the ID token. */
  /** `signedInAgain`: the flow was started `forLink`, so the ID token's `auth_time` must be within FRESH_LOGIN_SECONDS. */
  finish(callback: URL, expected: { state: string; nonce: string; codeVerifier: string; signedInAgain?: boolean }): Promise<SignedIn>;
  /** The ID token's claims with the userinfo's profile claims (email, name, preferred_username) when the provider gives them. */
  profile(signedIn: SignedIn): Promise<Record<string, unknown>>;
}

/** A validated sign-in, and the access token that reads its userinfo (kept in memory for that only). */
export type SignedIn = ProviderIdentity & { accessToken: string };

/** A request that reached no provider, or one that answered 5xx: an outage, not a refusal. */
class ProviderUnreachable extends Error {
  override name = 'ProviderUnreachable';
}

export function createOidcClient(settings: OidcSettings): OidcClient {
  const guardedFetch: client.CustomFetch = async (url, init) => {
    let response: Response;
    try {
      response = await fetch(url, init as RequestInit);
    } catch (error) {
      const name = (error as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable';
      throw new ProviderUnreachable(`${new URL(url).origin} ${name}`);
    }
    if (response.status >= 500) {
      await response.body?.cancel();
      throw new ProviderUnreachable(`${new URL(url).origin} answered ${response.status}`);
    }
    return response;
  };
  // An http:// issuer passed the configuration's rule (outside production, or OIDC_ALLOW_HTTP).
  const insecure = settings.issuer.protocol === 'http:';

  async function discover(): Promise<client.Configuration> {
    const discovered = await client.discovery(settings.issuer, settings.clientId, undefined, undefined, {
      [client.customFetch]: guardedFetch,
      timeout: PROVIDER_TIMEOUT_SECONDS,
      execute: insecure ? [client.allowInsecureRequests] : [],
    });
    const metadata = discovered.serverMetadata();
    // client_secret_basic is the default of OpenID Connect when a provider names none.
    const methods = metadata.token_endpoint_auth_methods_supported;
    const authentication =
      !methods || methods.includes('client_secret_basic')
        ? client.ClientSecretBasic(settings.clientSecret)
        : client.ClientSecretPost(settings.clientSecret);
    const configuration = new client.Configuration(metadata, settings.clientId, settings.clientSecret, authentication);
    configuration[client.customFetch] = guardedFetch;
    configuration.timeout = PROVIDER_TIMEOUT_SECONDS;
    if (insecure) client.allowInsecureRequests(configuration);
    // The ID token's signature too, against the provider's keys (fetched once and cached), not only TLS.
    client.enableNonRepudiationChecks(configuration);
    return configuration;
  }

  let current: { configuration: client.Configuration; at: number } | undefined;
  let pending: Promise<client.Configuration> | undefined;
  /** The provider's configuration: discovered once and cached; concurrent requests share one discovery. */
  function discovered(): Promise<client.Configuration> {
    if (current && Date.now() - current.at < DISCOVERY_TTL_MS) return Promise.resolve(current.configuration);
    pending ??= discover()
      .then(
        (configuration) => {
          current = { configuration, at: Date.now() };
          return configuration;
        },
        (error: unknown) => {
          // A provider that was known keeps working from what it said last; retried in a minute.
          if (current) {
            current.at = Date.now() - DISCOVERY_TTL_MS + 60_000;
            return current.configuration;
          }
          throw failure(error, 'discovery');
        },
      )
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  return {
    async authorizationRequest(options = {}) {
      const configuration = await discovered();
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
      try {
        const url = client.buildAuthorizationUrl(configuration, {
          redirect_uri: settings.redirectUri,
          scope: SCOPE,
          code_challenge: codeChallenge,
          code_challenge_method: 'S256',
          state,
          nonce,
          // A link must be the person's own provider account, not one a stranger left signed in in their browser.
          ...(options.forLink ? { prompt: 'login', max_age: String(FRESH_LOGIN_SECONDS) } : {}),
        });
        return { url: url.href, state, nonce, codeVerifier };
      } catch (error) {
        // A provider that describes no usable authorization endpoint (an http:// one for an https:// issuer, say).
        throw failure(error, 'discovery');
      }
    },

    callbackState(callbackUrl) {
      let url: URL;
      try {
        url = new URL(callbackUrl);
      } catch {
        throw new OidcFailure('OIDC_CALLBACK_INVALID', 'callbackUrl is not a URL', 'not a URL');
      }
      const at = new URL(url.href);
      at.search = '';
      at.hash = '';
      if (at.href !== settings.redirectUri) {
        throw new OidcFailure(
          'OIDC_CALLBACK_INVALID',
          'callbackUrl is not at this server’s redirect URI: send the URL the provider redirected to',
          'not at the redirect URI',
        );
      }
      const states = url.searchParams.getAll('state');
      if (states.length !== 1 || !states[0]) {
        throw new OidcFailure('OIDC_CALLBACK_INVALID', 'callbackUrl must carry exactly one state', 'no single state');
      }
      return { url, state: states[0] };
    },

    async finish(callback, expected) {
      const configuration = await discovered();
      const metadata = configuration.serverMetadata();
      const { issuer } = metadata;
      // The answer is made at the configured redirect URI, whatever the client's spelling of it, so
      // the token request names the one the authorization request did.
      const answer = new URL(settings.redirectUri);
      answer.search = callback.search;
      // Mix-up defence (RFC 9207) before anything else, as openid-client orders it: an answer naming
      // another issuer is not this provider's, whatever else it says.
      for (const name of ['code', 'state', 'iss', 'error']) {
        if (answer.searchParams.getAll(name).length > 1) {
          throw new OidcFailure('OIDC_CALLBACK_INVALID', `callbackUrl must carry ${name} at most once`, `repeated ${name}`);
        }
      }
      const named = answer.searchParams.get('iss');
      if (named !== null ? named !== issuer : metadata.authorization_response_iss_parameter_supported === true) {
        throw new OidcFailure(
          'OIDC_CALLBACK_INVALID',
          named !== null ? 'The answer comes from another issuer than this server’s provider' : 'The answer does not name its issuer',
          named !== null ? 'iss mismatch' : 'iss missing',
        );
      }
      const error = answer.searchParams.get('error');
      if (error !== null) {
        const code = oauthCode(error);
        throw new OidcFailure('OIDC_PROVIDER_REFUSED', `The provider did not sign you in (${code})`, `provider answered ${code}`);
      }
      if (!answer.searchParams.get('code')) {
        throw new OidcFailure('OIDC_CALLBACK_INVALID', 'callbackUrl carries no code', 'no code');
      }
      try {
        const tokens = await client.authorizationCodeGrant(configuration, answer, {
          pkceCodeVerifier: expected.codeVerifier,
          expectedNonce: expected.nonce,
          expectedState: expected.state,
          idTokenExpected: true,
          // A provider that ignored prompt=login is caught by the time it says the person signed in.
          ...(expected.signedInAgain ? { maxAge: FRESH_LOGIN_SECONDS } : {}),
        });
        const claims = tokens.claims();
        if (!claims) throw new OidcFailure('OIDC_ID_TOKEN_INVALID', 'The provider sent no ID token', 'no ID token');
        const subject = claims.sub;
        // OpenID Connect Core §2: at most 255 ASCII characters.
        if (typeof subject !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(subject)) {
          throw new OidcFailure('OIDC_ID_TOKEN_INVALID', 'The ID token’s subject is not usable', 'bad sub');
        }
        return { issuer, subject, claims: { ...claims }, accessToken: tokens.access_token };
      } catch (error) {
        throw failure(error, 'exchange');
      }
    },

    async profile(signedIn) {
      const configuration = await discovered();
      if (!configuration.serverMetadata().userinfo_endpoint) return signedIn.claims;
      try {
        const info = await client.fetchUserInfo(configuration, signedIn.accessToken, signedIn.subject);
        return { ...signedIn.claims, ...pick(info, PROFILE_CLAIMS) };
      } catch {
        // The profile only names a new account and keeps its email; without it the ID token's claims do.
        return signedIn.claims;
      }
    },
  };
}

/** How long ago a person signed in again at the provider may be, for a flow started signed in. */
const FRESH_LOGIN_SECONDS = 300;

const PROFILE_CLAIMS = ['email', 'email_verified', 'name', 'preferred_username'] as const;

function pick(source: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => source[key] !== undefined).map((key) => [key, source[key]]));
}

/** An OAuth error code as it may be shown and logged: its own characters only (RFC 6749 §5.2), bounded. */
function oauthCode(value: unknown): string {
  return typeof value === 'string' && /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(value) ? value : 'unknown_error';
}

/** What an openid-client error means for the client: an outage, the provider's refusal, or an answer that does not validate. */
function failure(error: unknown, stage: 'discovery' | 'exchange'): OidcFailure {
  if (error instanceof OidcFailure) return error;
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (cause instanceof ProviderUnreachable) return unavailable(cause.message);
  }
  const { code } = error as { code?: unknown };
  if (code === 'OAUTH_TIMEOUT') return unavailable('timed out');
  if (stage === 'discovery') {
    // The provider answered, but not with a usable description of itself (or of another issuer).
    return unavailable(`discovery failed: ${describe(error)}`, true);
  }
  if (error instanceof client.ResponseBodyError) {
    const oauth = oauthCode(error.error);
    if (oauth === 'invalid_client' || oauth === 'unauthorized_client') {
      return unavailable(`the provider refused this server's client (${oauth}): check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET`, true);
    }
    return new OidcFailure(
      'OIDC_EXCHANGE_FAILED',
      `The provider refused the code (${oauth}): it was used already, has expired, or is not for this sign-in; sign in again`,
      `token endpoint answered ${oauth}`,
    );
  }
  // A token endpoint refusing this server's client authentication (401 with a challenge).
  if (error instanceof client.WWWAuthenticateChallengeError) {
    const challenged = error.cause.map((challenge) => oauthCode(challenge.parameters.error)).join(', ');
    return unavailable(
      `the provider refused this server's client (${error.status}: ${challenged}): check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET`,
      true,
    );
  }
  if (error instanceof client.AuthorizationResponseError) {
    const oauth = oauthCode(error.error);
    return new OidcFailure('OIDC_PROVIDER_REFUSED', `The provider did not sign you in (${oauth})`, `provider answered ${oauth}`);
  }
  if (error instanceof client.ClientError) {
    switch (code) {
      case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
      case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
      case 'OAUTH_KEY_SELECTION_FAILED':
      case 'OAUTH_INVALID_RESPONSE':
        return new OidcFailure(
          'OIDC_ID_TOKEN_INVALID',
          'The provider’s ID token did not validate (issuer, audience, nonce, time or signature); sign in again',
          describe(error),
        );
      default:
        return new OidcFailure('OIDC_EXCHANGE_FAILED', 'The provider’s answer could not be used; sign in again', describe(error));
    }
  }
  // Not openid-client's: a bug, for the 500 path.
  throw error;
}

function unavailable(reason: string, misconfigured = false): OidcFailure {
  return new OidcFailure('SERVICE_UNAVAILABLE', 'The sign-in provider cannot be reached; try again shortly', reason, misconfigured);
}

/** openid-client's code and fixed message; never its cause, which may hold the claims or parameters. */
function describe(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return `${typeof code === 'string' ? code : 'error'}: ${typeof message === 'string' ? message.slice(0, 200) : ''}`;
}
