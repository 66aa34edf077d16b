import { existsSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
// The modules needed to take the ports, by file: the runtime's index would load all of it (Express,
// Swagger UI, JWT, metrics) before the port is taken, and everything before the port is time the
// database cannot overlap.
import { serve, type Running } from '../runtime/server/lifecycle';
import { createLogger } from '../runtime/server/logger';
import { parseKeySet } from '../runtime/server/keys';
import { errorReporter } from './error-reporting';
import { resolveSecret } from '../runtime/server/secret';
import { compileTrust } from '../runtime/server/trust-proxy';
import type { createMundoApp } from './app';
import { type Config, logFormat } from './config';
import { restrictModes } from './db/data-dir';
import type { Database } from './db/database';
import { connectRedis, type RedisConnections } from './redis';

export interface Started {
  url: string;
  /** Where /metrics is served when METRICS_PORT is set. */
  metricsUrl: string | undefined;
  running: Running;
  database: Database;
  redis: RedisConnections | undefined;
  shutdown(): Promise<void>;
}

/**
 * What `npm start` does once the configuration is read: secret → ports → database (migrated),
 * Redis and the app's code at once → app → real time. The ports are taken before the database is
 * opened, so a second server started by mistake stops at its port and never touches the data;
 * until the app is ready the port answers 503. Each step is logged with its duration. Throws
 * `ConfigError`, `ListenError` or `DataDirInUseError`, each with a one-line message.
 */
export async function startServer(
  config: Config,
  options: {
    log?: Logger;
    /** Drain and exit on SIGTERM/SIGINT (`npm start`). */
    handleSignals?: boolean;
    /** A database already open (tests); it is left open on shutdown. */
    database?: Database;
    /** When the start began (`performance.now()` time), for the total on the "listening" line; by default this call. */
    startedAt?: number;
    /** Runs last on shutdown, after the stores are closed: tracing sends the spans it still holds. */
    afterShutdown?: () => Promise<void>;
  } = {},
): Promise<Started> {
  const startedAt = options.startedAt ?? performance.now();
  const log = options.log ?? createLogger({ level: config.LOG_LEVEL, service: 'mundo-tango-api', format: logFormat(config) });
  // The data directory holds the database and the local secret: its owner's alone.
  await restrictModes(config.DATA_DIR, { recursive: false });
  const secret = resolveSecret({
    name: 'JWT_SECRET',
    value: config.JWT_SECRET,
    production: config.NODE_ENV === 'production',
    dataDir: config.DATA_DIR,
    log,
  });
  // Access tokens' keys, when set: the secret still signs MFA challenges and page cursors, and checks tokens it signed before.
  const keys = config.JWT_KEYS ? await parseKeySet(config.JWT_KEYS, { name: 'JWT_KEYS', secret }) : undefined;
  const onUnexpectedError = await errorReporter(config);
  // A crash is reported too (the process still stops, as Node stops it).
  if (onUnexpectedError && options.handleSignals) process.on('uncaughtExceptionMonitor', (error) => onUnexpectedError(error, {}));

  const trusted = compileTrust(config.TRUST_PROXY);
  const timeouts = {
    headersMs: config.HTTP_HEADERS_TIMEOUT_MS,
    requestMs: config.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
  };
  let mundo: Awaited<ReturnType<typeof createMundoApp>> | undefined;
  let database: Database | undefined;
  let redis: RedisConnections | undefined;
  let metricsRunning: Running | undefined;
  const closeStores = async () => {
    await redis?.close();
    if (!options.database) await database?.close();
  };

  let handler: RequestListener = startingUp;
  let metricsHandler: RequestListener = startingUp;
  const running = await serve((req, res) => handler(req, res), {
    port: config.PORT,
    host: config.HOST,
    log,
    handleSignals: options.handleSignals,
    portSetting: 'PORT',
    timeouts,
    maxConnectionsPerAddress: config.HTTP_MAX_CONNECTIONS_PER_ADDRESS,
    isTrustedPeer: (address) => trusted(address, 0),
    // Sockets first: an open WebSocket would hold the server open through the drain.
    beforeClose: () => mundo?.close(),
    onClose: async () => {
      await metricsRunning?.shutdown();
      await closeStores();
      await options.afterShutdown?.();
    },
  });
  // Said at once: until "listening" the port answers 503, and a first start can take seconds.
  log.info({ url: running.url }, 'port taken');
  try {
    if (config.METRICS_PORT !== undefined) {
      metricsRunning = await serve((req, res) => metricsHandler(req, res), {
        port: config.METRICS_PORT,
        host: config.METRICS_HOST ?? config.HOST,
        log: log.child({ server: 'metrics' }, { level: 'warn' }),
        portSetting: 'METRICS_PORT',
        timeouts,
      });
    }
    // Independent steps at once: the database's own start and the loading of the app's code
    // (handlers, services, contracts) overlap, and Redis connects meanwhile. The database goes
    // first, so PGlite compiles its WebAssembly (off the main thread) while the app's code loads.
    const store = options.database ?? openStore(config, log);
    const code = timed(log, 'app code loaded', () => Promise.all([import('./app'), import('../runtime/server')]));
    const { REDIS_URL } = config;
    const [opened, connected, loaded] = await Promise.allSettled([
      store,
      REDIS_URL ? timed(log, 'Redis connected', () => connectRedis(REDIS_URL, config.REDIS_PREFIX, { log })) : undefined,
      code,
    ]);
    // Whatever did open is closed below if another step failed.
    if (connected.status === 'fulfilled') redis = connected.value;
    if (opened.status === 'rejected') throw opened.reason;
    database = opened.value;
    for (const outcome of [connected, loaded]) if (outcome.status === 'rejected') throw outcome.reason;
    const [{ createMundoApp }, { createMetrics, metricsListener }] = await code;
    const metrics = createMetrics({ processMetrics: true });
    mundo = await createMundoApp({ config, database, secret, keys, log, redis, metrics, onUnexpectedError });
    metricsHandler = metricsListener(metrics, { token: config.METRICS_TOKEN });
  } catch (error) {
    // Nothing was served yet: close quietly, without a drain.
    running.server.closeAllConnections();
    running.server.close();
    metricsRunning?.server.close();
    await closeStores().catch(() => {});
    throw error;
  }
  handler = mundo.app;
  mundo.attachRealtime(running.server, {
    maxSocketsPerUser: config.REALTIME_MAX_SOCKETS_PER_USER,
    maxSocketsPerAddress: config.REALTIME_MAX_SOCKETS_PER_ADDRESS,
  });
  log.info(
    {
      url: running.url,
      metricsUrl: metricsRunning?.url,
      database: database.kind,
      redis: Boolean(redis),
      ms: Math.round(performance.now() - startedAt),
    },
    `Mundo Tango API listening on ${running.url} (docs at /docs, spec at /openapi.json)`,
  );
  return {
    url: running.url,
    metricsUrl: metricsRunning && `${metricsRunning.url}/metrics`,
    running,
    database,
    redis,
    shutdown: running.shutdown,
  };
}

/** Opens the configured store, logging the connection and the migrations apart: either can be the slow one. */
async function openStore(config: Config, log: Logger): Promise<Database> {
  const dataDir = join(config.DATA_DIR, 'pglite');
  if (!config.DATABASE_URL && !existsSync(join(dataDir, 'PG_VERSION'))) {
    log.info({ dataDir }, 'creating the embedded database (first start only: this takes a few seconds)');
  }
  let began = performance.now();
  const since = () => Math.round(performance.now() - began);
  const { openDatabase } = await import('./db/database');
  return openDatabase({
    ...(config.DATABASE_URL ? { url: config.DATABASE_URL } : { dataDir }),
    pool: { max: config.DB_POOL_MAX, connectionTimeoutMs: config.DB_CONNECT_TIMEOUT_MS, queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS },
    onConnected: () => {
      log.info({ ms: since(), database: config.DATABASE_URL ? 'postgres' : 'pglite' }, 'database opened');
      began = performance.now();
    },
    onMigrated: (applied) =>
      log.info({ ms: since(), applied: applied.length, migrations: applied }, `migrations applied: ${applied.length}`),
  });
}

async function timed<T>(log: Logger, message: string, work: () => Promise<T>): Promise<T> {
  const began = performance.now();
  const value = await work();
  log.info({ ms: Math.round(performance.now() - began) }, message);
  return value;
}

/**
 * Until the app is ready: 503 with Retry-After, as a problem. The contracts (which name the
 * problem types) are the app's, loading meanwhile; a request this early waits for them.
 */
function startingUp(_req: IncomingMessage, res: ServerResponse): void {
  void import('../contracts').then(({ api }) => {
    const body = JSON.stringify({
      type: `${api.problemBaseUrl}/service-unavailable`,
      title: 'Service unavailable',
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      detail: 'The server is starting',
    });
    res
      .writeHead(503, { 'Content-Type': 'application/problem+json', 'Retry-After': '1', 'Cache-Control': 'no-store', Connection: 'close' })
      .end(body);
  });
}
