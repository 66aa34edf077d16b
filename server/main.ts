import { ConfigError, ListenError, loadConfig } from '../runtime/server';
import { ConfigSchema, type Config } from './config';
import { DataDirInUseError } from './db/data-dir';
import { startServer } from './start';

/** `npm start`: config → secret → ports → database (migrated) → app → listen, draining on SIGTERM. */
let config: Config;
try {
  config = loadConfig(ConfigSchema);
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}

// Whatever this process writes (database files, the local secret) is readable by its owner only.
process.umask(0o077);

try {
  await startServer(config, { handleSignals: true });
} catch (error) {
  // Mistakes an operator can fix get one line; anything else its stack.
  if (error instanceof ConfigError) console.error(`Invalid configuration:\n  ${error.message}`);
  else if (error instanceof ListenError || error instanceof DataDirInUseError) console.error(error.message);
  else console.error(error);
  process.exit(1);
}
