import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport, type OperationDescriptor, type Page } from '../../../runtime/client/index';
import { sendJson, startServer, type TestServer } from './server';

const listEvents: OperationDescriptor = {
  operationId: 'listEvents',
  method: 'GET',
  path: '/api/v1/events',
  auth: false,
  paged: true,
};

interface Event {
  id: number;
}

const EVENTS: Event[] = Array.from({ length: 7 }, (_, i) => ({ id: i + 1 }));

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** Serves EVENTS `limit` at a time; the cursor is the offset, as an opaque string. */
function serveEvents() {
  server.handle((req, res) => {
    const query = new URL(req.url, server.baseUrl).searchParams;
    const limit = Number(query.get('limit') ?? 20);
    const offset = Number(query.get('cursor') ?? 0);
    const data = EVENTS.slice(offset, offset + limit);
    const hasMore = offset + limit < EVENTS.length;
    const page: Page<Event> = { data, page: { nextCursor: hasMore ? String(offset + limit) : null, hasMore } };
    sendJson(res, 200, page);
  });
}

describe('paging', () => {
  it('items() yields every item of every page, in order', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    serveEvents();

    const items: Event[] = [];
    for await (const event of transport.items<Event>(listEvents, { query: { limit: 3 } })) items.push(event);

    expect(items).toEqual(EVENTS);
    expect(server.requests).toHaveLength(3);
  });

  it('pages() yields the three pages, following nextCursor and keeping the other query parameters', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    serveEvents();

    const pages: Page<Event>[] = [];
    for await (const page of transport.pages<Event>(listEvents, { query: { limit: 3, city: 'Buenos Aires' } })) pages.push(page);

    expect(pages.map((p) => p.data.map((e) => e.id))).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(pages.map((p) => p.page)).toEqual([
      { nextCursor: '3', hasMore: true },
      { nextCursor: '6', hasMore: true },
      { nextCursor: null, hasMore: false },
    ]);
    const queries = server.requests.map((r) => Object.fromEntries(new URL(r.url, server.baseUrl).searchParams));
    expect(queries).toEqual([
      { limit: '3', city: 'Buenos Aires' },
      { limit: '3', city: 'Buenos Aires', cursor: '3' },
      { limit: '3', city: 'Buenos Aires', cursor: '6' },
    ]);
  });

  it('fetches lazily: breaking out early requests no further pages', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    serveEvents();

    for await (const event of transport.items<Event>(listEvents, { query: { limit: 3 } })) {
      if (event.id === 2) break;
    }

    expect(server.requests).toHaveLength(1);
  });

  it('stops on an empty single page', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    server.handle((_req, res) => sendJson(res, 200, { data: [], page: { nextCursor: null, hasMore: false } }));

    const items: unknown[] = [];
    for await (const item of transport.items(listEvents)) items.push(item);

    expect(items).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses to page an operation that is not paged', () => {
    const transport = createTransport({ baseUrl: server.baseUrl });

    expect(() => transport.pages({ ...listEvents, paged: false })).toThrow(TypeError);
  });
});
