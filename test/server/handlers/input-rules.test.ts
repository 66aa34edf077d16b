import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import { createTestApp } from '../../support/app';
import { describeOnServerBackend } from '../../support/database';

// The API-wide input rules, seen through Mundo Tango's own operations on both storage backends:
// what used to reach the database as a 500 (NUL, year 0000) or be stored changed (IRIs) is now
// a 400 naming the field, or stored in the form the spec promises.
const milonga = {
  title: 'Milonga del Centenario',
  kind: 'milonga',
  city: 'Buenos Aires',
  startsAt: '2030-11-14T22:00:00.000Z',
  endsAt: '2030-11-15T03:00:00.000Z',
};

function fieldPaths(body: { errors?: { path: string }[] }): string[] {
  return (body.errors ?? []).map((e) => e.path);
}

describeOnServerBackend('input rules', (backend) => {
  let database: Database;
  let test: Awaited<ReturnType<typeof createTestApp>>;
  let token: string;

  beforeAll(async () => {
    database = await backend.open();
    test = await createTestApp(database);
    token = await test.token(randomUUID());
  });
  afterAll(() => database.close());

  it('refuses NUL in a register field, and nothing is left behind', async () => {
    const username = `nul${randomUUID().slice(0, 8)}`;
    const body = { username, password: 'a tango at dawn in Boedo', displayName: 'Ana\u0000' };
    const refused = await request(test.app).post('/api/v1/auth/register').send(body);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(fieldPaths(refused.body)).toEqual(['/body/displayName']);
    const accepted = await request(test.app)
      .post('/api/v1/auth/register')
      .send({ ...body, displayName: 'Ana' });
    expect(accepted.status).toBe(201);
  });

  it('refuses NUL in a path parameter and in a query parameter', async () => {
    const path = await request(test.app).get('/api/v1/users/%00').set('Authorization', `Bearer ${token}`);
    expect(path.status).toBe(400);
    expect(fieldPaths(path.body)).toEqual(['/params/user']);
    const query = await request(test.app).get('/api/v1/events?city=a%00');
    expect(query.status).toBe(400);
    expect(fieldPaths(query.body)).toEqual(['/query/city']);
    const search = await request(test.app).get('/api/v1/users?q=a%00').set('Authorization', `Bearer ${token}`);
    expect(search.status).toBe(400);
    expect(fieldPaths(search.body)).toEqual(['/query/q']);
  });

  it('refuses a lone surrogate in an event title instead of storing U+FFFD', async () => {
    const res = await request(test.app)
      .post('/api/v1/events')
      .set('Authorization', `Bearer ${token}`)
      .set('content-type', 'application/json')
      .send(JSON.stringify({ ...milonga, title: 'x' }).replace('"x"', '"x\\ud800y"'));
    expect(res.status).toBe(400);
    expect(fieldPaths(res.body)).toEqual(['/body/title']);
  });

  it('accepts only instants of the years 0001–9999', async () => {
    const from = await request(test.app).get('/api/v1/events?from=0000-01-01T00:00:00Z');
    expect(from.status).toBe(400);
    expect(fieldPaths(from.body)).toEqual(['/query/from']);
    const late = await request(test.app)
      .post('/api/v1/events')
      .set('Authorization', `Bearer ${token}`)
      .send({ ...milonga, startsAt: '9999-12-31T22:00:00-05:00', endsAt: '9999-12-31T23:00:00-05:00' });
    expect(late.status).toBe(400);
    expect(fieldPaths(late.body)).toEqual(['/body/startsAt', '/body/endsAt']);
    const edge = await request(test.app).get('/api/v1/events?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z');
    expect(edge.status).toBe(200);
  });

  it('stores and returns a URL in its normalized ASCII form', async () => {
    const session = await request(test.app)
      .post('/api/v1/auth/register')
      .send({ username: `iri${randomUUID().slice(0, 8)}`, password: 'a tango at dawn in Boedo', displayName: 'Iri' });
    const auth = `Bearer ${session.body.data.accessToken}`;
    const patched = await request(test.app)
      .patch('/api/v1/users/me')
      .set('Authorization', auth)
      .send({ avatarUrl: 'https://exämple.com/fotos/a😀.png' });
    expect(patched.status).toBe(200);
    expect(patched.body.data.avatarUrl).toBe('https://xn--exmple-cua.com/fotos/a%F0%9F%98%80.png');
    const me = await request(test.app).get('/api/v1/users/me').set('Authorization', auth);
    expect(me.body.data.avatarUrl).toBe('https://xn--exmple-cua.com/fotos/a%F0%9F%98%80.png');
    for (const avatarUrl of ['javascript:alert(1)', 'not a uri', '/tango/milonga']) {
      const refused = await request(test.app).patch('/api/v1/users/me').set('Authorization', auth).send({ avatarUrl });
      expect(refused.status).toBe(400);
      expect(fieldPaths(refused.body)).toEqual(['/body/avatarUrl']);
    }
  });

  it('checks a length before trimming, and reads page limits as decimal digits only', async () => {
    const padded = await request(test.app)
      .post('/api/v1/events')
      .set('Authorization', `Bearer ${token}`)
      .send({ ...milonga, title: ` ${'x'.repeat(199)} ` });
    expect(padded.status).toBe(400);
    expect(fieldPaths(padded.body)).toEqual(['/body/title']);
    for (const limit of ['0x10', '1e1', ' 16']) {
      const res = await request(test.app).get(`/api/v1/events?limit=${encodeURIComponent(limit)}`);
      expect(res.status).toBe(400);
      expect(fieldPaths(res.body)).toEqual(['/query/limit']);
    }
    expect((await request(test.app).get('/api/v1/events?limit=16')).status).toBe(200);
  });

  it('operations that issue credentials refuse an Idempotency-Key, so no token is kept for replay', async () => {
    const username = `idem${randomUUID().slice(0, 8)}`;
    const body = { username, password: 'a tango at dawn in Boedo', displayName: 'Idem' };
    const refused = await request(test.app).post('/api/v1/auth/register').set('Idempotency-Key', 'k-1').send(body);
    expect(refused.status).toBe(400);
    expect(fieldPaths(refused.body)).toEqual(['/headers/idempotency-key']);
    const session = (await request(test.app).post('/api/v1/auth/register').send(body)).body.data;
    const refresh = () =>
      request(test.app).post('/api/v1/auth/refresh').set('Idempotency-Key', 'k-2').send({ refreshToken: session.refreshToken });
    expect((await refresh()).status).toBe(400);
    const login = await request(test.app)
      .post('/api/v1/auth/login')
      .set('Idempotency-Key', 'k-3')
      .send({ username, password: body.password });
    expect(login.status).toBe(400);
  });
});
