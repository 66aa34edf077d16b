import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createLogger, serve, type Running } from '../../../runtime/server';
import type { createTestApp } from '../../support/app';
import { serviceUrl } from '../../support/services';

/** One app instance listening on an ephemeral port of its own, as it would behind a load balancer. */
export interface Instance {
  name: string;
  test: Awaited<ReturnType<typeof createTestApp>>;
  running: Running;
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
  stop(): Promise<void>;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent as X-Forwarded-For: with TRUST_PROXY=loopback each simulated client has its own address. */
  ip?: string;
}

export interface Reply {
  status: number;
  headers: Headers;
  /** Parsed JSON; asserted field by field. */
  // biome-ignore lint/suspicious/noExplicitAny: the tests read the answers' fields directly, as JSON
  body: any;
}

export async function startInstance(name: string, test: Awaited<ReturnType<typeof createTestApp>>): Promise<Instance> {
  const running = await serve(test.app, { port: 0, host: '127.0.0.1', log: createLogger({ level: 'silent' }), drainMs: 1000 });
  return {
    name,
    test,
    running,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = {};
      if (options.token) headers.Authorization = `Bearer ${options.token}`;
      if (options.ip) headers['X-Forwarded-For'] = options.ip;
      if (options.body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetch(`${running.url}/api/v1${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
    },
    async stop() {
      await running.shutdown();
      await test.close();
    },
  };
}

/**
 * Polls `check` until it holds or `timeoutMs` passes; says whether it held, how long that took and
 * after how many tries. For effects that travel asynchronously (Redis pub/sub), instead of a fixed sleep.
 */
export async function within(
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<{ ok: boolean; elapsedMs: number; attempts: number }> {
  const started = performance.now();
  let attempts = 0;
  for (;;) {
    attempts++;
    if (await check()) return { ok: true, elapsedMs: performance.now() - started, attempts };
    if (performance.now() - started > timeoutMs) return { ok: false, elapsedMs: performance.now() - started, attempts };
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const redisUrl = serviceUrl('redis');

/**
 * One test run's corner of the shared Redis: a unique key prefix (instances of the run share it,
 * other runs do not), a connection to look inside, and a sweep that fails if anything stayed behind.
 */
export function redisRun(tag: string) {
  const prefix = `mt-test:${tag}:${process.pid}:${randomUUID().slice(0, 8)}:`;
  // Connected on first use: a run without Redis skips these tests and opens no connection.
  const inspector = new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  async function keys(pattern = '*'): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await inspector.scan(cursor, 'MATCH', `${prefix}${pattern}`, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return found;
  }
  return {
    prefix,
    inspector,
    keys,
    /** Deletes the run's keys, closes the connection, and throws if any key could not be deleted. */
    async sweep() {
      await inspector.unlink(...(await keys()), `${prefix}__none__`);
      const left = await keys();
      await inspector.quit();
      if (left.length > 0) throw new Error(`Redis keys left behind: ${left.join(', ')}`);
    },
  };
}
