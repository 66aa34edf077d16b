import { hkdfSync } from 'node:crypto';
import type { Logger } from 'pino';
import { api } from '../contracts';
import { createRoutes, openapi } from '../generated/server';
import { createApp, type Metrics } from '../runtime/server';
import type { Config } from './config';
import type { Database } from './db/database';
import { handlers } from './handlers';
import { createServices } from './services';

/** The Mundo Tango app: generated routes + handlers + services on the generic runtime. */
export function createMundoApp(options: { config: Config; database: Database; secret: Uint8Array; log: Logger; metrics?: Metrics }) {
  const { config } = options;
  return createApp({
    routes: createRoutes(handlers),
    services: createServices(options.database),
    api,
    openapi,
    auth: { secret: options.secret, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE },
    // A key of its own for cursors, derived so that one secret is all an operator manages.
    cursorSecret: new Uint8Array(hkdfSync('sha256', options.secret, new Uint8Array(0), 'mundo-tango page cursors', 32)),
    log: options.log,
    corsOrigins: config.CORS_ORIGINS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    metrics: options.metrics,
  });
}
