import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import { createTestApp } from '../../support/app';
import { describeOnServerBackend } from '../../support/database';

const organizer = randomUUID();
const stranger = randomUUID();

const milonga = {
  title: 'Milonga de los Jueves',
  kind: 'milonga',
  city: 'Buenos Aires',
  venue: 'Salón Canning',
  startsAt: '2030-11-14T22:00:00.000Z',
  endsAt: '2030-11-15T03:00:00.000Z',
};

describeOnServerBackend('events API', (backend) => {
  let database: Database;
  let app: Awaited<ReturnType<typeof createTestApp>>['app'];
  let organizerToken: string;
  let strangerToken: string;
  let tokenFor: (userId: string) => Promise<string>;

  beforeAll(async () => {
    database = await backend.open();
    const test = await createTestApp(database);
    app = test.app;
    organizerToken = await test.token(organizer);
    strangerToken = await test.token(stranger);
    tokenFor = (userId) => test.token(userId);
  });
  afterAll(() => database.close());

  const create = (body: object, token = organizerToken) =>
    request(app).post('/api/v1/events').set('Authorization', `Bearer ${token}`).send(body);

  it('createEvent answers 201 with the event, organized by the caller', async () => {
    const res = await create(milonga);
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.data).toMatchObject({ ...milonga, organizerId: organizer, description: '', country: null });
    expect(res.body.data.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(res.body.data.createdAt)).not.toBeNaN();
  });

  it('getEvent returns a stored event and 404 for an unknown id', async () => {
    const created = (await create(milonga)).body.data;
    const res = await request(app).get(`/api/v1/events/${created.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: created });

    const missing = await request(app).get(`/api/v1/events/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe('application/problem+json');
    expect(missing.body).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('getEvent refuses an id that is not a UUID with a field path', async () => {
    const res = await request(app).get('/api/v1/events/not-a-uuid');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors[0].path).toBe('/params/eventId');
  });

  it('createEvent refuses an end before the start, naming /body/endsAt', async () => {
    const res = await create({ ...milonga, endsAt: '2026-12-03T21:00:00.000Z' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors).toEqual([expect.objectContaining({ path: '/body/endsAt', message: 'endsAt must be after startsAt' })]);
  });

  it('createEvent refuses unknown fields, missing fields and over-long strings', async () => {
    const res = await create({ ...milonga, titel: 'typo', city: 'x'.repeat(101), kind: undefined });
    expect(res.status).toBe(400);
    const paths = res.body.errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(['/body/city', '/body/kind', '/body/titel']);
    expect(res.body.detail).toBe('3 fields are invalid');
  });

  it('createEvent needs a signed-in user', async () => {
    const res = await request(app).post('/api/v1/events').send(milonga);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
  });

  it('updateEvent lets the organizer change fields and clear the venue', async () => {
    const created = (await create(milonga)).body.data;
    const res = await request(app)
      .patch(`/api/v1/events/${created.id}`)
      .set('Authorization', `Bearer ${organizerToken}`)
      .send({ title: 'Milonga del Viernes', venue: null });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: created.id, title: 'Milonga del Viernes', venue: null, city: 'Buenos Aires' });
    expect(Date.parse(res.body.data.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));
    expect((await request(app).get(`/api/v1/events/${created.id}`)).body.data.title).toBe('Milonga del Viernes');
  });

  it('updateEvent checks a new end against the stored start', async () => {
    const created = (await create(milonga)).body.data;
    const res = await request(app)
      .patch(`/api/v1/events/${created.id}`)
      .set('Authorization', `Bearer ${organizerToken}`)
      .send({ endsAt: '2026-12-01T00:00:00.000Z' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe('/body/endsAt');
  });

  it('updateEvent and deleteEvent are refused to anyone but the organizer, and change nothing', async () => {
    const created = (await create(milonga)).body.data;
    const patch = await request(app)
      .patch(`/api/v1/events/${created.id}`)
      .set('Authorization', `Bearer ${strangerToken}`)
      .send({ title: 'Hijacked' });
    expect(patch.status).toBe(403);
    expect(patch.body.code).toBe('FORBIDDEN');
    const del = await request(app).delete(`/api/v1/events/${created.id}`).set('Authorization', `Bearer ${strangerToken}`);
    expect(del.status).toBe(403);
    expect((await request(app).get(`/api/v1/events/${created.id}`)).body.data.title).toBe(milonga.title);
  });

  it('deleteEvent answers 204 with no body, then the event is gone', async () => {
    const created = (await create(milonga)).body.data;
    const res = await request(app).delete(`/api/v1/events/${created.id}`).set('Authorization', `Bearer ${organizerToken}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect((await request(app).get(`/api/v1/events/${created.id}`)).status).toBe(404);
    const again = await request(app).delete(`/api/v1/events/${created.id}`).set('Authorization', `Bearer ${organizerToken}`);
    expect(again.status).toBe(404);
  });

  it('listEvents filters by city (any case), kind and date range', async () => {
    const city = `Rosario-${randomUUID().slice(0, 8)}`;
    await create({ ...milonga, city, kind: 'practica', startsAt: '2027-01-10T20:00:00.000Z', endsAt: '2027-01-10T23:00:00.000Z' });
    await create({ ...milonga, city, kind: 'milonga', startsAt: '2027-02-10T20:00:00.000Z', endsAt: '2027-02-10T23:00:00.000Z' });
    const list = (query: Record<string, string>) =>
      request(app)
        .get('/api/v1/events')
        .query({ city: city.toUpperCase(), ...query });

    expect((await list({})).body.data).toHaveLength(2);
    const practicas = await list({ kind: 'practica' });
    expect(practicas.body.data.map((e: { kind: string }) => e.kind)).toEqual(['practica']);
    const february = await list({ from: '2027-02-01T00:00:00.000Z' });
    expect(february.body.data.map((e: { startsAt: string }) => e.startsAt)).toEqual(['2027-02-10T20:00:00.000Z']);
    const january = await list({ to: '2027-01-31T00:00:00.000Z' });
    expect(january.body.data.map((e: { startsAt: string }) => e.startsAt)).toEqual(['2027-01-10T20:00:00.000Z']);
    const wrongKind = await list({ kind: 'tango-show' });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.errors[0].path).toBe('/query/kind');
  });

  /** Walks every page of a city's events, checking each page's envelope and Link header. */
  async function pageAll(city: string, betweenPages?: () => Promise<void>) {
    const seen: string[] = [];
    const sizes: number[] = [];
    let next: string | null = null;
    do {
      const res = await request(app)
        .get('/api/v1/events')
        .query({ city, limit: 20, ...(next ? { cursor: next } : {}) });
      expect(res.status).toBe(200);
      sizes.push(res.body.data.length);
      seen.push(...res.body.data.map((e: { id: string }) => e.id));
      next = res.body.page.nextCursor;
      expect(res.body.page.hasMore).toBe(next !== null);
      if (next) expect(res.headers.link).toContain('rel="next"');
      else expect(res.headers.link).toBeUndefined();
      await betweenPages?.();
    } while (next);
    return { seen, sizes };
  }

  // A fresh organizer per batch: createEvent is rate-limited per user (60 an hour).
  async function createMany(city: string, count: number) {
    const token = await tokenFor(randomUUID());
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await create({ ...milonga, city, title: `Event ${i}` }, token)).body.data.id);
    return ids;
  }

  it('pages 45 events at limit=20 as 20, 20, 5 with none repeated or missing', async () => {
    const city = `Paging-${randomUUID().slice(0, 8)}`;
    const ids = await createMany(city, 45);
    const { seen, sizes } = await pageAll(city);
    expect(sizes).toEqual([20, 20, 5]);
    expect(seen).toEqual(ids);
  });

  it('pages without repeats or gaps when an event is inserted between page requests', async () => {
    const city = `Insert-${randomUUID().slice(0, 8)}`;
    const ids = await createMany(city, 45);
    let inserted = false;
    const { seen, sizes } = await pageAll(city, async () => {
      if (inserted) return;
      inserted = true;
      // Another organizer adds an event while this client is paging.
      ids.push((await create({ ...milonga, city, title: 'Late arrival' }, strangerToken)).body.data.id);
    });
    expect(sizes).toEqual([20, 20, 6]);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(ids);
  });

  it('follows the Link header to the next page', async () => {
    const city = `Link-${randomUUID().slice(0, 8)}`;
    await createMany(city, 3);
    const first = await request(app).get('/api/v1/events').query({ city, limit: 2 });
    const link = /^<([^>]+)>; rel="next"$/.exec(first.headers.link ?? '')![1]!;
    const second = await request(app).get(link);
    expect(second.status).toBe(200);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.page).toEqual({ nextCursor: null, hasMore: false });
  });

  it('refuses a tampered cursor with 400 INVALID_CURSOR', async () => {
    const city = `Cursor-${randomUUID().slice(0, 8)}`;
    await createMany(city, 2);
    const cursor: string = (await request(app).get('/api/v1/events').query({ city, limit: 1 })).body.page.nextCursor;
    const [payload, signature] = cursor.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify(['1970-01-01T00:00:00.000Z', randomUUID()])).toString('base64url');
    for (const bad of [`${forged}.${signature}`, `${payload}.${signature.slice(0, -2)}xx`, 'garbage']) {
      const res = await request(app).get('/api/v1/events').query({ city, cursor: bad });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('INVALID_CURSOR');
    }
  });

  it('refuses limit outside 1..100', async () => {
    for (const limit of ['0', '101', 'ten']) {
      const res = await request(app).get('/api/v1/events').query({ limit });
      expect(res.status).toBe(400);
      expect(res.body.errors[0].path).toBe('/query/limit');
    }
  });

  it('health reports the database as reachable', async () => {
    const res = await request(app).get('/api/v1/health');
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ status: 'ok', database: 'reachable' });
  });
});
