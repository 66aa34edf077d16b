import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { Database } from '../../server/db/database';
import { createTestApp } from '../support/app';
import { openServerDatabase } from '../support/database';
import { type OidcTestProvider, startOidcProvider, TEST_CLIENT, TEST_REDIRECT_URI } from '../support/oidc-provider';

/** Debian's Chromium (`apt-get install -y chromium`), never one a tool downloads; CHROMIUM=<path> for another. */
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * A browser test file's API, on a fresh database of its own, and a headless Chromium: opened before
 * the file's tests, closed after them. `base` is the API's address. The API signs in with an OpenID
 * Connect provider in this process (`provider`), so that the sign-in examples really work.
 */
export function docsServerForFile() {
  let database: Database | undefined;
  let test: Awaited<ReturnType<typeof createTestApp>> | undefined;
  let server: Server | undefined;
  const file = {
    base: '',
    browser: undefined as unknown as Browser,
    test: undefined as unknown as NonNullable<typeof test>,
    provider: undefined as unknown as OidcTestProvider,
  };
  beforeAll(async () => {
    database = await openServerDatabase();
    file.provider = await startOidcProvider();
    test = await createTestApp(database, {
      OIDC_ISSUER: file.provider.issuer,
      OIDC_CLIENT_ID: TEST_CLIENT.client_id,
      OIDC_CLIENT_SECRET: TEST_CLIENT.client_secret,
      OIDC_REDIRECT_URI: TEST_REDIRECT_URI,
    });
    const listening = createServer(test.app);
    server = listening;
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    file.base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    file.test = test;
    file.browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 60_000);
  afterAll(async () => {
    await file.browser?.close();
    if (server) await new Promise((resolve) => server!.close(resolve));
    await test?.close();
    await file.provider?.close();
    await database?.close();
  });
  return file;
}
