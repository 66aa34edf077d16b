import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { expect, it } from 'vitest';
import { appOnOwnDatabase } from '../../support/app';
import { describeOnServerBackend } from '../../support/database';

const milonga = {
  title: 'Milonga del Centro',
  kind: 'milonga',
  city: 'Rosario',
  startsAt: '2030-03-01T22:00:00.000Z',
  endsAt: '2030-03-02T03:00:00.000Z',
};

/** HTTP caching as getEvent and listEvents declare it: strong ETag, 304, Cache-Control, Vary. */
describeOnServerBackend('HTTP caching of events', () => {
  const { app } = appOnOwnDatabase();
  const organizer = randomUUID();

  async function created() {
    const token = await app().token(organizer);
    const res = await request(app().app).post('/api/v1/events').set('Authorization', `Bearer ${token}`).send(milonga);
    expect(res.status).toBe(201);
    return { id: res.body.data.id as string, token };
  }

  it('getEvent: 200 with a strong ETag and the contract cache policy; 304 without a body while it holds', async () => {
    const { id, token } = await created();
    const first = await request(app().app).get(`/api/v1/events/${id}`).set('Authorization', `Bearer ${token}`);
    expect(first.status).toBe(200);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(first.headers['cache-control']).toBe('private, no-cache');
    expect(first.headers.vary).toMatch(/\bAuthorization\b/);

    const again = await request(app().app).get(`/api/v1/events/${id}`).set('Authorization', `Bearer ${token}`).set('If-None-Match', etag);
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    expect(again.headers.etag).toBe(etag);
    expect(again.headers['cache-control']).toBe('private, no-cache');
    // Weak comparison for If-None-Match, a list of tags, and `*`.
    for (const header of [`W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await request(app().app).get(`/api/v1/events/${id}`).set('Authorization', `Bearer ${token}`).set('If-None-Match', header);
      expect(res.status, header).toBe(304);
    }
    const other = await request(app().app)
      .get(`/api/v1/events/${id}`)
      .set('Authorization', `Bearer ${token}`)
      .set('If-None-Match', '"stale"');
    expect(other.status).toBe(200);
    expect(other.body.data.id).toBe(id);
  });

  it('a change makes a new ETag: the old one gets the new representation', async () => {
    const { id, token } = await created();
    const before = await request(app().app).get(`/api/v1/events/${id}`).set('Authorization', `Bearer ${token}`);
    const patched = await request(app().app)
      .patch(`/api/v1/events/${id}`)
      .set('Authorization', `Bearer ${token}`)
      .send({ title: 'Milonga del Centro (renamed)' });
    expect(patched.status).toBe(200);
    const after = await request(app().app)
      .get(`/api/v1/events/${id}`)
      .set('Authorization', `Bearer ${token}`)
      .set('If-None-Match', before.headers.etag as string);
    expect(after.status).toBe(200);
    expect(after.body.data.title).toBe('Milonga del Centro (renamed)');
    expect(after.headers.etag).not.toBe(before.headers.etag);
  });

  it('listEvents: a page is revalidated the same way, and a miss is not cached', async () => {
    await created();
    const page = await request(app().app).get('/api/v1/events?city=Rosario&limit=1');
    expect(page.status).toBe(200);
    const etag = page.headers.etag as string;
    expect(etag).toBeDefined();
    const again = await request(app().app).get('/api/v1/events?city=Rosario&limit=1').set('If-None-Match', etag);
    expect(again.status).toBe(304);
    // An answer that is not a 200 carries no validator.
    const missing = await request(app().app).get(`/api/v1/events/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.etag).toBeUndefined();
  });

  it('updateEvent with If-Match: the ETag read changes it; a stale one gets 412 and changes nothing', async () => {
    const { id, token } = await created();
    const read = await request(app().app).get(`/api/v1/events/${id}`).set('Authorization', `Bearer ${token}`);
    const etag = read.headers.etag as string;
    const patch = (title: string, ifMatch?: string) => {
      const req = request(app().app).patch(`/api/v1/events/${id}`).set('Authorization', `Bearer ${token}`);
      return (ifMatch === undefined ? req : req.set('If-Match', ifMatch)).send({ title });
    };

    // A weak tag never matches If-Match (strong comparison).
    expect((await patch('Weak', `W/${etag}`)).status).toBe(412);
    const first = await patch('First', etag);
    expect(first.status).toBe(200);
    const stale = await patch('Second', etag);
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ code: 'PRECONDITION_FAILED', status: 412 });
    const now = await request(app().app).get(`/api/v1/events/${id}`).set('Authorization', `Bearer ${token}`);
    expect(now.body.data.title).toBe('First');
    // The ETag the change's own answer would have as a GET: the next change goes through with it.
    expect((await patch('Third', now.headers.etag as string)).status).toBe(200);
    expect((await patch('Fourth', '*')).status).toBe(200);
    expect((await patch('Fifth')).status).toBe(200);
  });

  it('two changes sent at once with the same ETag: one is made, the other gets 412', async () => {
    const { id, token } = await created();
    const etag = (await request(app().app).get(`/api/v1/events/${id}`).set('Authorization', `Bearer ${token}`)).headers.etag as string;
    const send = (title: string) =>
      request(app().app).patch(`/api/v1/events/${id}`).set('Authorization', `Bearer ${token}`).set('If-Match', etag).send({ title });
    const statuses = (await Promise.all([send('A'), send('B')])).map((res) => res.status).sort();
    expect(statuses).toEqual([200, 412]);
  });
});
