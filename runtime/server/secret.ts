import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from './config';

export const MIN_SECRET_BYTES = 32;

/**
 * The signing secret comes from the environment. In production it is required; on a developer's
 * machine one is made once under the data directory, so tokens survive restarts, and the log says
 * so. There is no fallback secret in code.
 */
export function resolveSecret(options: {
  name: string;
  value: string | undefined;
  production: boolean;
  dataDir: string;
  log: Logger;
}): Uint8Array {
  const { name, value } = options;
  if (value !== undefined) {
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length < MIN_SECRET_BYTES) throw new ConfigError(`${name} must be at least ${MIN_SECRET_BYTES} bytes`);
    return bytes;
  }
  if (options.production) throw new ConfigError(`${name} is required when NODE_ENV=production (at least ${MIN_SECRET_BYTES} bytes)`);
  const file = join(options.dataDir, name.toLowerCase().replaceAll('_', '-'));
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  } catch {
    mkdirSync(options.dataDir, { recursive: true });
    const secret = randomBytes(MIN_SECRET_BYTES);
    writeFileSync(file, secret.toString('base64url'), { mode: 0o600 });
    options.log.warn({ file }, `${name} is not set: created a random local secret (set ${name} in production)`);
    return secret;
  }
}
