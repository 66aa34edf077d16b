import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoint } from '../../../runtime/contract';
import type { AppOptions, RouteDefinition } from '../../../runtime/server';
import { createFixture } from './fixture';

/**
 * Backpressure: a bound on the requests one instance handles at once (one more is refused at once,
 * not queued) and a per-request handler timeout, both answered 503 with Retry-After.
 */
const hold = endpoint({
  method: 'GET',
  version: 1,
  path: '/hold',
  operationId: 'hold',
  summary: 'Answers when the test lets it',
  tags: ['misc'],
  auth: 'public',
  response: { status: 200, body: z.object({ done: z.boolean() }) },
});
const order = endpoint({
  method: 'POST',
  version: 1,
  path: '/orders',
  operationId: 'placeOrder',
  summary: 'A write that takes a while',
  tags: ['misc'],
  auth: 'public',
  body: z.object({ item: z.string().max(20) }),
  response: { status: 201, body: z.object({ id: z.number().int(), item: z.string().max(20) }) },
});

let release: () => void = () => {};
let held: Promise<void> = Promise.resolve();
let started = 0;
let orders = 0;
let orderDelayMs = 0;
const routes: RouteDefinition[] = [
  {
    endpoint: hold,
    handler: async () => {
      started++;
      await held;
      return { done: true };
    },
  },
  {
    endpoint: order,
    handler: async ({ body }: { body: { item: string } }) => {
      await new Promise((resolve) => setTimeout(resolve, orderDelayMs));
      orders++;
      return { id: orders, item: body.item };
    },
  } as RouteDefinition,
];

const servers: Server[] = [];
afterEach(async () => {
  release();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function serve(options: Partial<AppOptions>) {
  // The fixture's app, with this file's routes in place of its own.
  const { app, logLines: lines } = createFixture({ routes, metricsAccess: 'public', ...options });
  const server = createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, lines };
}

function holdRequests() {
  started = 0;
  held = new Promise<void>((resolve) => {
    release = resolve;
  });
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('until: timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('maxConcurrentRequests', () => {
  it('refuses one request more than the bound at once with 503 and Retry-After, and serves again once they finish', async () => {
    const { base } = await serve({ maxConcurrentRequests: 2 });
    holdRequests();
    const first = [fetch(`${base}/api/v1/hold`), fetch(`${base}/api/v1/hold`)];
    await until(() => started === 2);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^http_requests_in_flight 2$/m);

    const refused = await fetch(`${base}/api/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'zapatos' }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    // Refused before anything ran: the write was not made.
    expect(orders).toBe(0);

    release();
    for (const response of await Promise.all(first)) expect(response.status).toBe(200);
    expect((await fetch(`${base}/api/v1/hold`)).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^http_requests_in_flight 0$/m);
  });
});

describe('handlerTimeoutMs', () => {
  it('answers 503 with Retry-After when a handler overruns, and logs it; the handler runs on', async () => {
    const { base, lines } = await serve({ handlerTimeoutMs: 100 });
    holdRequests();
    const response = await fetch(`${base}/api/v1/hold`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect((await response.json()).detail).toMatch(/took longer than 100 ms/);
    expect(lines.find((line) => line.msg === 'handler timed out')).toMatchObject({ route: '/api/v1/hold', ms: 100 });
    expect(lines.some((line) => line.msg === 'unhandled error')).toBe(false);
  });

  it('a write without an Idempotency-Key that overruns is not offered a retry (it may have been made)', async () => {
    const { base } = await serve({ handlerTimeoutMs: 100 });
    orders = 0;
    orderDelayMs = 300;
    const response = await fetch(`${base}/api/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'zapatos' }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeNull();
    expect((await response.json()).detail).toMatch(/may still complete/);
    await until(() => orders === 1);
  });

  it('a retry with the same Idempotency-Key gets what the overrunning write really did, never a second write', async () => {
    const { base } = await serve({ handlerTimeoutMs: 100 });
    orders = 0;
    orderDelayMs = 1000;
    const send = () =>
      fetch(`${base}/api/v1/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'order-1' },
        body: JSON.stringify({ item: 'zapatos' }),
      });
    const first = await send();
    expect(first.status).toBe(503);
    // While the write is still running, a retry is told so, and runs nothing.
    const early = await send();
    expect(early.status).toBe(409);
    // Once the late write is done, the retry replays it.
    await until(() => orders === 1);
    let retry = await send();
    // The key is stored just after the write: a retry in between may be told it is still in progress.
    for (let tries = 0; retry.status === 409 && tries < 50; tries++) retry = await send();
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await retry.json()).toEqual({ data: { id: 1, item: 'zapatos' } });
    expect(orders).toBe(1);
  });
});
