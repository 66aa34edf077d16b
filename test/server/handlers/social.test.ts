import { randomUUID } from 'node:crypto';
import { and, count, eq, or } from 'drizzle-orm';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import { follows, friendRequests, friendships } from '../../../server/db/schema';
import { createTestApp } from '../../support/app';
import { describeOnServerBackend } from '../../support/database';

interface Dancer {
  id: string;
  username: string;
  token: string;
}

describeOnServerBackend('social graph API', (backend) => {
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

  async function dancer(): Promise<Dancer> {
    const username = `dancer-${randomUUID().slice(0, 8)}`;
    const user = await test.services.userStore.create({ username, displayName: `Dancer ${username}`, passwordHash: 'not-a-real-hash' });
    if (user === 'taken') throw new Error('username collision');
    return { id: user.id, username, token: await test.token(user.id) };
  }

  const as = (who: Dancer) => {
    const auth = (r: request.Test) => r.set('Authorization', `Bearer ${who.token}`);
    return {
      get: (path: string, query: Record<string, string | number> = {}) => auth(request(test.app).get(`/api/v1${path}`).query(query)),
      put: (path: string) => auth(request(test.app).put(`/api/v1${path}`)),
      post: (path: string) => auth(request(test.app).post(`/api/v1${path}`)),
      delete: (path: string) => auth(request(test.app).delete(`/api/v1${path}`)),
    };
  };

  /** Every item of a list, page after page. */
  async function all(who: Dancer, path: string, query: Record<string, string | number> = {}) {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await as(who).get(path, { ...query, limit: 100, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      ids.push(...res.body.data.map((c: { user: { id: string } }) => c.user.id));
      cursor = res.body.page.nextCursor;
    } while (cursor);
    return ids;
  }

  const friendshipRows = async (a: Dancer, b: Dancer) =>
    (
      await database.db
        .select({ n: count() })
        .from(friendships)
        .where(
          or(
            and(eq(friendships.userId, a.id), eq(friendships.friendId, b.id)),
            and(eq(friendships.userId, b.id), eq(friendships.friendId, a.id)),
          ),
        )
    )[0]!.n;

  /** What a caller can compare between two 404s: everything but the request's own id and path. */
  const problem = (res: request.Response) => {
    const { requestId: _id, instance: _instance, ...rest } = res.body;
    return { status: res.status, contentType: res.headers['content-type'], ...rest };
  };

  describe('follows', () => {
    it('follow and unfollow are idempotent, and the profile counts follow them', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      for (let i = 0; i < 2; i++) expect((await as(ana).put(`/users/${ben.id}/follow`)).status).toBe(204);
      expect(await all(ana, `/users/${ben.id}/followers`)).toEqual([ana.id]);
      expect(await all(ben, `/users/${ana.id}/following`)).toEqual([ben.id]);
      const profile = await as(ana).get(`/users/${ben.username}`);
      expect(profile.status).toBe(200);
      expect(profile.body.data).toMatchObject({ id: ben.id, followerCount: 1, followingCount: 0 });
      expect((await as(ben).get(`/users/${ana.id}`)).body.data).toMatchObject({ followerCount: 0, followingCount: 1 });

      for (let i = 0; i < 2; i++) expect((await as(ana).delete(`/users/${ben.id}/follow`)).status).toBe(204);
      expect(await all(ana, `/users/${ben.id}/followers`)).toEqual([]);
      expect((await as(ana).get(`/users/${ben.id}`)).body.data).toMatchObject({ followerCount: 0, followingCount: 0 });
    });

    it('five follows of one pair at once store one follow', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const results = await Promise.all(Array.from({ length: 5 }, () => as(ana).put(`/users/${ben.id}/follow`)));
      expect(results.map((r) => r.status)).toEqual([204, 204, 204, 204, 204]);
      const stored = await database.db
        .select({ n: count() })
        .from(follows)
        .where(and(eq(follows.followerId, ana.id), eq(follows.followeeId, ben.id)));
      expect(stored[0]!.n).toBe(1);
    });

    it('following an unknown id is 404 NOT_FOUND; following oneself is 400 CANNOT_TARGET_SELF', async () => {
      const ana = await dancer();
      const unknown = await as(ana).put(`/users/${randomUUID()}/follow`);
      expect([unknown.status, unknown.body.code]).toEqual([404, 'NOT_FOUND']);
      for (const res of [
        await as(ana).put(`/users/${ana.id}/follow`),
        await as(ana).delete(`/users/${ana.id}/follow`),
        await as(ana).put(`/friend-requests/${ana.id}`),
        await as(ana).put(`/blocks/${ana.id}`),
      ]) {
        expect([res.status, res.body.code]).toEqual([400, 'CANNOT_TARGET_SELF']);
      }
    });

    it('followers page newest first, with no repeats or gaps while new followers arrive', async () => {
      const star = await dancer();
      const fans: Dancer[] = [];
      for (let i = 0; i < 5; i++) {
        const fan = await dancer();
        expect((await as(fan).put(`/users/${star.id}/follow`)).status).toBe(204);
        fans.push(fan);
      }
      const first = await as(star).get(`/users/${star.id}/followers`, { limit: 2 });
      expect(first.status).toBe(200);
      expect(first.body.data.map((c: { user: { id: string } }) => c.user.id)).toEqual([fans[4]!.id, fans[3]!.id]);
      expect(first.body.page.hasMore).toBe(true);
      expect(first.headers.link).toMatch(/rel="next"/);
      const since = first.body.data.map((c: { since: string }) => Date.parse(c.since));
      expect(since[0]).toBeGreaterThanOrEqual(since[1]);

      // A follower arriving mid-listing is newer than the cursor: it does not shift later pages.
      await as(await dancer()).put(`/users/${star.id}/follow`);
      const seen = first.body.data.map((c: { user: { id: string } }) => c.user.id);
      let cursor: string | null = first.body.page.nextCursor;
      while (cursor) {
        const res = await as(star).get(`/users/${star.id}/followers`, { limit: 2, cursor });
        seen.push(...res.body.data.map((c: { user: { id: string } }) => c.user.id));
        cursor = res.body.page.nextCursor;
      }
      expect(seen).toEqual(fans.map((f) => f.id).reverse());
    });

    it('a tampered cursor is 400 INVALID_CURSOR', async () => {
      const ana = await dancer();
      const res = await as(ana).get(`/users/${ana.id}/followers`, { cursor: 'not-a-cursor' });
      expect([res.status, res.body.code]).toEqual([400, 'INVALID_CURSOR']);
    });
  });

  describe('friends', () => {
    it('a request waits in both lists until accepted, then both are friends', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const sent = await as(ana).put(`/friend-requests/${ben.id}`);
      expect(sent.status).toBe(200);
      expect(sent.body.data).toEqual({ status: 'pending', since: expect.any(String) });
      expect((await as(ana).put(`/friend-requests/${ben.id}`)).body.data).toEqual(sent.body.data);
      expect(await all(ben, '/friend-requests', { direction: 'incoming' })).toEqual([ana.id]);
      expect(await all(ana, '/friend-requests', { direction: 'outgoing' })).toEqual([ben.id]);
      expect(await all(ana, '/friend-requests', { direction: 'incoming' })).toEqual([]);

      const accepted = await as(ben).post(`/friend-requests/${ana.id}/accept`);
      expect(accepted.status).toBe(200);
      expect(accepted.body.data).toMatchObject({ user: { id: ana.id, username: ana.username } });
      expect(await all(ana, `/users/${ben.id}/friends`)).toEqual([ana.id]);
      expect(await all(ben, `/users/${ana.id}/friends`)).toEqual([ben.id]);
      expect(await all(ben, '/friend-requests', { direction: 'incoming' })).toEqual([]);
      expect(await all(ana, '/friend-requests', { direction: 'outgoing' })).toEqual([]);

      const again = await as(ben).post(`/friend-requests/${ana.id}/accept`);
      expect(again.status).toBe(200);
      expect(again.body.data.since).toBe(accepted.body.data.since);
      expect((await as(ana).put(`/friend-requests/${ben.id}`)).body.data).toEqual({ status: 'friends', since: accepted.body.data.since });

      for (let i = 0; i < 2; i++) expect((await as(ana).delete(`/friends/${ben.id}`)).status).toBe(204);
      expect(await all(ana, `/users/${ana.id}/friends`)).toEqual([]);
      expect(await all(ben, `/users/${ben.id}/friends`)).toEqual([]);
      const gone = await as(ben).post(`/friend-requests/${ana.id}/accept`);
      expect([gone.status, gone.body.code]).toEqual([404, 'NOT_FOUND']);
    });

    it('a profile tells the caller how they are connected to its owner', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const seen = async (who: Dancer, other: Dancer) => (await as(who).get(`/users/${other.id}`)).body.data.relationship;
      expect(await seen(ana, ben)).toEqual({ following: false, followsYou: false, friendship: 'none' });
      await as(ana).put(`/users/${ben.id}/follow`);
      await as(ana).put(`/friend-requests/${ben.id}`);
      expect(await seen(ana, ben)).toEqual({ following: true, followsYou: false, friendship: 'requested' });
      expect(await seen(ben, ana)).toEqual({ following: false, followsYou: true, friendship: 'requestedYou' });
      await as(ben).post(`/friend-requests/${ana.id}/accept`);
      expect(await seen(ben, ana)).toEqual({ following: false, followsYou: true, friendship: 'friends' });
      expect(await seen(ana, ana)).toEqual({ following: false, followsYou: false, friendship: 'none' });
    });

    it('a cancelled or declined request is gone for both, and can be made again', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      await as(ana).put(`/friend-requests/${ben.id}`);
      expect((await as(ana).delete(`/friend-requests/${ben.id}`)).status).toBe(204);
      expect(await all(ben, '/friend-requests', { direction: 'incoming' })).toEqual([]);
      expect((await as(ben).post(`/friend-requests/${ana.id}/accept`)).status).toBe(404);

      await as(ana).put(`/friend-requests/${ben.id}`);
      expect((await as(ben).post(`/friend-requests/${ana.id}/decline`)).status).toBe(204);
      expect(await all(ana, '/friend-requests', { direction: 'outgoing' })).toEqual([]);
      expect((await as(ana).put(`/friend-requests/${ben.id}`)).body.data.status).toBe('pending');
    });

    it('asking someone who already asked you makes you friends at once', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      await as(ana).put(`/friend-requests/${ben.id}`);
      const crossed = await as(ben).put(`/friend-requests/${ana.id}`);
      expect(crossed.status).toBe(200);
      expect(crossed.body.data.status).toBe('friends');
      expect(await all(ana, `/users/${ana.id}/friends`)).toEqual([ben.id]);
      expect(await all(ana, '/friend-requests', { direction: 'outgoing' })).toEqual([]);
    });

    it('two crossing requests at once make one friendship and leave no request', async () => {
      for (let round = 0; round < 3; round++) {
        const [ana, ben] = [await dancer(), await dancer()];
        const results = await Promise.all([as(ana).put(`/friend-requests/${ben.id}`), as(ben).put(`/friend-requests/${ana.id}`)]);
        expect(results.map((r) => r.status)).toEqual([200, 200]);
        expect(results.map((r) => r.body.data.status).sort()).toEqual(['friends', 'pending']);
        expect(await friendshipRows(ana, ben)).toBe(2);
        const pending = await database.db
          .select({ n: count() })
          .from(friendRequests)
          .where(or(eq(friendRequests.requesterId, ana.id), eq(friendRequests.requesterId, ben.id)));
        expect(pending[0]!.n).toBe(0);
      }
    });

    it('two accepts at once answer the same friendship, stored once', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      await as(ana).put(`/friend-requests/${ben.id}`);
      const results = await Promise.all([
        as(ben).post(`/friend-requests/${ana.id}/accept`),
        as(ben).post(`/friend-requests/${ana.id}/accept`),
      ]);
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      expect(results[0]!.body.data).toEqual(results[1]!.body.data);
      expect(await friendshipRows(ana, ben)).toBe(2);
    });

    it('friend requests to unknown ids are 404 NOT_FOUND; removals are 204 for any id', async () => {
      const ana = await dancer();
      const unknown = randomUUID();
      expect((await as(ana).put(`/friend-requests/${unknown}`)).status).toBe(404);
      expect((await as(ana).post(`/friend-requests/${unknown}/accept`)).status).toBe(404);
      expect((await as(ana).post(`/friend-requests/${unknown}/decline`)).status).toBe(204);
      expect((await as(ana).delete(`/friend-requests/${unknown}`)).status).toBe(204);
      expect((await as(ana).delete(`/friends/${unknown}`)).status).toBe(204);
      expect((await as(ana).get(`/users/${unknown}/friends`)).status).toBe(404);
    });
  });

  describe('notifications', () => {
    const notificationsOf = async (who: Dancer) =>
      (await as(who).get('/notifications')).body.data as {
        kind: string;
        actorCount: number;
        actors: { id: string }[];
      }[];

    it('new followers notify the followed, collapsed into one item; following again tells nothing new', async () => {
      const [star, ana, ben] = await Promise.all([dancer(), dancer(), dancer()]);
      expect((await as(ana).put(`/users/${star.id}/follow`)).status).toBe(204);
      expect((await as(ben).put(`/users/${star.id}/follow`)).status).toBe(204);
      expect((await as(ana).put(`/users/${star.id}/follow`)).status).toBe(204);
      const items = await notificationsOf(star);
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ kind: 'new_follower', actorCount: 2 });
      expect(items[0]!.actors.map((a) => a.id)).toEqual([ben.id, ana.id]);
      expect(await notificationsOf(ana)).toEqual([]);
    });

    it('a friend request tells the addressee, its acceptance the requester', async () => {
      const [ana, ben] = await Promise.all([dancer(), dancer()]);
      expect((await as(ana).put(`/friend-requests/${ben.id}`)).status).toBe(200);
      expect((await notificationsOf(ben)).map((n) => n.kind)).toEqual(['friend_request']);
      expect((await as(ben).post(`/friend-requests/${ana.id}/accept`)).status).toBe(200);
      expect(await notificationsOf(ana)).toMatchObject([{ kind: 'friend_accepted', actors: [{ id: ben.id }] }]);
    });
  });

  describe('blocks', () => {
    /** Ana and Ben are friends and follow each other; then Ana blocks Ben. */
    async function blockedPair() {
      const [ana, ben] = [await dancer(), await dancer()];
      await as(ana).put(`/friend-requests/${ben.id}`);
      await as(ben).post(`/friend-requests/${ana.id}/accept`);
      await as(ana).put(`/users/${ben.id}/follow`);
      await as(ben).put(`/users/${ana.id}/follow`);
      expect((await as(ana).put(`/blocks/${ben.id}`)).status).toBe(204);
      return { ana, ben };
    }

    it('a block ends the friendship, requests and follows both ways, and stays after an unblock', async () => {
      const { ana, ben } = await blockedPair();
      const cai = await dancer();
      expect(await all(cai, `/users/${ana.id}/friends`)).toEqual([]);
      expect(await all(cai, `/users/${ana.id}/followers`)).toEqual([]);
      expect(await all(cai, `/users/${ana.id}/following`)).toEqual([]);
      expect(await all(cai, `/users/${ben.id}/followers`)).toEqual([]);

      const [dora, eli] = [await dancer(), await dancer()];
      await as(dora).put(`/friend-requests/${eli.id}`);
      await as(eli).put(`/blocks/${dora.id}`);
      expect(await all(dora, '/friend-requests', { direction: 'outgoing' })).toEqual([]);
      expect(await all(eli, '/friend-requests', { direction: 'incoming' })).toEqual([]);

      expect((await as(ana).delete(`/blocks/${ben.id}`)).status).toBe(204);
      expect((await as(ben).get(`/users/${ana.id}`)).status).toBe(200);
      expect(await all(ana, `/users/${ana.id}/friends`)).toEqual([]);
      expect((await as(ben).get(`/users/${ana.id}`)).body.data).toMatchObject({ followerCount: 0, followingCount: 0 });
    });

    it('each is a 404 to the other, the same answer as a user who does not exist', async () => {
      const { ana, ben } = await blockedPair();
      const nobody = randomUUID();
      const absent = problem(await as(ben).get(`/users/${nobody}`));
      expect(absent).toMatchObject({ status: 404, code: 'NOT_FOUND' });
      for (const [who, other] of [
        [ben, ana],
        [ana, ben],
      ] as const) {
        expect(problem(await as(who).get(`/users/${other.id}`))).toEqual(absent);
        expect(problem(await as(who).get(`/users/${other.username}`))).toEqual(absent);
        for (const list of ['followers', 'following', 'friends']) {
          expect(problem(await as(who).get(`/users/${other.id}/${list}`))).toEqual(problem(await as(who).get(`/users/${nobody}/${list}`)));
        }
      }
    });

    it('signed out, the profile is public: counts without a relationship, blocks or not', async () => {
      const { ana, ben } = await blockedPair();
      const res = await request(test.app).get(`/api/v1/users/${ana.username}`);
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ id: ana.id, relationship: null, followerCount: expect.any(Number) });
      expect((await as(ben).get(`/users/${ana.id}`)).status).toBe(404);
    });

    it('new follows and friend requests are refused both ways exactly as for a missing user', async () => {
      const { ana, ben } = await blockedPair();
      const nobody = randomUUID();
      for (const [who, other] of [
        [ben, ana],
        [ana, ben],
      ] as const) {
        expect(problem(await as(who).put(`/users/${other.id}/follow`))).toEqual(problem(await as(who).put(`/users/${nobody}/follow`)));
        expect(problem(await as(who).put(`/friend-requests/${other.id}`))).toEqual(
          problem(await as(who).put(`/friend-requests/${nobody}`)),
        );
      }
      const stored = await database.db
        .select({ n: count() })
        .from(follows)
        .where(or(eq(follows.followerId, ana.id), eq(follows.followerId, ben.id)));
      expect(stored[0]!.n).toBe(0);
    });

    it('search leaves each out for the other, not for anyone else', async () => {
      const { ana, ben } = await blockedPair();
      const cai = await dancer();
      const found = async (who: Dancer, target: Dancer) =>
        (await as(who).get('/users', { q: target.username })).body.data.map((u: { id: string }) => u.id);
      expect(await found(ben, ana)).toEqual([]);
      expect(await found(ana, ben)).toEqual([]);
      expect(await found(cai, ana)).toEqual([ana.id]);
      expect(await found(cai, ben)).toEqual([ben.id]);
    });

    it('third parties’ lists and counts leave out whoever is hidden from the caller', async () => {
      const { ana, ben } = await blockedPair();
      const [dora, cai] = [await dancer(), await dancer()];
      for (const who of [ana, ben, cai]) await as(who).put(`/users/${dora.id}/follow`);
      await as(dora).put(`/friend-requests/${ana.id}`);
      await as(ana).post(`/friend-requests/${dora.id}/accept`);
      await as(dora).put(`/friend-requests/${ben.id}`);
      await as(ben).post(`/friend-requests/${dora.id}/accept`);

      expect((await all(ana, `/users/${dora.id}/followers`)).sort()).toEqual([ana.id, cai.id].sort());
      expect((await all(ben, `/users/${dora.id}/followers`)).sort()).toEqual([ben.id, cai.id].sort());
      expect((await all(cai, `/users/${dora.id}/followers`)).sort()).toEqual([ana.id, ben.id, cai.id].sort());
      expect(await all(ana, `/users/${dora.id}/friends`)).toEqual([ana.id]);
      expect(await all(ben, `/users/${dora.id}/friends`)).toEqual([ben.id]);
      expect((await as(ana).get(`/users/${dora.id}`)).body.data.followerCount).toBe(2);
      expect((await as(cai).get(`/users/${dora.id}`)).body.data.followerCount).toBe(3);
      // Blocked both ways, Ben is still left out once.
      await as(ben).put(`/blocks/${ana.id}`);
      expect((await as(ana).get(`/users/${dora.id}`)).body.data).toMatchObject({ followerCount: 2, followingCount: 0 });
      expect((await as(ben).get(`/users/${cai.id}`)).body.data).toMatchObject({ followerCount: 0, followingCount: 1 });
    });

    it('blocking answers 204 for anyone, and my list never depends on what the other did', async () => {
      const { ana, ben } = await blockedPair();
      // Ben cannot see Ana: blocking her back, or an id with no account, answers and lists the same.
      expect((await as(ben).put(`/blocks/${ana.id}`)).status).toBe(204);
      expect((await as(ben).put(`/blocks/${randomUUID()}`)).status).toBe(204);
      expect(await all(ben, '/blocks')).toEqual([]);
      // Ana blocked Ben while she could see him; his later block does not take him off her list.
      for (let i = 0; i < 2; i++) expect((await as(ana).put(`/blocks/${ben.id}`)).status).toBe(204);
      expect(await all(ana, '/blocks')).toEqual([ben.id]);

      // Ana's unblock reveals nothing to Ben, and Ben's own block still hides them both until he lifts it.
      await as(ana).delete(`/blocks/${ben.id}`);
      expect(await all(ben, '/blocks')).toEqual([]);
      expect((await as(ana).get(`/users/${ben.id}`)).status).toBe(404);
      expect((await as(ben).get(`/users/${ana.id}`)).status).toBe(404);
      expect((await as(ben).delete(`/blocks/${ana.id}`)).status).toBe(204);
      expect((await as(ana).get(`/users/${ben.id}`)).status).toBe(200);
      expect((await as(ben).get(`/users/${ana.id}`)).status).toBe(200);
    });

    it('a block and a follow at once never leave a follow behind the block', async () => {
      for (let round = 0; round < 3; round++) {
        const [ana, ben] = [await dancer(), await dancer()];
        await Promise.all([
          as(ana).put(`/blocks/${ben.id}`),
          as(ben).put(`/users/${ana.id}/follow`),
          as(ben).put(`/friend-requests/${ana.id}`),
        ]);
        expect(await all(ana, `/users/${ana.id}/followers`)).toEqual([]);
        expect(await all(ana, '/friend-requests', { direction: 'incoming' })).toEqual([]);
      }
    });
  });

  it('writes send their per-user rate limit policy', async () => {
    const [ana, ben] = [await dancer(), await dancer()];
    const res = await as(ana).put(`/users/${ben.id}/follow`);
    expect(res.headers['ratelimit-policy']).toMatch(/;q=300;w=3600/);
  });
});
