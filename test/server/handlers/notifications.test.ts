import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import type { NotifyInput } from '../../../server/services/notifications';
import { noRealtime, type RealtimePort } from '../../../server/services/realtime-port';
import { createTestApp } from '../../support/app';
import { describeOnServerBackend } from '../../support/database';

interface Dancer {
  id: string;
  token: string;
  displayName: string;
}

interface Item {
  id: string;
  kind: string;
  target: { type: string; id: string };
  actors: { id: string; displayName: string }[];
  actorCount: number;
  count: number;
  read: boolean;
  readAt: string | null;
  createdAt: string;
  updatedAt: string;
}

describeOnServerBackend('notifications API', (backend) => {
  let database: Database;
  let test: Awaited<ReturnType<typeof createTestApp>>;
  const pushed: { userIds: string[]; event: string; payload: { notification: Item; unreadCount: number } }[] = [];
  const realtime: RealtimePort = {
    toUsers(userIds, event, payload) {
      pushed.push({ userIds: [...userIds], event, payload: payload as (typeof pushed)[number]['payload'] });
    },
    toRoom() {},
    removeFromRoom() {},
    liveCounts: noRealtime.liveCounts,
  };

  beforeAll(async () => {
    database = await backend.open();
    test = await createTestApp(database, {}, undefined, { realtime });
  });
  afterAll(async () => {
    await test.close();
    await database.close();
  });

  let names = 0;
  async function dancer(): Promise<Dancer> {
    const displayName = `Dancer ${++names}`;
    const user = await test.services.userStore.create({
      username: `n-${randomUUID().slice(0, 8)}`,
      displayName,
      passwordHash: 'not-a-real-hash',
    });
    if (user === 'taken') throw new Error('username collision');
    return { id: user.id, token: await test.token(user.id), displayName };
  }

  const as = (who: Dancer) => {
    const auth = (r: request.Test) => r.set('Authorization', `Bearer ${who.token}`);
    return {
      get: (path: string, query: Record<string, string | number> = {}) => auth(request(test.app).get(`/api/v1${path}`).query(query)),
      post: (path: string, body: object = {}) => auth(request(test.app).post(`/api/v1${path}`).send(body)),
      put: (path: string) => auth(request(test.app).put(`/api/v1${path}`)),
      delete: (path: string) => auth(request(test.app).delete(`/api/v1${path}`)),
    };
  };

  const notify = (input: NotifyInput) => test.services.notifications.notify(input);
  const followed = (who: Dancer, by: Dancer) =>
    notify({ userId: who.id, kind: 'new_follower', actorId: by.id, target: { type: 'user', id: who.id } });

  async function list(who: Dancer, query: Record<string, string | number> = {}): Promise<Item[]> {
    const res = await as(who).get('/notifications', { limit: 100, ...query });
    expect(res.status).toBe(200);
    return res.body.data;
  }
  const unread = async (who: Dancer) => (await as(who).get('/notifications/unread-count')).body.data.count as number;

  async function conversation(creator: Dancer, others: Dancer[]) {
    const res = await as(creator).post('/conversations', { kind: 'group', title: 'Práctica', memberIds: others.map((o) => o.id) });
    expect(res.status).toBe(201);
    return res.body.data.id as string;
  }

  describe('notify, read through HTTP', () => {
    it('a notification is listed with its actor, unread, and counted', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      await followed(ana, ben);
      expect(await list(ana)).toEqual([
        {
          id: expect.any(String),
          kind: 'new_follower',
          target: { type: 'user', id: ana.id },
          actors: [{ id: ben.id, username: expect.any(String), displayName: ben.displayName, avatarUrl: null }],
          actorCount: 1,
          count: 1,
          read: false,
          readAt: null,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        },
      ]);
      expect(await unread(ana)).toBe(1);
      // The actor is told nothing.
      expect(await list(ben)).toEqual([]);
      expect(await unread(ben)).toBe(0);
    });

    it('unread notifications of one kind about one target collapse: the latest three actors, everyone counted once', async () => {
      const ana = await dancer();
      const [ben, cai, dia, eva] = [await dancer(), await dancer(), await dancer(), await dancer()];
      for (const who of [ben, cai, dia, eva]) await followed(ana, who);
      // Ben again (unfollowed and followed back, say): he moves up but is still one of four people.
      await followed(ana, ben);
      const items = await list(ana);
      expect(items).toHaveLength(1);
      expect(items[0]!.actors.map((a) => a.id)).toEqual([ben.id, eva.id, dia.id]);
      expect(items[0]).toMatchObject({ actorCount: 4, count: 5, read: false });
      expect(Date.parse(items[0]!.updatedAt)).toBeGreaterThanOrEqual(Date.parse(items[0]!.createdAt));
      expect(await unread(ana)).toBe(1);
    });

    it('another kind or another target is another item; the latest activity comes first', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      const [eventA, eventB] = [randomUUID(), randomUUID()];
      await notify({ userId: ana.id, kind: 'event_rsvp', actorId: ben.id, target: { type: 'event', id: eventA } });
      await notify({ userId: ana.id, kind: 'event_rsvp', actorId: ben.id, target: { type: 'event', id: eventB } });
      await notify({ userId: ana.id, kind: 'event_changed', actorId: ben.id, target: { type: 'event', id: eventA } });
      await notify({ userId: ana.id, kind: 'event_rsvp', actorId: cai.id, target: { type: 'event', id: eventA } });
      const items = await list(ana);
      expect(items.map((i) => [i.kind, i.target.id, i.actorCount])).toEqual([
        ['event_rsvp', eventA, 2],
        ['event_changed', eventA, 1],
        ['event_rsvp', eventB, 1],
      ]);
      expect(await unread(ana)).toBe(3);
    });

    it('once read, the next notification starts a new item and the read one stays', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      await followed(ana, ben);
      const [first] = await list(ana);
      expect((await as(ana).post(`/notifications/${first!.id}/read`)).status).toBe(200);
      await followed(ana, cai);
      const items = await list(ana);
      expect(items.map((i) => [i.actors.map((a) => a.id), i.read])).toEqual([
        [[cai.id], false],
        [[ben.id], true],
      ]);
      expect((await list(ana, { unread: 'true' })).map((i) => i.id)).toEqual([items[0]!.id]);
      expect(await list(ana, { unread: 'false' })).toHaveLength(2);
    });

    it('nobody is notified of their own doing', async () => {
      const ana = await dancer();
      expect(await followed(ana, ana)).toBeNull();
      expect(await list(ana)).toEqual([]);
    });

    it('pages newest first with a cursor, no item twice, and refuses a bad filter', async () => {
      const ana = await dancer();
      for (let i = 0; i < 5; i++) {
        await notify({ userId: ana.id, kind: 'group_invite', actorId: (await dancer()).id, target: { type: 'group', id: randomUUID() } });
      }
      const all = await list(ana);
      expect(all).toHaveLength(5);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await as(ana).get('/notifications', { limit: 2, ...(cursor ? { cursor } : {}) });
        expect(res.status).toBe(200);
        seen.push(...res.body.data.map((i: Item) => i.id));
        cursor = res.body.page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(all.map((i) => i.id));
      const sorted = [...all].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || b.id.localeCompare(a.id));
      expect(all.map((i) => i.id)).toEqual(sorted.map((i) => i.id));
      expect((await as(ana).get('/notifications', { unread: 'yes' })).status).toBe(400);
    });

    it('simultaneous notifications about one target make one item that counts them all', async () => {
      const ana = await dancer();
      const actors = await Promise.all(Array.from({ length: 8 }, () => dancer()));
      await Promise.all(actors.map((who) => followed(ana, who)));
      const items = await list(ana);
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ actorCount: 8, count: 8 });
      expect(new Set(items[0]!.actors.map((a) => a.id)).size).toBe(3);
    });
  });

  describe('read, mark all, delete', () => {
    it('markNotificationRead reads it once; someone else’s is 404 like one that does not exist', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      await followed(ana, ben);
      const [item] = await list(ana);
      const stranger = await as(cai).post(`/notifications/${item!.id}/read`);
      const missing = await as(cai).post(`/notifications/${randomUUID()}/read`);
      expect([stranger.status, missing.status]).toEqual([404, 404]);
      expect(stranger.body.code).toBe(missing.body.code);
      expect(stranger.body.detail).toBe(missing.body.detail);
      expect((await list(ana))[0]!.read).toBe(false);

      const marked = await as(ana).post(`/notifications/${item!.id}/read`);
      expect(marked.status).toBe(200);
      expect(marked.body.data).toMatchObject({ id: item!.id, read: true, readAt: expect.any(String) });
      const again = await as(ana).post(`/notifications/${item!.id}/read`);
      expect(again.body.data.readAt).toBe(marked.body.data.readAt);
      expect(await unread(ana)).toBe(0);
    });

    it('markAllNotificationsRead reads mine only, and with `until` leaves what came after', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      await followed(ana, ben);
      await notify({ userId: ana.id, kind: 'group_invite', actorId: ben.id, target: { type: 'group', id: randomUUID() } });
      await followed(cai, ben);
      const seen = await list(ana);
      await new Promise((r) => setTimeout(r, 5));
      await notify({ userId: ana.id, kind: 'friend_request', actorId: cai.id, target: { type: 'user', id: ana.id } });

      const res = await as(ana).post('/notifications/read', { until: seen[0]!.updatedAt });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ marked: 2 });
      expect((await list(ana, { unread: 'true' })).map((i) => i.kind)).toEqual(['friend_request']);
      expect(await unread(cai)).toBe(1);

      expect((await as(ana).post('/notifications/read', {})).body.data).toEqual({ marked: 1 });
      expect(await unread(ana)).toBe(0);
      expect(await unread(cai)).toBe(1);
    });

    it('deleteNotification removes mine; someone else’s is 404 and stays', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      await followed(ana, ben);
      const [item] = await list(ana);
      expect((await as(ben).delete(`/notifications/${item!.id}`)).status).toBe(404);
      expect(await list(ana)).toHaveLength(1);
      expect((await as(ana).delete(`/notifications/${item!.id}`)).status).toBe(204);
      expect((await as(ana).delete(`/notifications/${item!.id}`)).status).toBe(404);
      expect(await list(ana)).toEqual([]);
      expect(await unread(ana)).toBe(0);
    });

    it('every operation needs a signed-in user', async () => {
      expect((await request(test.app).get('/api/v1/notifications')).status).toBe(401);
      expect((await request(test.app).get('/api/v1/notifications/unread-count')).status).toBe(401);
      expect((await request(test.app).put(`/api/v1/conversations/${randomUUID()}/mute`)).status).toBe(401);
    });
  });

  describe('muted conversations', () => {
    const message = (to: Dancer, from: Dancer, conversationId: string) =>
      notify({ userId: to.id, kind: 'message', actorId: from.id, target: { type: 'conversation', id: conversationId } });

    it('a member who muted a conversation gets no message notifications from it until unmuting', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      const conversationId = await conversation(ana, [ben, cai]);
      const muted = await as(ben).put(`/conversations/${conversationId}/mute`);
      expect(muted.status).toBe(200);
      expect(muted.body.data).toEqual({ conversationId, muted: true });
      expect((await as(ben).put(`/conversations/${conversationId}/mute`)).status).toBe(200);

      expect(await message(ben, ana, conversationId)).toBeNull();
      expect(await message(cai, ana, conversationId)).not.toBeNull();
      expect(await list(ben)).toEqual([]);
      expect(await list(cai)).toHaveLength(1);
      // Muting is about messages only.
      await notify({ userId: ben.id, kind: 'group_invite', actorId: ana.id, target: { type: 'group', id: randomUUID() } });
      expect(await unread(ben)).toBe(1);

      const unmuted = await as(ben).delete(`/conversations/${conversationId}/mute`);
      expect(unmuted.body.data).toEqual({ conversationId, muted: false });
      await message(ben, ana, conversationId);
      await message(ben, cai, conversationId);
      const items = await list(ben);
      expect(items.map((i) => [i.kind, i.actorCount, i.count])).toEqual([
        ['message', 2, 2],
        ['group_invite', 1, 1],
      ]);
    });

    it('only members mute; for anyone else the conversation is 404 as one that does not exist', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      const conversationId = await conversation(ana, [ben]);
      const outsider = await as(cai).put(`/conversations/${conversationId}/mute`);
      const missing = await as(cai).put(`/conversations/${randomUUID()}/mute`);
      expect([outsider.status, missing.status]).toEqual([404, 404]);
      expect(outsider.body.detail).toBe(missing.body.detail);
      expect((await as(cai).delete(`/conversations/${conversationId}/mute`)).status).toBe(404);
      // Nor does an outsider get message notifications about it.
      expect(await message(cai, ana, conversationId)).toBeNull();
    });
  });

  describe('blocks', () => {
    const block = async (blocker: Dancer, blocked: Dancer) => {
      expect((await as(blocker).put(`/blocks/${blocked.id}`)).status).toBeLessThan(300);
    };

    it('no notification crosses a block, whichever of the two blocked', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      expect((await as(ana).put(`/blocks/${ben.id}`)).status).toBeLessThan(300);
      const before = pushed.length;
      expect(await followed(ana, ben)).toBeNull();
      expect(await followed(ben, ana)).toBeNull();
      expect([await list(ana), await list(ben)]).toEqual([[], []]);
      expect(pushed.length).toBe(before);
    });

    it('a block takes each out of what the other was told, counts included', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      await followed(ana, ben);
      await followed(ana, cai);
      await followed(ana, ben);
      await notify({ userId: ana.id, kind: 'event_rsvp', actorId: ben.id, target: { type: 'event', id: randomUUID() } });
      await notify({ userId: ben.id, kind: 'group_invite', actorId: ana.id, target: { type: 'group', id: randomUUID() } });
      await block(ben, ana);
      expect(await list(ana)).toEqual([
        expect.objectContaining({ kind: 'new_follower', actors: [expect.objectContaining({ id: cai.id })], actorCount: 1, count: 1 }),
      ]);
      expect(await unread(ana)).toBe(1);
      expect(await list(ben)).toEqual([]);
      expect(await unread(ben)).toBe(0);
    });

    it('an item keeps naming someone while anyone is left', async () => {
      const ana = await dancer();
      const [ben, cai, dia, eva] = [await dancer(), await dancer(), await dancer(), await dancer()];
      for (const who of [ben, cai, dia, eva]) await followed(ana, who);
      for (const who of [eva, dia, cai]) await block(ana, who);
      expect(await list(ana)).toEqual([
        expect.objectContaining({ actors: [expect.objectContaining({ id: ben.id })], actorCount: 1, count: 1 }),
      ]);
    });
  });

  describe('in the caller’s transaction, and live', () => {
    it('a notification made in a transaction that rolls back is neither stored nor pushed', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const before = pushed.length;
      await expect(
        database.db.transaction(async (tx) => {
          const made = await test.services.notifications.notify(
            { userId: ana.id, kind: 'friend_request', actorId: ben.id, target: { type: 'user', id: ana.id } },
            tx,
          );
          expect(made).not.toBeNull();
          throw new Error('the request it tells of failed');
        }),
      ).rejects.toThrow('the request it tells of failed');
      expect(await list(ana)).toEqual([]);
      expect(pushed.length).toBe(before);
    });

    it('in a transaction that commits, it is stored with the rest and pushed once published', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const made = await database.db.transaction(async (tx) => {
        await tx.execute(sql`SELECT 1`);
        return test.services.notifications.notify(
          { userId: ana.id, kind: 'friend_accepted', actorId: ben.id, target: { type: 'user', id: ben.id } },
          tx,
        );
      });
      expect(pushed.filter((p) => p.userIds.includes(ana.id))).toEqual([]);
      test.services.notifications.publish(made);
      expect(pushed.filter((p) => p.userIds.includes(ana.id))).toEqual([
        { userIds: [ana.id], event: 'notification:new', payload: { notification: (await list(ana))[0]!, unreadCount: 1 } },
      ]);
    });

    it('each notification, new or collapsed, is pushed to its recipient as it now stands, with the unread count', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      await followed(ana, ben);
      await followed(ana, cai);
      const toAna = pushed.filter((p) => p.userIds.includes(ana.id));
      expect(toAna.map((p) => [p.event, p.userIds, p.payload.notification.actorCount, p.payload.unreadCount])).toEqual([
        ['notification:new', [ana.id], 1, 1],
        ['notification:new', [ana.id], 2, 1],
      ]);
      expect(toAna[1]!.payload.notification.id).toBe(toAna[0]!.payload.notification.id);
      expect(toAna[1]!.payload.notification).toEqual((await list(ana))[0]);
      // Nothing stored, nothing pushed.
      const count = pushed.length;
      await followed(ana, ana);
      expect(pushed.length).toBe(count);
    });
  });
});
