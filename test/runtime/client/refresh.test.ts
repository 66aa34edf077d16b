import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClientError, createTransport, type OperationDescriptor, type TokenStore } from '../../../runtime/client/index';
import { failure, sendJson, sendProblem, startServer, type TestServer } from './server';

const getMe: OperationDescriptor = { operationId: 'getMe', method: 'GET', path: '/api/v1/me', auth: true, paged: false };
const createPost: OperationDescriptor = {
  operationId: 'createPost',
  method: 'POST',
  path: '/api/v1/posts',
  auth: true,
  paged: false,
};

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** Accepts only `Bearer fresh`; any other token has expired. */
function acceptOnlyFreshToken() {
  server.handle((req, res) => {
    if (req.headers.authorization === 'Bearer fresh') sendJson(res, 200, { data: { body: req.body } });
    else sendProblem(res, 401, 'TOKEN_EXPIRED', { requestId: 'req-expired' });
  });
}

/** A token store whose refresh takes a moment and then installs `fresh` (or refuses). */
interface CountingTokenStore extends TokenStore {
  token: string;
  refreshCalls: number;
}

function tokenStore(outcome: 'renew' | 'refuse' | 'throw'): CountingTokenStore {
  const store: CountingTokenStore = {
    token: 'stale',
    refreshCalls: 0,
    getAccessToken: () => store.token,
    async refresh() {
      store.refreshCalls += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (outcome === 'throw') throw new Error('refresh endpoint unreachable');
      if (outcome === 'refuse') return false;
      store.token = 'fresh';
      return true;
    },
  };
  return store;
}

describe('token refresh', () => {
  it('twenty parallel calls hitting TOKEN_EXPIRED share ONE refresh and all succeed on replay', async () => {
    const tokens = tokenStore('renew');
    const transport = createTransport({ baseUrl: server.baseUrl, tokens });
    acceptOnlyFreshToken();

    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => transport.request(createPost, { body: { n: i } })));

    expect(tokens.refreshCalls).toBe(1);
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => ({ body: JSON.stringify({ n: i }) })));
    expect(server.requests).toHaveLength(40);
    expect(server.requests.filter((r) => r.headers.authorization === 'Bearer fresh')).toHaveLength(20);
  });

  it('starts a new refresh for a later expiry once the previous one has settled', async () => {
    const tokens = tokenStore('renew');
    const transport = createTransport({ baseUrl: server.baseUrl, tokens });
    acceptOnlyFreshToken();

    await transport.request(getMe);
    tokens.token = 'stale';
    await transport.request(getMe);

    expect(tokens.refreshCalls).toBe(2);
  });

  it('rejects with 401 UNAUTHENTICATED when the refresh is refused', async () => {
    const tokens = tokenStore('refuse');
    const transport = createTransport({ baseUrl: server.baseUrl, tokens });
    acceptOnlyFreshToken();

    const error = await failure(transport.request(getMe));

    expect(error.status).toBe(401);
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.requestId).toBe('req-expired');
    expect(server.requests).toHaveLength(1);
  });

  it('reports a refresh that could not be made as NETWORK_ERROR, not as a sign-out', async () => {
    const tokens = tokenStore('throw');
    const transport = createTransport({ baseUrl: server.baseUrl, tokens });
    acceptOnlyFreshToken();

    const results = await Promise.allSettled([transport.request(getMe), transport.request(getMe)]);

    expect(tokens.refreshCalls).toBe(1);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason as ApiClientError;
      expect(error).toMatchObject({ status: 0, code: 'NETWORK_ERROR' });
      expect((error.cause as Error).message).toBe('refresh endpoint unreachable');
    }
  });

  it('throws a second TOKEN_EXPIRED after the replay as is, without refreshing again', async () => {
    const tokens = tokenStore('renew');
    const transport = createTransport({ baseUrl: server.baseUrl, tokens });
    server.handle((_req, res) => sendProblem(res, 401, 'TOKEN_EXPIRED'));

    const error = await failure(transport.request(getMe));

    expect(error.code).toBe('TOKEN_EXPIRED');
    expect(error.status).toBe(401);
    expect(tokens.refreshCalls).toBe(1);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer stale', 'Bearer fresh']);
  });

  it('throws TOKEN_EXPIRED as is when the token store cannot refresh', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl, tokens: { getAccessToken: () => 'stale' } });
    acceptOnlyFreshToken();

    const error = await failure(transport.request(getMe));

    expect(error.code).toBe('TOKEN_EXPIRED');
    expect(server.requests).toHaveLength(1);
  });

  it('does not refresh on other 401 codes', async () => {
    const tokens = tokenStore('renew');
    const transport = createTransport({ baseUrl: server.baseUrl, tokens });
    server.handle((_req, res) => sendProblem(res, 401, 'UNAUTHENTICATED'));

    const error = await failure(transport.request(getMe));

    expect(error.code).toBe('UNAUTHENTICATED');
    expect(tokens.refreshCalls).toBe(0);
    expect(server.requests).toHaveLength(1);
  });
});
