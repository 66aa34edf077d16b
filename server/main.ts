import { join } from 'node:path';
import { ConfigError, createLogger, createMetrics, loadConfig, resolveSecret, serve } from '../runtime/server';
import { createMundoApp } from './app';
import { ConfigSchema, type Config } from './config';
import { openDatabase } from './db/database';
import { connectRedis } from './redis';

/** `npm start`: config → secret → database (migrated) → app → listen, draining on SIGTERM. */
let config: Config;
try {
  config = loadConfig(ConfigSchema);
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}

const log = createLogger({ level: config.LOG_LEVEL });
let secret: Uint8Array;
try {
  secret = resolveSecret({
    name: 'JWT_SECRET',
    value: config.JWT_SECRET,
    production: config.NODE_ENV === 'production',
    dataDir: config.DATA_DIR,
    log,
  });
} catch (error) {
  console.error(error instanceof ConfigError ? `Invalid configuration:\n  ${error.message}` : error);
  process.exit(1);
}

const database = await openDatabase(config.DATABASE_URL ? { url: config.DATABASE_URL } : { dataDir: join(config.DATA_DIR, 'pglite') });
const redis = config.REDIS_URL ? await connectRedis(config.REDIS_URL) : undefined;
const mundo = await createMundoApp({ config, database, secret, log, redis, metrics: createMetrics({ processMetrics: true }) });
const running = await serve(mundo.app, {
  port: config.PORT,
  host: config.HOST,
  log,
  handleSignals: true,
  // Sockets first: an open WebSocket would hold the server open through the drain.
  beforeClose: () => mundo.close(),
  onClose: async () => {
    await redis?.close();
    await database.close();
  },
});
mundo.attachRealtime(running.server);
log.info(
  { url: running.url, database: database.kind, redis: Boolean(redis) },
  `Mundo Tango API listening on ${running.url} (docs at /docs, spec at /openapi.json)`,
);
