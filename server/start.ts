import { join } from 'node:path';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { api } from '../contracts';
import { compileTrust, createLogger, createMetrics, metricsListener, resolveSecret, serve, type Running } from '../runtime/server';
import { createMundoApp } from './app';
import type { Config } from './config';
import { restrictModes } from './db/data-dir';
import { openDatabase, type Database } from './db/database';
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
 * What `npm start` does once the configuration is read: secret → ports → database (migrated) →
 * Redis → app → real time. The ports are taken before the database is opened, so a second server
 * started by mistake stops at its port and never touches the data; until the app is ready the
 * port answers 503. Throws `ConfigError`, `ListenError` or `DataDirInUseError`, each with a
 * one-line message.
 */
export async function startServer(
  config: Config,
  options: {
    log?: Logger;
    /** Drain and exit on SIGTERM/SIGINT (`npm start`). */
    handleSignals?: boolean;
    /** A database already open (tests); it is left open on shutdown. */
    database?: Database;
  } = {},
): Promise<Started> {
  const log = options.log ?? createLogger({ level: config.LOG_LEVEL });
  // The data directory holds the database and the local secret: its owner's alone.
  await restrictModes(config.DATA_DIR, { recursive: false });
  const secret = resolveSecret({
    name: 'JWT_SECRET',
    value: config.JWT_SECRET,
    production: config.NODE_ENV === 'production',
    dataDir: config.DATA_DIR,
    log,
  });

  const metrics = createMetrics({ processMetrics: true });
  const trusted = compileTrust(config.TRUST_PROXY);
  let mundo: Awaited<ReturnType<typeof createMundoApp>> | undefined;
  let database: Database | undefined;
  let redis: RedisConnections | undefined;
  let metricsRunning: Running | undefined;
  const closeStores = async () => {
    await redis?.close();
    if (!options.database) await database?.close();
  };

  let handler: RequestListener = startingUp;
  const running = await serve((req, res) => handler(req, res), {
    port: config.PORT,
    host: config.HOST,
    log,
    handleSignals: options.handleSignals,
    portSetting: 'PORT',
    timeouts: { headersMs: config.HTTP_HEADERS_TIMEOUT_MS, requestMs: config.HTTP_REQUEST_TIMEOUT_MS, keepAliveMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS },
    maxConnectionsPerAddress: config.HTTP_MAX_CONNECTIONS_PER_ADDRESS,
    isTrustedPeer: (address) => trusted(address, 0),
    // Sockets first: an open WebSocket would hold the server open through the drain.
    beforeClose: () => mundo?.close(),
    onClose: async () => {
      await metricsRunning?.shutdown();
      await closeStores();
    },
  });
  try {
    if (config.METRICS_PORT !== undefined) {
      metricsRunning = await serve(metricsListener(metrics, { token: config.METRICS_TOKEN }), {
        port: config.METRICS_PORT,
        host: config.METRICS_HOST ?? config.HOST,
        log: log.child({ server: 'metrics' }, { level: 'warn' }),
        portSetting: 'METRICS_PORT',
        timeouts: { headersMs: config.HTTP_HEADERS_TIMEOUT_MS, requestMs: config.HTTP_REQUEST_TIMEOUT_MS, keepAliveMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS },
      });
    }
    database = options.database ?? (await openDatabase(config.DATABASE_URL ? { url: config.DATABASE_URL } : { dataDir: join(config.DATA_DIR, 'pglite') }));
    redis = config.REDIS_URL ? await connectRedis(config.REDIS_URL, config.REDIS_PREFIX) : undefined;
    mundo = await createMundoApp({ config, database, secret, log, redis, metrics });
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
    { url: running.url, metricsUrl: metricsRunning?.url, database: database.kind, redis: Boolean(redis) },
    `Mundo Tango API listening on ${running.url} (docs at /docs, spec at /openapi.json)`,
  );
  return { url: running.url, metricsUrl: metricsRunning && `${metricsRunning.url}/metrics`, running, database, redis, shutdown: running.shutdown };
}

/** Until the app is ready: 503 with Retry-After, as a problem. */
function startingUp(_req: IncomingMessage, res: ServerResponse): void {
  const body = JSON.stringify({ type: `${api.problemBaseUrl}/service-unavailable`, title: 'Service unavailable', status: 503, code: 'SERVICE_UNAVAILABLE', detail: 'The server is starting' });
  res.writeHead(503, { 'Content-Type': 'application/problem+json', 'Retry-After': '1', 'Cache-Control': 'no-store', Connection: 'close' }).end(body);
}
