import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createTokenStore, memoryTokenStorage, type SessionTokens } from '../../generated/client';
import { serve, type Running } from '../../runtime/server';
import type { Database } from '../../server/db/database';
import { openServerDatabase } from '../support/database';
import { captureLog, createTestApp } from '../support/app';

/** The generated client's token store against a real server: one refresh for many expired calls. */
let database: Database;
let running: Running;
let test: Awaited<ReturnType<typeof createTestApp>>;

beforeAll(async () => {
  database = await openServerDatabase();
  test = await createTestApp(database);
  running = await serve(test.app, { port: 0, host: '127.0.0.1', log: captureLog().log });
});
afterAll(async () => {
  await running.shutdown();
  await test.close();
  await database.close();
});

async function signedInClient() {
  const anonymous = createClient({ baseUrl: running.url });
  const session = await anonymous.auth.register({
    body: { username: `client-${randomUUID().slice(0, 8)}`, password: 'a long enough tango passphrase', displayName: 'Client' },
  });
  let refreshes = 0;
  const storage = memoryTokenStorage({
    accessToken: await test.expiredToken(session.user.id, session.sessionId),
    refreshToken: session.refreshToken,
  });
  const tokens = createTokenStore({
    storage,
    refresh: async (refreshToken): Promise<SessionTokens> => {
      refreshes++;
      return anonymous.auth.refreshTokens({ body: { refreshToken } });
    },
  });
  return { api: createClient({ baseUrl: running.url, tokens }), session, storage, refreshes: () => refreshes };
}

describe('generated client token refresh', () => {
  it('twenty parallel calls with an expired access token cause exactly one refresh, and all succeed', async () => {
    const { api, session, storage, refreshes } = await signedInClient();
    const results = await Promise.all(Array.from({ length: 20 }, () => api.users.getMe()));
    expect(results.map((me) => me.id)).toEqual(Array(20).fill(session.user.id));
    expect(refreshes()).toBe(1);
    expect((await storage.load())?.refreshToken).not.toBe(session.refreshToken);
  });

  it('gives up cleanly with UNAUTHENTICATED when the refresh token is refused, and forgets the tokens', async () => {
    const { api, session, storage } = await signedInClient();
    // Sign the session out elsewhere: its refresh token no longer works.
    const other = createClient({ baseUrl: running.url, tokens: { getAccessToken: () => session.accessToken } });
    await other.auth.logout();

    const error = await api.users.getMe().catch((e: unknown) => e);
    expect(api.users.getMe.isError(error)).toBe(true);
    expect(error).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(await storage.load()).toBeNull();
  });
});
