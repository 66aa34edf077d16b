import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type ClientMetadata } from 'oidc-provider';

/** What the provider knows of a person who signs in there (claims of the `email` and `profile` scopes). */
export interface ProviderAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  preferred_username?: string;
}

export interface OidcTestProvider {
  /** `http://127.0.0.1:<port>`: the issuer and the origin of every endpoint. */
  issuer: string;
  /** Adds (or replaces) a person who can sign in at the provider; their `sub` is `accountId`. */
  addAccount(accountId: string, account: ProviderAccount): void;
  /**
   * What a browser does with an authorization URL: signs `accountId` in at the provider (and
   * consents), following the provider's redirects, and answers the URL the provider finally sends
   * the browser to (the app's redirect URI with `code`, `state` and `iss`). `deny` declines instead.
   */
  signIn(authorizationUrl: string, accountId: string, options?: { deny?: boolean }): Promise<string>;
  close(): Promise<void>;
}

/** The app's redirect URI: where the provider sends the browser back to (never fetched: the tests read the URL). */
export const TEST_REDIRECT_URI = 'https://app.mundotango.test/oidc/callback';

/** The client the API under test is registered as. */
export const TEST_CLIENT = {
  client_id: 'mundo-tango',
  client_secret: 'mundo-tango-client-secret-for-tests-only',
  redirect_uris: [TEST_REDIRECT_URI],
};

/**
 * A real OpenID Connect provider (oidc-provider), in this process on 127.0.0.1 and a port of its
 * own. Its login and consent pages are replaced by one step a test drives (`signIn`): no HTML.
 * An ES256 key is made per provider (cheap, unlike RSA).
 */
export async function startOidcProvider(options: { clients?: ClientMetadata[] } = {}): Promise<OidcTestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accounts = new Map<string, ProviderAccount>();
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const clients = (options.clients ?? [TEST_CLIENT]).map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: 'ES256',
    ...client,
  }));
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'test-key' }] },
    cookies: { keys: ['cookie-key-of-the-test-provider'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    async findAccount(_ctx, accountId) {
      const account = accounts.get(accountId);
      return account && { accountId, claims: async () => ({ sub: accountId, ...account }) };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
  });
  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/interaction/')) interact(req, res).catch((error: unknown) => fail(res, error));
    else callback(req, res);
  });

  /** The login and consent step: `?account=<id>` signs that account in and grants the scopes asked for; `?deny=1` declines. */
  async function interact(req: IncomingMessage, res: ServerResponse) {
    const details = await provider.interactionDetails(req, res);
    const query = new URL(req.url!, issuer).searchParams;
    if (query.get('deny')) {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user declined' });
      return;
    }
    const accountId = query.get('account')!;
    const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  return {
    issuer,
    addAccount: (accountId, account) => accounts.set(accountId, account),
    async signIn(authorizationUrl, accountId, { deny = false } = {}) {
      const cookies = new Map<string, string>();
      let url = authorizationUrl;
      for (let hop = 0; hop < 10; hop++) {
        const response = await fetch(url, {
          redirect: 'manual',
          headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
        });
        for (const line of response.headers.getSetCookie()) {
          const [pair] = line.split(';', 1);
          const at = pair!.indexOf('=');
          cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
        }
        const location = response.headers.get('location');
        if (!location) throw new Error(`the provider answered ${response.status} at ${url}: ${await response.text()}`);
        await response.body?.cancel();
        const next = new URL(location, url);
        if (next.origin !== issuer) return next.href;
        if (next.pathname.startsWith('/interaction/')) next.searchParams.set(deny ? 'deny' : 'account', deny ? '1' : accountId);
        url = next.href;
      }
      throw new Error('the provider redirected more than 10 times');
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function fail(res: ServerResponse, error: unknown) {
  res.statusCode = 500;
  res.end(String(error));
}
