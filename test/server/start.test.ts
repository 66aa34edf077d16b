import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, ListenError, loadConfig } from '../../runtime/server';
import { ConfigSchema } from '../../server/config';
import type { Database } from '../../server/db/database';
import { startServer, type Started } from '../../server/start';
import { captureLog } from '../support/app';
import { openTestDatabase } from '../support/database';
import { describeWith } from '../support/services';
import { redisRun, redisUrl, within } from './scale/http-client';

/** `npm start` in this process (server/start.ts): what the configuration turns on, seen from outside. */
let database: Database;
let dataDir: string;
const log = createLogger({ level: 'silent' });
const TOKEN = randomBytes(24).toString('hex');

beforeAll(async () => {
  database = await openTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), 'mundo-start-'));
});
afterAll(async () => {
  await database?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function config(env: Record<string, string>) {
  return loadConfig(ConfigSchema, {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ...env,
  });
}

async function started(env: Record<string, string>, use: (server: Started) => Promise<void>, logger = log) {
  const server = await startServer(config(env), { log: logger, database });
  try {
    await use(server);
  } finally {
    await server.shutdown();
  }
}

const get = (url: string, token?: string) => fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

describe('metrics', () => {
  it('with METRICS_PORT: served there (behind METRICS_TOKEN), and not on the API port', async () => {
    await started({ METRICS_PORT: '0', METRICS_TOKEN: TOKEN }, async (server) => {
      expect((await get(`${server.url}/api/v1/health`)).status).toBe(200);
      expect((await get(`${server.url}/metrics`)).status).toBe(404);
      expect((await get(`${server.url}/metrics`, TOKEN)).status).toBe(404);
      expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(new URL(server.metricsUrl!).port).not.toBe(new URL(server.url).port);
      expect((await get(server.metricsUrl!)).status).toBe(401);
      const res = await get(server.metricsUrl!, TOKEN);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('route="/api/v1/health"');
      expect(text).toContain('process_cpu_user_seconds_total');
      // How loaded the instance is: the event loop's lag and the requests in progress.
      expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
      expect(text).toMatch(/^http_requests_in_flight \d+$/m);
    });
  });

  it('with METRICS_TOKEN alone: on the API port behind the token; with neither: not at all', async () => {
    await started({ METRICS_TOKEN: TOKEN }, async (server) => {
      expect(server.metricsUrl).toBeUndefined();
      expect((await get(`${server.url}/metrics`)).status).toBe(401);
      expect((await get(`${server.url}/metrics`, TOKEN)).status).toBe(200);
    });
    await started({}, async (server) => {
      expect((await get(`${server.url}/metrics`)).status).toBe(404);
    });
  });
});

describe('slow clients', () => {
  it('the configured request timeout cuts a trickled body off, and the per-address cap refuses one connection too many', async () => {
    await started(
      { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_MAX_CONNECTIONS_PER_ADDRESS: '2' },
      async (server) => {
        const port = Number(new URL(server.url).port);
        const trickled = connect(port, '127.0.0.1');
        const idle = connect(port, '127.0.0.1');
        let answer = '';
        trickled.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
        const began = performance.now();
        const cutOff = new Promise<number>((resolve) => trickled.once('close', () => resolve(performance.now() - began)));
        trickled.write('POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{');
        const trickle = setInterval(() => trickled.destroyed || trickled.write(' '), 100);
        try {
          await new Promise((resolve) => idle.once('connect', resolve));
          // Both connections are counted once the server has them: then a third is one too many.
          const third = await within(3000, async () => {
            const socket = connect(port, '127.0.0.1');
            const outcome = await new Promise<string>((resolve) => {
              socket.once('close', () => resolve('closed'));
              socket.once('error', () => resolve('closed'));
              setTimeout(() => resolve('open'), 300).unref();
            });
            socket.destroy();
            return outcome === 'closed';
          });
          expect(third.ok).toBe(true);
          const elapsed = await Promise.race([
            cutOff,
            new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 10_000).unref()),
          ]);
          expect(elapsed).toBeLessThan(10_000);
          expect(answer).toMatch(/^HTTP\/1\.1 408 /);
        } finally {
          clearInterval(trickle);
          trickled.destroy();
          idle.destroy();
        }
      },
    );
  });
});

describeWith(['redis'], 'REDIS_PREFIX', () => {
  it('puts every key and channel of this deployment under the prefix: rate limits, revocations, the Socket.IO adapter', async () => {
    const run = redisRun('start');
    const captured = captureLog();
    try {
      await started(
        { REDIS_URL: redisUrl, REDIS_PREFIX: run.prefix },
        async (server) => {
          expect(server.redis?.keyPrefix).toBe(run.prefix);
          // A login attempt spends rate-limit points.
          const res = await fetch(`${server.url}/api/v1/auth/login`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ username: 'nobody-here', password: 'not the password at all' }),
          });
          expect(res.status).toBe(401);
          const keys = await run.keys();
          expect(keys.length).toBeGreaterThan(0);
          expect(keys.some((key) => key.startsWith(`${run.prefix}rl:`))).toBe(true);

          const channels = (await run.inspector.pubsub('CHANNELS', `${run.prefix}*`)) as string[];
          expect(channels).toContain(`${run.prefix}revoked-sessions`);
          expect(channels.some((channel) => channel.startsWith(`${run.prefix}socket.io`))).toBe(true);
        },
        captured.log,
      );
      // The start-up says how long connecting took, beside its other steps.
      expect(captured.lines.find((line) => line.msg === 'Redis connected')?.ms).toBeGreaterThanOrEqual(0);
      expect(captured.lines.find((line) => line.redis === true && String(line.msg).includes('listening on'))).toBeDefined();
    } finally {
      await run.sweep();
    }
  });
});

describe('start-up order', () => {
  it('takes the port before it opens the database: a taken port stops it with a one-line error and the data directory untouched', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const fresh = await mkdtemp(join(tmpdir(), 'mundo-start-taken-'));
    try {
      const error = await startServer(config({ PORT: String(port), DATA_DIR: fresh }), { log }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ListenError);
      expect((error as Error).message).toBe(
        `Cannot listen on 127.0.0.1:${port}: the port is already in use (stop what runs there, or set PORT to another port)`,
      );
      await expect(stat(join(fresh, 'pglite'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      blocker.close();
      await rm(fresh, { recursive: true, force: true });
    }
  });
});
