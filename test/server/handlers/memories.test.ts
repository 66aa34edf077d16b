import { randomUUID } from 'node:crypto';
import type request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import { createTestApp } from '../../support/app';
import { type Dancer, dancersOf } from '../../support/dancers';
import { describeOnServerBackend } from '../../support/database';

describeOnServerBackend('memories API', (backend) => {
  let database: Database;
  let test: Awaited<ReturnType<typeof createTestApp>>;

  beforeAll(async () => {
    database = await backend.open();
    test = await createTestApp(database);
  });
  afterAll(async () => {
    await test.close();
    await database.close();
  });

  const { dancers, as } = dancersOf(() => test);
  const befriend = async (a: Dancer, b: Dancer) => {
    await as(a).put(`/friend-requests/${b.id}`);
    await as(b).post(`/friend-requests/${a.id}/accept`);
  };
  async function memory(owner: Dancer, body: object = {}) {
    const res = await as(owner).post('/memories', { title: 'Primera tanda', happenedOn: '2019-03-16', visibility: 'friends', ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.data as { id: string; tagged: { id: string }[]; happenedOn: string };
  }
  const ids = (res: request.Response) => res.body.data.map((m: { id: string }) => m.id);

  describe('tags and visibility', () => {
    it('tags only friends, tells each one, and a tagged friend sees the memory and may untag themself', async () => {
      const [ana, ben, cleo, eve] = await dancers(4);
      await befriend(ana, ben);
      await befriend(ana, cleo);
      const refused = await as(ana).post('/memories', {
        title: 'x',
        happenedOn: '2020-01-01',
        visibility: 'private',
        taggedIds: [ben.id, eve.id],
      });
      expect(refused.status).toBe(400);
      expect(refused.body.errors.map((e: { path: string; code: string }) => `${e.path}:${e.code}`)).toEqual([
        '/body/taggedIds/1:unknown_user',
      ]);

      const kept = await memory(ana, { visibility: 'private', taggedIds: [ben.id], place: 'Salón Canning', city: 'Buenos Aires' });
      expect(kept.tagged.map((u) => u.id)).toEqual([ben.id]);
      const told = (await as(ben).get('/notifications')).body.data as { kind: string; target: { type: string; id: string } }[];
      expect(told).toContainEqual(expect.objectContaining({ kind: 'memory_tag', target: { type: 'memory', id: kept.id } }));

      // Private: the owner and the tagged see it; a friend who is not tagged does not.
      expect((await as(ben).get(`/memories/${kept.id}`)).status).toBe(200);
      expect((await as(cleo).get(`/memories/${kept.id}`)).status).toBe(404);
      expect(ids(await as(ben).get('/users/me/memories', { tagged: 'true' }))).toEqual([kept.id]);

      expect((await as(ben).delete(`/memories/${kept.id}/tags/me`)).status).toBe(204);
      expect((await as(ben).delete(`/memories/${kept.id}/tags/me`)).status).toBe(404);
      expect((await as(ana).get(`/memories/${kept.id}`)).body.data.tagged).toEqual([]);
    });

    it('friends-only memories are for friends; a block hides any memory both ways, like one that does not exist', async () => {
      const [ana, friend, stranger] = await dancers(3);
      await befriend(ana, friend);
      const close = await memory(ana);
      const open = await memory(ana, { visibility: 'public' });
      expect((await as(friend).get(`/memories/${close.id}`)).status).toBe(200);
      expect((await as(stranger).get(`/memories/${close.id}`)).status).toBe(404);
      expect((await as(null).get(`/memories/${open.id}`)).status).toBe(200);
      await as(stranger).put(`/blocks/${ana.id}`);
      const hidden = await as(stranger).get(`/memories/${open.id}`);
      const missing = await as(stranger).get(`/memories/${randomUUID()}`);
      expect([hidden.status, hidden.body.detail]).toEqual([missing.status, missing.body.detail]);
    });

    it('only the owner changes or deletes; newly tagged friends are told', async () => {
      const [ana, ben, cleo] = await dancers(3);
      await befriend(ana, ben);
      await befriend(ana, cleo);
      const kept = await memory(ana, { taggedIds: [ben.id] });
      expect((await as(ben).patch(`/memories/${kept.id}`, { title: 'Mía' })).status).toBe(403);
      const changed = await as(ana).patch(`/memories/${kept.id}`, { title: 'La noche de Di Sarli', taggedIds: [cleo.id], city: null });
      expect(changed.body.data).toMatchObject({
        title: 'La noche de Di Sarli',
        city: null,
        tagged: [expect.objectContaining({ id: cleo.id })],
      });
      expect(changed.body.data.editedAt).toEqual(expect.any(String));
      const cleoTold = (await as(cleo).get('/notifications')).body.data as { kind: string }[];
      expect(cleoTold.map((n) => n.kind)).toContain('memory_tag');
      expect((await as(ben).delete(`/memories/${kept.id}`)).status).toBe(403);
      expect((await as(cleo).delete(`/memories/${kept.id}`)).status).toBe(403);
      expect((await as(ana).delete(`/memories/${kept.id}`)).status).toBe(204);
    });
  });

  describe('lists', () => {
    it('mine, most recent day first, a page at a time', async () => {
      const [ana] = await dancers(1);
      const days = ['2018-05-01', '2021-11-30', '2019-12-24', '2021-11-30', '2024-02-29'];
      const made = [];
      for (const happenedOn of days) made.push(await memory(ana, { happenedOn }));
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await as(ana).get('/users/me/memories', { limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...res.body.data.map((m: { happenedOn: string }) => m.happenedOn));
        cursor = res.body.page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(['2024-02-29', '2021-11-30', '2021-11-30', '2019-12-24', '2018-05-01']);
    });

    it('on this day: this month and day of earlier years, mine and those I am tagged in', async () => {
      const [ana, ben] = await dancers(2);
      await befriend(ana, ben);
      const mine = await memory(ana, { happenedOn: '2015-07-09' });
      const tagged = await memory(ben, { happenedOn: '2020-07-09', taggedIds: [ana.id] });
      await memory(ana, { happenedOn: '2026-07-09' }); // this year: not "earlier"
      await memory(ana, { happenedOn: '2020-07-10' });
      await memory(ben, { happenedOn: '2019-07-09' }); // Ben's, Ana not tagged
      expect(ids(await as(ana).get('/users/me/memories/on-this-day', { date: '2026-07-09' }))).toEqual([tagged.id, mine.id]);
      const bad = await as(ana).get('/users/me/memories/on-this-day', { date: '2026-02-30' });
      expect(bad.status).toBe(400);
    });
  });
});
