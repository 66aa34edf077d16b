import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineApi, endpoint, paginated } from '../../../runtime/contract';
import { createApp, type HandlerFor, type RouteDefinition } from '../../../runtime/server';
import { AUDIENCE, captureLog, CURSOR_SECRET, expectProblem, ISSUER, PROBLEM_BASE, SECRET } from './fixture';

/**
 * Nothing of one API is built into the runtime: where operations are served (`basePath`) and
 * what a page is keyed by (`paginated(item, { key })`) are the contracts' to say.
 */
const Song = z.object({ id: z.string().max(10), title: z.string().max(100), plays: z.number().int() });
const SONGS = [
  { id: 's1', title: 'La Cumparsita', plays: 900 },
  { id: 's2', title: 'El Choclo', plays: 700 },
  { id: 's3', title: 'Libertango', plays: 700 },
  { id: 's4', title: 'Malena', plays: 400 },
];
const ByPlays = z.object({ plays: z.number().int(), id: z.string().max(10) });

const topSongs = endpoint({
  method: 'GET',
  version: 2,
  path: '/songs/top',
  operationId: 'topSongs',
  summary: 'Most played first',
  tags: ['songs'],
  auth: 'public',
  response: paginated(Song, { key: ByPlays }),
});

const newSongs = endpoint({
  method: 'GET',
  version: 2,
  path: '/songs/new',
  operationId: 'newSongs',
  summary: 'Newest first',
  tags: ['songs'],
  auth: 'public',
  response: paginated(Song),
});

const api = defineApi({
  info: { title: 'Songs', version: '2.0.0', description: 'A fixture', license: { name: 'MIT' } },
  servers: [],
  basePath: '/tango/v{version}',
  tags: { songs: 'Songs' },
  problemBaseUrl: PROBLEM_BASE,
  errors: {},
  modules: { songs: { topSongs, newSongs } },
});

const seenAfter: unknown[] = [];
const top: HandlerFor<typeof topSongs, object> = ({ page }) => {
  seenAfter.push(page.after);
  // The key is typed from the contract: a number and an id, not (createdAt, id).
  const after = page.after;
  const rest = SONGS.filter((s) => !after || s.plays < after.plays || (s.plays === after.plays && s.id > after.id));
  const items = rest.slice(0, page.limit);
  const last = items.at(-1);
  return { items, next: rest.length > items.length && last ? { plays: last.plays, id: last.id } : null };
};
// The last row as a data layer hands it back, with more than the key in it.
const lastRow = { createdAt: new Date('2026-01-01T00:00:00Z'), id: 's4', passwordHash: '$argon2id$secret' };
const newest: HandlerFor<typeof newSongs, object> = () => ({ items: SONGS, next: lastRow });
const routes: RouteDefinition[] = [
  { endpoint: topSongs, handler: top },
  { endpoint: newSongs, handler: newest },
];

const app = createApp({
  routes,
  services: {},
  api,
  openapi: { openapi: '3.1.0', info: { title: 'Songs', version: '2' }, paths: {} },
  auth: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE },
  cursorSecret: CURSOR_SECRET,
  log: captureLog().log,
  corsOrigins: [],
});

describe('API options', () => {
  it('serves the operations under the API’s base path, and nothing under the default one', async () => {
    expect(topSongs.fullPath).toBe('/tango/v2/songs/top');
    expect((await request(app).get('/tango/v2/songs/new')).status).toBe(200);
    expectProblem(await request(app).get('/api/v2/songs/new'), 404, 'NOT_FOUND');
  });

  it('refuses a base path with a parameter other than {version}, or a dot segment', () => {
    const base = { info: api.info, servers: [], tags: {}, problemBaseUrl: PROBLEM_BASE, errors: {}, modules: {} };
    for (const basePath of ['/{tenant}/v{version}', '/./v{version}', '/api/..', '/api/', 'api']) {
      expect(() => defineApi({ ...base, basePath }), basePath).toThrow('basePath');
    }
    expect(defineApi({ ...base, basePath: '/v{version}' }).basePath).toBe('/v{version}');
  });

  it('pages by the key the contract declares, handing the handler the parsed key', async () => {
    const first = await request(app).get('/tango/v2/songs/top?limit=2');
    expect(first.body.data.map((s: { id: string }) => s.id)).toEqual(['s1', 's2']);
    expect(first.headers.link).toMatch(/^<\/tango\/v2\/songs\/top\?limit=2&cursor=[^>]+>; rel="next"$/);
    const second = await request(app).get(`/tango/v2/songs/top?limit=2&cursor=${first.body.page.nextCursor}`);
    expect(second.body.data.map((s: { id: string }) => s.id)).toEqual(['s3', 's4']);
    expect(second.body.page).toEqual({ nextCursor: null, hasMore: false });
    expect(seenAfter.at(-1)).toEqual({ plays: 700, id: 's2' });
  });

  it('puts only the key’s fields in a cursor (signed, not encrypted), whatever the handler hands back', async () => {
    const res = await request(app).get('/tango/v2/songs/new');
    const payload = (res.body.page.nextCursor as string).split('.')[0]!;
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).toEqual({ createdAt: '2026-01-01T00:00:00.000Z', id: 's4' });
  });

  it('refuses a cursor this API signed for an operation keyed otherwise', async () => {
    const other = await request(app).get('/tango/v2/songs/new');
    const cursor = other.body.page.nextCursor as string;
    expectProblem(await request(app).get(`/tango/v2/songs/top?cursor=${cursor}`), 400, 'INVALID_CURSOR');
  });
});
