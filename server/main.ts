// By file rather than the runtime's index, which would load all of the runtime before the
// configuration is even read (see start.ts).
import { ConfigError, loadConfig } from '../runtime/server/config';
import { MissingHandlersError } from '../runtime/server/handler';
import { ListenError } from '../runtime/server/lifecycle';
import { createLogger } from '../runtime/server/logger';
import { ConfigSchema, logFormat, otlpTracesUrl, type Config } from './config';
import { DataDirInUseError } from './db/data-dir';
import { startServer } from './start';
import type { Tracing } from './tracing';

/** `npm start`: config → tracing (when configured) → secret → ports → database (migrated) and app → listen, draining on SIGTERM. */
let config: Config;
try {
  config = loadConfig(ConfigSchema);
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}

// Whatever this process writes (database files, the local secret) is readable by its owner only.
process.umask(0o077);

const log = createLogger({ level: config.LOG_LEVEL, service: 'mundo-tango-api', format: logFormat(config) });
// Counted from the process's start: loading this code is most of this step.
log.info({ ms: Math.round(performance.now()) }, 'configuration read');

// Before the app exists, so its first request is traced. Off (no collector), the SDK is not even loaded.
const tracesUrl = otlpTracesUrl(config);
let tracing: Tracing | undefined;
if (tracesUrl) {
  tracing = (await import('./tracing')).startTracing({ url: tracesUrl, serviceName: config.OTEL_SERVICE_NAME });
  log.info({ collector: new URL(tracesUrl).origin, serviceName: config.OTEL_SERVICE_NAME }, 'tracing on: spans are sent by OTLP');
}

try {
  await startServer(config, { log, handleSignals: true, startedAt: 0, afterShutdown: tracing?.shutdown });
} catch (error) {
  await tracing?.shutdown().catch(() => {});
  // Mistakes an operator can fix get one line; anything else its stack.
  if (error instanceof ConfigError) console.error(`Invalid configuration:\n  ${error.message}`);
  else if (error instanceof ListenError || error instanceof DataDirInUseError || error instanceof MissingHandlersError)
    console.error(error.message);
  else console.error(error);
  process.exit(1);
}
