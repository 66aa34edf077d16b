import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createCursorCodec } from '../../../runtime/server';
import { CURSOR_SECRET, createFixture, errorPaths, expectProblem } from './fixture';

const { app, probe } = createFixture();

/** `<url>; rel="next"` → url */
function nextLink(header: string | undefined): string {
  const match = /^<([^>]+)>;\s*rel="next"$/.exec(header ?? '');
  if (!match) throw new Error(`no rel="next" link in ${String(header)}`);
  return match[1]!;
}

describe('success envelopes', () => {
  it('wraps a 200 result in { data }', async () => {
    const res = await request(app).get('/api/v1/items/4');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ data: { id: 4, title: 'Item 4' } });
  });

  it('wraps a 201 result in { data }', async () => {
    const res = await request(app).post('/api/v1/items').send({ title: 'New' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ data: { id: 1, title: 'New' } });
  });

  it('answers 204 with an empty body', async () => {
    const res = await request(app).delete('/api/v1/items/9');
    expect(res.status).toBe(204);
    expect(res.text ?? '').toBe('');
    expect(res.headers['content-length'] ?? '0').toBe('0');
    expect((probe.inputs.deleteItem as { params: { id: number } }).params.id).toBe(9);
  });
});

describe('cursor pages', () => {
  it('answers { data, page: { nextCursor, hasMore } } with a Link rel="next" that keeps the other query params', async () => {
    const res = await request(app).get('/api/v1/items?tag=red&limit=2');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body as object).sort()).toEqual(['data', 'page']);
    expect(res.body.data.map((r: { id: string }) => r.id)).toEqual(['a', 'b']);
    expect(res.body.page).toEqual({ nextCursor: expect.any(String), hasMore: true });

    const link = new URL(nextLink(res.headers.link), 'http://x');
    expect(link.pathname).toBe('/api/v1/items');
    expect(link.searchParams.get('tag')).toBe('red');
    expect(link.searchParams.get('limit')).toBe('2');
    expect(link.searchParams.get('cursor')).toBe(res.body.page.nextCursor);
  });

  it('walks every page by following the Link header, with no row skipped or repeated', async () => {
    const seen: string[] = [];
    let url: string | undefined = '/api/v1/items?limit=2&tag=red';
    let pages = 0;
    while (url) {
      const res = await request(app).get(url);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((r: { id: string }) => r.id));
      pages++;
      if (res.body.page.hasMore) {
        url = nextLink(res.headers.link);
      } else {
        expect(res.body.page).toEqual({ nextCursor: null, hasMore: false });
        expect(res.headers.link).toBeUndefined();
        url = undefined;
      }
      expect(pages).toBeLessThan(10);
    }
    expect(seen).toEqual(['a', 'b', 'd', 'e']);
    expect(pages).toBe(2);
  });

  it('hands the handler the decoded cursor and the filters without limit/cursor', async () => {
    const first = await request(app).get('/api/v1/items?limit=1');
    await request(app).get(`/api/v1/items?limit=1&cursor=${encodeURIComponent(first.body.page.nextCursor as string)}`);
    const seen = probe.inputs.listItems as {
      query: Record<string, unknown>;
      page: { limit: number; after: { createdAt: Date; id: string } };
    };
    expect(seen.query).toEqual({});
    expect(seen.page.limit).toBe(1);
    expect(seen.page.after.id).toBe('a');
    expect(seen.page.after.createdAt.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('answers a tampered cursor with 400 INVALID_CURSOR', async () => {
    const first = await request(app).get('/api/v1/items?limit=1');
    const cursor = first.body.page.nextCursor as string;
    // Change the position part (skip ahead) but keep the signature.
    const [payload, signature] = cursor.split('.');
    const forged = Buffer.from(JSON.stringify(['2026-01-04T00:00:00.000Z', 'd'])).toString('base64url');
    expect(forged).not.toBe(payload);
    const res = await request(app).get(`/api/v1/items?limit=1&cursor=${forged}.${signature}`);
    expectProblem(res, 400, 'INVALID_CURSOR');

    const flipped = cursor.slice(0, -1) + (cursor.endsWith('A') ? 'B' : 'A');
    expectProblem(await request(app).get(`/api/v1/items?cursor=${flipped}`), 400, 'INVALID_CURSOR');
    expectProblem(await request(app).get('/api/v1/items?cursor=garbage'), 400, 'INVALID_CURSOR');
  });

  it('refuses a cursor signed with another secret', async () => {
    const other = createCursorCodec(new TextEncoder().encode('another-cursor-secret-of-32-bytes-or-more'));
    const cursor = other.encode({ createdAt: new Date('2026-01-01T00:00:00.000Z'), id: 'a' }, 'listItems');
    expectProblem(await request(app).get(`/api/v1/items?cursor=${cursor}`), 400, 'INVALID_CURSOR');
  });

  it('refuses a cursor this API signed for another operation, even with the same key', async () => {
    const same = createCursorCodec(CURSOR_SECRET);
    const key = { createdAt: new Date('2026-01-01T00:00:00.000Z'), id: 'a' };
    expect((await request(app).get(`/api/v1/items?cursor=${same.encode(key, 'listItems')}`)).status).toBe(200);
    expectProblem(await request(app).get(`/api/v1/items?cursor=${same.encode(key, 'listEvents')}`), 400, 'INVALID_CURSOR');
  });

  it('refuses an over-long cursor through validation', async () => {
    const res = await request(app).get(`/api/v1/items?cursor=${'a'.repeat(600)}`);
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body)).toEqual(['/query/cursor']);
  });
});
