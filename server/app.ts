import { hkdfSync } from 'node:crypto';
import type { Logger } from 'pino';
import { api } from '../contracts';
import { createRoutes, openapi } from '../generated/server';
import { createApp, type Metrics } from '../runtime/server';
import { createRevocations } from './auth/revocations';
import { ACCESS_TOKEN_TTL_SECONDS, createSessionTokens } from './auth/session-tokens';
import type { Config } from './config';
import type { Database } from './db/database';
import { handlers } from './handlers';
import type { RedisConnections } from './redis';
import { createServices } from './services';
import { createSessionStore } from './services/sessions';

/** The Mundo Tango app: generated routes + handlers + services on the generic runtime. */
export async function createMundoApp(options: {
  config: Config;
  database: Database;
  secret: Uint8Array;
  log: Logger;
  redis?: RedisConnections;
  metrics?: Metrics;
}) {
  const { config, log, redis } = options;
  const tokenSettings = { secret: options.secret, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE };
  const ttlMs = ACCESS_TOKEN_TTL_SECONDS * 1000;
  // Sessions revoked within one access-token lifetime may still have live tokens: start knowing them.
  const sessionStore = createSessionStore(options.database.db);
  const revocations = await createRevocations({ ttlMs, recent: (ms) => sessionStore.revokedWithin(ms), log, redis });
  const services = createServices(options.database, { revocations, tokens: createSessionTokens(tokenSettings) });

  const app = createApp({
    routes: createRoutes(handlers),
    services,
    api,
    openapi,
    auth: { ...tokenSettings, isRevoked: (user) => revocations.isRevoked(user.sessionId) },
    // A key of its own for cursors, derived so that one secret is all an operator manages.
    cursorSecret: new Uint8Array(hkdfSync('sha256', options.secret, new Uint8Array(0), 'mundo-tango page cursors', 32)),
    log,
    corsOrigins: config.CORS_ORIGINS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    limiters: redis?.limiters,
    metrics: options.metrics,
  });
  return { app, services, close: () => revocations.close() };
}
