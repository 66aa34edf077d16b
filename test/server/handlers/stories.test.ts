import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Database } from '../../../server/db/database';
import { stories } from '../../../server/db/schema';
import { createTestApp } from '../../support/app';
import { type Dancer, dancersOf } from '../../support/dancers';
import { describeOnServerBackend } from '../../support/database';

describeOnServerBackend('stories API', (backend) => {
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
  afterEach(() => {
    vi.useRealTimers();
  });

  const { dancers, as } = dancersOf(() => test);
  const story = async (author: Dancer, caption = 'Esta noche, milonga') => {
    const res = await as(author).post('/stories', { caption });
    expect(res.status).toBe(201);
    return res.body.data as { id: string; createdAt: string; expiresAt: string };
  };
  /** Moves a story's clock: as if it had been posted `hours` ago. */
  const age = (id: string, hours: number) =>
    database.db
      .update(stories)
      .set({
        createdAt: sql`now() - ${hours} * interval '1 hour'`,
        expiresAt: sql`now() - ${hours} * interval '1 hour' + interval '24 hours'`,
      })
      .where(eq(stories.id, id));
  const reelOf = async (who: Dancer) =>
    (
      (await as(who).get('/stories')).body.data as { author: { id: string }; stories: { id: string; seen: boolean }[]; allSeen: boolean }[]
    ).map((reel) => ({ author: reel.author.id, stories: reel.stories.map((s) => `${s.id}:${s.seen}`), allSeen: reel.allSeen }));

  describe('who sees them', () => {
    it('followers and friends, in one reel per author, latest poster first; nobody else, nobody across a block', async () => {
      const [me, followed, friend, stranger] = await dancers(4);
      await as(me).put(`/users/${followed.id}/follow`);
      await as(me).put(`/friend-requests/${friend.id}`);
      await as(friend).post(`/friend-requests/${me.id}/accept`);
      const first = await story(followed, 'Primera');
      const second = await story(followed, 'Segunda');
      const fromFriend = await story(friend);
      const hidden = await story(stranger);
      expect(Date.parse(first.expiresAt) - Date.parse(first.createdAt)).toBe(24 * 3_600_000);

      expect(await reelOf(me)).toEqual([
        { author: friend.id, stories: [`${fromFriend.id}:false`], allSeen: false },
        { author: followed.id, stories: [`${first.id}:false`, `${second.id}:false`], allSeen: false },
      ]);
      expect((await as(me).get(`/stories/${hidden.id}`)).status).toBe(404);
      await as(friend).put(`/blocks/${me.id}`);
      const blocked = await as(me).get(`/stories/${fromFriend.id}`);
      const missing = await as(me).get(`/stories/${randomUUID()}`);
      expect([blocked.status, blocked.body.detail]).toEqual([missing.status, missing.body.detail]);
      expect((await reelOf(me)).map((reel) => reel.author)).toEqual([followed.id]);
    });

    it('seen once per viewer; the author sees how many and who, nobody else does', async () => {
      const [author, ana, ben] = await dancers(3);
      for (const who of [ana, ben]) await as(who).put(`/users/${author.id}/follow`);
      const { id } = await story(author);
      expect((await as(ana).put(`/stories/${id}/seen`)).status).toBe(204);
      expect((await as(ana).put(`/stories/${id}/seen`)).status).toBe(204);
      await as(ben).put(`/stories/${id}/seen`);
      await as(author).put(`/stories/${id}/seen`);
      expect((await as(author).get(`/stories/${id}`)).body.data).toMatchObject({ viewCount: 2 });
      expect((await as(ana).get(`/stories/${id}`)).body.data).toMatchObject({ viewCount: 0, seen: true });
      expect(await reelOf(ana)).toEqual([{ author: author.id, stories: [`${id}:true`], allSeen: true }]);
      const viewers = (await as(author).get(`/stories/${id}/viewers`)).body.data as { user: { id: string } }[];
      expect(viewers.map((v) => v.user.id)).toEqual([ben.id, ana.id]);
      expect((await as(ana).get(`/stories/${id}/viewers`)).status).toBe(403);
      expect((await as(ana).delete(`/stories/${id}`)).status).toBe(403);
      expect((await as(author).delete(`/stories/${id}`)).status).toBe(204);
      expect((await as(ana).get(`/stories/${id}`)).status).toBe(404);
    });
  });

  describe('expiry', () => {
    it('is never served 24 hours after posting, whatever this process’s clock says', async () => {
      const [author, fan] = await dancers(2);
      await as(fan).put(`/users/${author.id}/follow`);
      const young = await story(author, 'Joven');
      const old = await story(author, 'Vieja');
      await age(young.id, 23.9);
      await age(old.id, 24.01);
      // An instance whose clock runs 10 minutes fast (by its clock the young one expired 4 minutes ago)
      // still serves the young one and refuses the old one: the database's clock decides. (A clock
      // running slow cannot be tried here: it would refuse this test's own access tokens. PGlite runs
      // in this process on its clock: one instance, nothing to drift from.)
      if (backend.name === 'postgres') vi.useFakeTimers({ now: Date.now() + 10 * 60_000, toFake: ['Date'] });
      expect((await as(fan).get(`/stories/${young.id}`)).status).toBe(200);
      for (const path of [`/stories/${old.id}`]) expect((await as(fan).get(path)).status).toBe(404);
      expect((await as(fan).put(`/stories/${old.id}/seen`)).status).toBe(404);
      expect((await as(author).get(`/stories/${old.id}/viewers`)).status).toBe(404);
      expect((await reelOf(fan))[0]!.stories).toEqual([`${young.id}:false`]);
      vi.useRealTimers();
    });

    it('expired rows are deleted in batches, each once, by any number of instances at once', async () => {
      const [author] = await dancers(1);
      await test.services.stories.deleteExpired(1000); // what earlier tests left
      const made = [];
      for (let i = 0; i < 7; i++) made.push(await story(author, `Historia ${i}`));
      for (const { id } of made.slice(0, 5)) await age(id, 30);
      const deleted = await Promise.all([1, 2, 3].map(() => test.services.stories.deleteExpired(2)));
      const more = await test.services.stories.deleteExpired(10);
      // Three at once take batches of at most two, skipping the rows another holds: five in all, none twice.
      expect(deleted.every((n) => n <= 2)).toBe(true);
      expect(deleted.reduce((a, b) => a + b, 0) + more).toBe(5);
      const left = await database.db.select({ id: stories.id }).from(stories).where(eq(stories.authorId, author.id));
      expect(left.map((row) => row.id).sort()).toEqual(
        made
          .slice(5)
          .map((s) => s.id)
          .sort(),
      );
    });
  });
});
