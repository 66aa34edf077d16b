import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import { afterAll, beforeAll } from 'vitest';
import { createLogger, createTokenSigner } from '../../runtime/server';
import { createMundoApp } from '../../server/app';
import { ConfigSchema } from '../../server/config';
import type { Database } from '../../server/db/database';
import type { RedisConnections } from '../../server/redis';
import type { RealtimePort } from '../../server/services/realtime-port';
import { openServerDatabase } from './database';

export const TEST_SECRET = new TextEncoder().encode('test-secret-that-is-at-least-32-bytes-long!');

/** Log lines the app wrote, parsed, so tests can assert what reached the log (and what did not). */
export function captureLog(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger({ level, destination }) };
}

/** The Mundo Tango app on a given database, as `npm start` builds it, with test config. */
export async function createTestApp(
  database: Database,
  env: Record<string, string> = {},
  redis?: RedisConnections,
  options: { realtime?: RealtimePort } = {},
) {
  const config = ConfigSchema.parse({ NODE_ENV: 'test', ...env });
  const { lines, log } = captureLog(config.LOG_LEVEL);
  const mediaDir = mkdtempSync(join(tmpdir(), 'mt-media-'));
  const mundo = await createMundoApp({
    config,
    database,
    secret: TEST_SECRET,
    log,
    redis,
    realtime: options.realtime,
    mediaDir,
  });
  const { app, services, attachRealtime } = mundo;
  const close = async () => {
    await mundo.close();
    rmSync(mediaDir, { recursive: true, force: true });
  };
  const signer = createTokenSigner({ secret: TEST_SECRET, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, ttlSeconds: 900 });
  return {
    app,
    services,
    close,
    attachRealtime,
    config,
    mediaDir,
    logLines: lines,
    /** A valid access token for a user id (of a session of its own unless one is named). */
    token: (sub: string, roles: string[] = ['user'], sid: string = randomUUID()) => signer.sign({ sub, roles, sid }),
    /** An access token of a session that expired a minute ago, as a client holds after a nap. */
    expiredToken: (sub: string, sessionId: string) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ roles: ['user'], sid: sessionId })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .setSubject(sub)
        .setIssuer(config.JWT_ISSUER)
        .setAudience(config.JWT_AUDIENCE)
        .setIssuedAt(now - 960)
        .setExpirationTime(now - 60)
        .setJti(randomUUID())
        .sign(TEST_SECRET);
    },
  };
}

/**
 * A test file's app on a database of its own (the server backend's unless `open` says otherwise),
 * opened before its tests and closed after them:
 * `app()` and `database()` answer the live ones (they exist once `beforeAll` has run).
 */
export function appOnOwnDatabase(open: () => Promise<Database> = openServerDatabase) {
  let database: Database | undefined;
  let test: Awaited<ReturnType<typeof createTestApp>> | undefined;
  beforeAll(async () => {
    database = await open();
    test = await createTestApp(database);
  });
  afterAll(async () => {
    await test?.close();
    await database?.close();
  });
  return { app: () => test!, database: () => database! };
}
