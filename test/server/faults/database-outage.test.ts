import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../server/db/database';
import { createTestApp } from '../../support/app';
import { backends, type ScratchStore } from '../../support/database';
import { describeWith } from '../../support/services';
import { switchableProxy } from '../../support/switch-proxy';

/**
 * PostgreSQL out of reach while the API serves: behind a proxy the test turns off (the server
 * stopped), stalls (a network that stops answering) and turns on again, and with every pooled
 * connection busy. Requests that need the database get 503 SERVICE_UNAVAILABLE with Retry-After
 * within the pool's bounds, never a 500 or a hang; health says so; service resumes without a
 * restart. The bounds here are small so the test is quick: production's are DB_CONNECT_TIMEOUT_MS
 * and DB_QUERY_TIMEOUT_MS.
 */
// biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read field by field.
type Json = any;
const POOL = { max: 2, connectionTimeoutMs: 800, queryTimeoutMs: 1000 };
const PRACTICA = {
  title: 'Práctica del jueves',
  kind: 'practica',
  city: 'Rosario',
  venue: 'Club Unión',
  startsAt: '2027-01-07T21:00:00Z',
  endsAt: '2027-01-08T00:00:00Z',
};

let store: ScratchStore;
let proxy: Awaited<ReturnType<typeof switchableProxy>>;
let database: Database;
let test: Awaited<ReturnType<typeof createTestApp>>;
let server: Server;
let base: string;
let token: string;

describeWith(['postgres'], 'a database outage', () => {
  beforeAll(async () => {
    store = await backends.find((backend) => backend.name === 'postgres')!.scratch();
    const direct = new URL(store.options.url!);
    proxy = await switchableProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const viaProxy = new URL(direct);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    database = await openDatabase({ url: viaProxy.toString(), pool: POOL });
    test = await createTestApp(database);
    server = createServer(test.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const registered = await send('POST', '/api/v1/auth/register', {
      username: 'outage.ana',
      password: 'milonga at midnight in Almagro',
      displayName: 'Ana',
    });
    token = registered.body.data.accessToken;
  }, 30_000);

  afterAll(async () => {
    await proxy?.up();
    if (server) await new Promise((resolve) => server.close(resolve));
    await test?.close();
    await database?.close();
    await proxy?.close();
    await store?.dispose();
  });

  async function send(
    method: string,
    path: string,
    body?: unknown,
    auth?: string,
  ): Promise<{ status: number; headers: Headers; body: Json; ms: number }> {
    const began = performance.now();
    const response = await fetch(base + path, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, headers: response.headers, body: await response.json(), ms: performance.now() - began };
  }

  /** What every request that needs the database gets while it is out of reach. */
  function expectUnavailable(answer: Awaited<ReturnType<typeof send>>) {
    expect(answer.status, JSON.stringify(answer.body)).toBe(503);
    expect(answer.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(JSON.stringify(answer.body)).not.toMatch(/ECONN|stack|pg_|timeout exceeded/i);
  }

  async function recovered(): Promise<number> {
    const began = performance.now();
    for (;;) {
      if ((await send('GET', '/api/v1/events')).status === 200) return performance.now() - began;
      if (performance.now() - began > 15_000) throw new Error('the API did not recover within 15 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const unhandled = () => test.logLines.filter((line) => line.msg === 'unhandled error');

  it('stopped: 503 with Retry-After for reads, writes and signed-in calls, health says so; back without a restart', async () => {
    await proxy.down();
    expectUnavailable(await send('GET', '/api/v1/events'));
    expectUnavailable(await send('GET', '/api/v1/users/me', undefined, token));
    const health = await send('GET', '/api/v1/health');
    expect(health.status).toBe(503);
    expect(health.body.detail).toMatch(/database/i);
    const write = await send('POST', '/api/v1/events', PRACTICA, token);
    expectUnavailable(write);

    await proxy.up();
    await recovered();
    expect((await send('GET', '/api/v1/health')).status).toBe(200);
    expect((await send('GET', '/api/v1/users/me', undefined, token)).status).toBe(200);
    // The write refused during the outage did not happen; made again, it does.
    const created = await send('POST', '/api/v1/events', PRACTICA, token);
    expect(created.status).toBe(201);
    expect((await send('GET', '/api/v1/events?city=Rosario')).body.data).toHaveLength(1);
    expect(unhandled()).toEqual([]);
  });

  it('a network that stops answering: each request is answered 503 once the query timeout passes, not left hanging', async () => {
    proxy.stall();
    const stalled = await send('GET', '/api/v1/events');
    expectUnavailable(stalled);
    // Bounded by the pool's timeouts (2.5 s here), far from the test's own timeout.
    expect(stalled.ms).toBeLessThan(POOL.queryTimeoutMs + 5_000);
    await proxy.up();
    await recovered();
    expect(unhandled()).toEqual([]);
  });

  it('every connection busy: a request waits the connection timeout, then gets 503, while the busy ones finish', async () => {
    // An app of its own on the same database, without statement timeouts: its two connections are
    // held by statements that wait for a lock this test holds, for as long as it holds it.
    const busy = await openDatabase({ url: store.options.url!, pool: { max: 2, connectionTimeoutMs: 300, queryTimeoutMs: 0 } });
    const busyApp = await createTestApp(busy);
    const busyServer = createServer(busyApp.app);
    await new Promise<void>((resolve) => busyServer.listen(0, '127.0.0.1', resolve));
    const lock = new pg.Client({ connectionString: store.options.url });
    await lock.connect();
    try {
      await lock.query('SELECT pg_advisory_lock(424242)');
      // (Drizzle runs a query when it is awaited: Promise.resolve starts both now.)
      const held = [1, 2].map(() => Promise.resolve(busy.db.execute(sql`SELECT pg_advisory_xact_lock(424242)`)));
      const deadline = Date.now() + 10_000;
      for (let waiting = 0; waiting < 2; ) {
        if (Date.now() > deadline) throw new Error('the held statements never ran');
        const { rows } = await lock.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%pg_advisory_xact_lock%' AND pid <> pg_backend_pid()",
        );
        waiting = rows[0].n;
      }
      const url = `http://127.0.0.1:${(busyServer.address() as AddressInfo).port}/api/v1/events`;
      const began = performance.now();
      const waited = await fetch(url);
      const ms = performance.now() - began;
      expect(waited.status).toBe(503);
      expect(waited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(ms).toBeGreaterThanOrEqual(250);
      await lock.query('SELECT pg_advisory_unlock(424242)');
      await Promise.all(held);
      expect((await fetch(url)).status).toBe(200);
      expect(busyApp.logLines.filter((line) => line.msg === 'unhandled error')).toEqual([]);
    } finally {
      await lock.end();
      await new Promise((resolve) => busyServer.close(resolve));
      await busyApp.close();
      await busy.close();
    }
  });
});
