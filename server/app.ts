import { hkdfSync } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { api } from '../contracts';
import { uploadMedia } from '../contracts/media';
import { asyncapi, createRoutes, openapi } from '../generated/server';
import type { Server as HttpServer } from 'node:http';
import {
  createApp,
  createMetrics,
  createTokenVerifier,
  gauge,
  openUploadStore,
  redisIdempotency,
  sharedLimiters,
  type KeySet,
  type LimiterFactory,
  type Metrics,
  type UnexpectedErrorHook,
} from '../runtime/server';
import { createOidcClient } from './auth/oidc-client';
import { createRevocations } from './auth/revocations';
import { ACCESS_TOKEN_TTL_SECONDS, createSessionTokens } from './auth/session-tokens';
import { metricsOnApiPort, oidcSettings, s3Location, type Config } from './config';
import type { Database } from './db/database';
import { databaseUnavailable } from './db/outage';
import { handlers } from './handlers';
import { lateRealtimePort, startRealtime, type RealtimeTuning } from './realtime';
import type { Realtime } from '../runtime/realtime';
import type { RedisConnections } from './redis';
import { createServices } from './services';
import { diskMediaFiles, s3MediaFiles } from './services/media-files';
import type { RealtimePort } from './services/realtime-port';
import { createSessionStore } from './services/sessions';

/** The Mundo Tango app: generated routes + handlers + services on the generic runtime. */
/** How often each instance deletes expired stories, unused media and abandoned uploads (any number of instances may at once). */
const SWEEP_MS = 5 * 60_000;
/** How often the embedded database is vacuumed and analyzed (Database.maintain). */
const MAINTENANCE_MS = 60 * 60_000;

export async function createMundoApp(options: {
  config: Config;
  database: Database;
  /** Signs MFA challenges and page cursors; signs access tokens too unless `keys` is given. */
  secret: Uint8Array;
  /** Access tokens' keys (JWT_KEYS): one signs, the others verify; their public halves are served at /.well-known/jwks.json. */
  keys?: KeySet;
  /** Told of unexpected errors, HTTP and real time (server/error-reporting.ts: Sentry when SENTRY_DSN is set). */
  onUnexpectedError?: UnexpectedErrorHook;
  log: Logger;
  redis?: RedisConnections;
  metrics?: Metrics;
  /** Rate-limit counters; by default Redis when given, else memory (the benchmarks lift the limits). */
  limiters?: LimiterFactory;
  /** Where services send real-time events until a real-time server is attached (tests record them). */
  realtime?: RealtimePort;
  /** Where uploads and media files are kept; `<DATA_DIR>/media` by default. */
  mediaDir?: string;
}) {
  const { config, log, redis } = options;
  const tokenSettings = { secret: options.secret, keys: options.keys, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE };
  const ttlMs = ACCESS_TOKEN_TTL_SECONDS * 1000;
  // Sessions revoked within one access-token lifetime may still have live tokens: start knowing them.
  const sessionStore = createSessionStore(options.database.db);
  const revocations = await createRevocations({ ttlMs, recent: (ms) => sessionStore.revokedWithin(ms), log, redis });
  const realtimePort = lateRealtimePort(options.realtime);
  const mediaDir = options.mediaDir ?? join(config.DATA_DIR, 'media');
  // Uploads and media files on this disk, or in a bucket (then DATA_DIR/media holds working copies).
  const s3 = s3Location(config);
  const [uploadStore, files] = await Promise.all([
    openUploadStore(
      uploadMedia,
      s3 ? { kind: 's3', ...s3, scratch: join(mediaDir, 'scratch') } : { kind: 'disk', directory: join(mediaDir, 'incoming') },
    ),
    s3 ? s3MediaFiles(s3, join(mediaDir, 'cache')) : diskMediaFiles(join(mediaDir, 'files')),
  ]);
  const oidc = oidcSettings(config);
  const services = createServices(options.database, {
    revocations,
    tokens: createSessionTokens(tokenSettings),
    realtime: realtimePort,
    media: { files, workDir: join(mediaDir, 'work'), quotaBytes: config.MEDIA_QUOTA_BYTES },
    // Discovered at the first sign-in, not at start: a provider that is down does not stop the API.
    oidc: oidc && createOidcClient(oidc),
  });
  // One verifier for HTTP and sockets: a revoked session is refused on both.
  const verifier = createTokenVerifier({
    ...tokenSettings,
    maxAgeSeconds: ACCESS_TOKEN_TTL_SECONDS,
    isRevoked: (user) => revocations.isRevoked(user.sessionId),
  });

  // One registry for HTTP, sockets and the database pool, scraped at /metrics.
  const metrics = options.metrics ?? createMetrics({ processMetrics: false });
  const pool = options.database.pool;
  if (pool) {
    gauge(metrics, 'db_pool_connections', 'PostgreSQL connections of this instance: open, idle, and requests waiting for one', () => {
      const { total, idle, waiting } = pool();
      return [
        { labels: { state: 'open' }, value: total },
        { labels: { state: 'idle' }, value: idle },
        { labels: { state: 'waiting' }, value: waiting },
      ];
    });
  }

  // Users' hashes on spans, the same on HTTP and sockets and on every instance (they share the secret).
  const traceUserKey = new Uint8Array(hkdfSync('sha256', options.secret, new Uint8Array(0), 'mundo-tango trace user hash', 32));
  // One set of limiters for HTTP and sockets, so an endpoint and an event naming one policy share it.
  const limiters = options.limiters ?? redis?.limiters ?? sharedLimiters();
  const app = createApp({
    routes: createRoutes(handlers),
    services,
    api,
    openapi,
    asyncapi,
    auth: verifier,
    // A database or Redis outage, or a pool with no free connection in time: 503 with Retry-After, not 500.
    unavailable: (error, req) => databaseUnavailable(error, req.method) ?? redis?.unavailable(error),
    maxConcurrentRequests: config.HTTP_MAX_CONCURRENT_REQUESTS || undefined,
    handlerTimeoutMs: config.HTTP_HANDLER_TIMEOUT_MS || undefined,
    jwks: options.keys?.jwks ?? { keys: [] },
    onUnexpectedError: options.onUnexpectedError,
    // Role-gated operations read the roles from the database: a grant or revocation applies at once.
    currentRoles: (userId) => services.admin.currentRoles(userId),
    // A sign-in locked by its limit (too many wrong passwords for a name) is an audited security event.
    onRateLimited: (event) => {
      const username = (event.body as { username?: unknown } | undefined)?.username;
      if (event.limit !== 'login' || typeof username !== 'string') return;
      services.admin.signInLocked(username, event.ip).catch((error: unknown) => log.warn({ err: error }, 'auditing a lockout failed'));
    },
    // A key of its own for cursors, derived so that one secret is all an operator manages.
    cursorSecret: new Uint8Array(hkdfSync('sha256', options.secret, new Uint8Array(0), 'mundo-tango page cursors', 32)),
    traceUserKey,
    log,
    corsOrigins: config.CORS_ORIGINS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    limiters,
    idempotency: redis ? redisIdempotency(redis.client, redis.keyPrefix) : undefined,
    metrics,
    metricsAccess: metricsOnApiPort(config),
    uploads: [
      {
        contract: uploadMedia,
        store: uploadStore,
        onCreate: (user, upload) => services.media.admit(user.id, upload.id, upload.size),
        onFinish: (user, upload) => services.media.store(user.id, upload),
        onEnd: (uploadId) => services.media.release(uploadId),
      },
    ],
  });
  let realtime: Realtime | undefined;
  // Expired stories are never served (reads compare with the database's clock); this only frees
  // their rows. Then the media nothing shows any more, and unfinished uploads past their expiry.
  // On PGlite, an hourly VACUUM (ANALYZE) stands in for PostgreSQL's autovacuum (first at the first sweep).
  let maintainedAt = Number.NEGATIVE_INFINITY;
  const maintain = async () => {
    if (!options.database.maintain || Date.now() - maintainedAt < MAINTENANCE_MS) return;
    maintainedAt = Date.now();
    const started = performance.now();
    await options.database.maintain();
    log.info({ ms: Math.round(performance.now() - started) }, 'embedded database vacuumed and analyzed');
  };
  const sweep = setInterval(async () => {
    const jobs = [
      services.stories.deleteExpired,
      services.media.deleteUnreferenced,
      app.deleteExpiredUploads,
      services.statistics.rollup,
      maintain,
    ];
    for (const job of jobs) await job().catch((error: unknown) => log.warn({ err: error }, 'clean-up job failed'));
  }, SWEEP_MS);
  sweep.unref();
  // The statistics of days not counted yet (all of them, on a first start), without holding up the start.
  services.statistics.rollup().catch((error: unknown) => log.warn({ err: error }, 'statistics rollup failed'));
  return {
    app,
    services,
    /** Serves the real-time events on the HTTP server the app runs on. */
    attachRealtime(httpServer: HttpServer, tuning: RealtimeTuning = {}) {
      // Sockets see the client's address through the same trusted proxies as HTTP requests.
      const trustProxy = app.express.get('trust proxy fn') as (address: string, hop: number) => boolean;
      realtime = startRealtime(httpServer, {
        services,
        port: realtimePort,
        verifier,
        limiters,
        config,
        log,
        metrics,
        onUnexpectedError: options.onUnexpectedError,
        redis,
        trustProxy,
        traceUserKey,
        ...tuning,
      });
      return realtime;
    },
    async close() {
      clearInterval(sweep);
      await realtime?.close();
      await revocations.close();
    },
  };
}
