import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoint } from '../../../runtime/contract';
import { ApiError, type RouteDefinition } from '../../../runtime/server';
import { createFixture, waitFor } from './fixture';

/** Stream answers (`response: { stream: { item } }`): NDJSON lines, checked, as fast as the client reads. */

const Row = z.object({ n: z.number().int(), label: z.string().max(20) }).meta({ id: 'Row' });
const rows = (path: string, operationId: string) =>
  endpoint({
    method: 'GET',
    version: 1,
    path,
    operationId,
    summary: 'Rows',
    tags: ['items'],
    auth: 'public',
    query: z.object({ count: z.coerce.number().int().min(0).max(100_000).optional() }),
    response: { status: 200, stream: { item: Row } },
  });
const streamRows = rows('/rows', 'streamRows');
const failFirst = rows('/rows/fail-first', 'failFirst');
const failLater = rows('/rows/fail-later', 'failLater');
const badItem = rows('/rows/bad-item', 'badItem');
const slowFirst = rows('/rows/slow-first', 'slowFirst');
const slow = { closed: false };

const state = { pulled: 0, closed: false };
async function* produce(count: number) {
  try {
    for (let n = 0; n < count; n++) {
      state.pulled = n + 1;
      yield { n, label: `row ${n}`, secret: 'never sent' };
    }
  } finally {
    state.closed = true;
  }
}

const routes: RouteDefinition[] = [
  { endpoint: streamRows, handler: ({ query }: { query: { count?: number } }) => produce(query.count ?? 3) },
  {
    endpoint: failFirst,
    // The first read of the items fails (a query run lazily, say).
    handler: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new ApiError('NOT_FOUND', 'Nothing to stream')) }) }),
  },
  {
    endpoint: failLater,
    handler: async function* () {
      yield { n: 1, label: 'one' };
      throw new Error('the database went away');
    },
  },
  {
    endpoint: badItem,
    handler: async function* () {
      yield { n: 1, label: 'one' };
      yield { n: 'two', label: 'two' };
    },
  },
  {
    endpoint: slowFirst,
    handler: async function* () {
      try {
        await new Promise((resolve) => setTimeout(resolve, 300));
        yield { n: 1, label: 'late' };
        yield { n: 2, label: 'later' };
      } finally {
        slow.closed = true;
      }
    },
  },
] as RouteDefinition[];

const fixture = createFixture({ routes });
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer(fixture.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('stream answers', () => {
  it('send one checked line per item, undeclared fields left out, with the standard headers', async () => {
    const res = await request(fixture.app).get('/api/v1/rows').query({ count: 3 });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(res.text).toBe('{"n":0,"label":"row 0"}\n{"n":1,"label":"row 1"}\n{"n":2,"label":"row 2"}\n');
    expect((await request(fixture.app).get('/api/v1/rows').query({ count: 0 })).text).toBe('');
  });

  it('a failure before the first item is an ordinary problem; after it, the stream is cut short and logged', async () => {
    const first = await request(fixture.app).get('/api/v1/rows/fail-first');
    expect(first.status).toBe(404);
    expect(first.body).toMatchObject({ code: 'NOT_FOUND' });

    // Cut short: the connection is destroyed, so the client's read fails (at the headers or in the
    // body, whatever had been flushed); a partial stream never reads as a whole one.
    for (const path of ['/rows/fail-later', '/rows/bad-item']) {
      const outcome = await fetch(`${base}${path}`).then(
        (res) =>
          res.text().then(
            () => 'complete',
            () => 'cut',
          ),
        () => 'cut',
      );
      expect(outcome, path).toBe('cut');
    }
    expect(fixture.logLines.filter((line) => line.msg === 'stream cut short')).toHaveLength(2);
  });

  it('stops the handler when the client goes away before the first item', async () => {
    const abort = new AbortController();
    const pending = fetch(`${base}/rows/slow-first`, { signal: abort.signal }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    abort.abort();
    await pending;
    await waitFor(() => slow.closed || undefined, 3000);
  });

  it('reads only as fast as the client, and stops the handler when the client goes away', async () => {
    state.pulled = 0;
    state.closed = false;
    const res = await fetch(`${base}/rows?count=100000`);
    const reader = res.body!.getReader();
    await reader.read();
    // The server is held by backpressure, far from the end.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(state.pulled).toBeLessThan(100_000);
    await reader.cancel();
    await waitFor(() => state.closed || undefined);
    expect(state.pulled).toBeLessThan(100_000);
  });
});
