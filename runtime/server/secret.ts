import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from './config';

/** One minimum for every signing secret, wherever it comes from (RFC 7518 §3.2: 256 bits for HS256). */
export const MIN_SECRET_BYTES = 32;

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * The signing secret comes from the environment. In production it is required; on a developer's
 * machine one is made once under the data directory, so tokens survive restarts, and the log says
 * so. There is no fallback secret in code. A secret from either place has at least
 * MIN_SECRET_BYTES; a local file that is short, empty, not base64url or unreadable stops the start
 * with a message naming it (it is never silently replaced: that would sign everyone out, and
 * hide whatever damaged it).
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
  const stored = readSecretFile(file, name);
  if (stored) return stored;
  mkdirSync(options.dataDir, { recursive: true });
  const secret = randomBytes(MIN_SECRET_BYTES);
  try {
    // `wx`: if another process made the file meanwhile, its secret is the one to use.
    writeFileSync(file, secret.toString('base64url'), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readSecretFile(file, name) ?? refuse(file, name, 'is empty');
    throw new ConfigError(`${name} is not set and ${file} could not be written: ${(error as Error).message}`);
  }
  options.log.warn({ file }, `${name} is not set: created a random local secret (set ${name} in production)`);
  return secret;
}

/** The secret in `file`, or undefined when there is no such file. */
function readSecretFile(file: string, name: string): Uint8Array | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`${name} is not set and ${file} could not be read: ${(error as Error).message}`);
  }
  if (!BASE64URL.test(text)) return refuse(file, name, text === '' ? 'is empty' : 'is not base64url');
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.length < MIN_SECRET_BYTES) return refuse(file, name, `holds ${bytes.length} bytes, fewer than ${MIN_SECRET_BYTES}`);
  return bytes;
}

function refuse(file: string, name: string, problem: string): never {
  throw new ConfigError(
    `${name} is not set and ${file} ${problem}: set ${name} (at least ${MIN_SECRET_BYTES} bytes), or delete the file ` +
      'to have a new random secret made (that signs every session out)',
  );
}
