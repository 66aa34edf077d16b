import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../runtime/server';
import type { Message } from '../../../server/services/messaging';
import { describeOnServerBackend } from '../../support/database';
import { newestFirst, useMessagingApp, type Dancer } from './messaging-fixture';

describeOnServerBackend('messages API: messages and read markers', (backend) => {
  const fx = useMessagingApp(backend);
  const { dancer, as, conversation, send, storedMessages, eventsFor, hideMessage } = fx;

  describe('messages', () => {
    it('sendMessage stores the message and announces it to every member, the sender included', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben, cai], 'group');
      const clientKey = randomUUID();
      const res = await as(ben).post(`/conversations/${id}/messages`, { clientKey, body: '¿Bailamos la próxima tanda?' });
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        conversationId: id,
        senderId: ben.id,
        clientKey,
        body: '¿Bailamos la próxima tanda?',
        hidden: false,
        createdAt: expect.any(String),
      });
      expect(res.headers['ratelimit-policy']).toContain('q=120;w=60');

      const announced = eventsFor('message:new', (p) => p.id === res.body.data.id);
      expect(announced).toHaveLength(1);
      expect([...announced[0]!.userIds].sort()).toEqual([ana.id, ben.id, cai.id].sort());
      expect(announced[0]!.payload).toEqual(res.body.data);
    });

    it('sendMessage refuses empty, blank and over-long messages and keys', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben]);
      const cases: [object, string][] = [
        [{ clientKey: randomUUID(), body: '' }, '/body/body'],
        [{ clientKey: randomUUID(), body: ' \n\t ' }, '/body/body'],
        [{ clientKey: randomUUID(), body: 'x'.repeat(4001) }, '/body/body'],
        [{ clientKey: '', body: 'Hola' }, '/body/clientKey'],
        [{ clientKey: 'k'.repeat(101), body: 'Hola' }, '/body/clientKey'],
        [{ clientKey: randomUUID(), body: 'Hola', senderId: ben.id }, '/body/senderId'],
      ];
      for (const [body, path] of cases) {
        const res = await as(ana).post(`/conversations/${id}/messages`, body);
        expect(res.status).toBe(400);
        expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual([path]);
      }
      expect(await storedMessages(id)).toBe(0);
      expect((await as(ana).post(`/conversations/${id}/messages`, { clientKey: 'k'.repeat(100), body: 'x'.repeat(4000) })).status).toBe(
        201,
      );
    });

    it('sendMessage is idempotent by clientKey: a resend answers the stored message, stores nothing and tells again', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben]);
      const clientKey = randomUUID();
      const first = await send(ana, id, 'Una vez', clientKey);
      const again = await as(ana).post(`/conversations/${id}/messages`, { clientKey, body: 'Una vez' });
      expect(again.status).toBe(201);
      expect(again.body.data).toEqual(first);
      expect(await storedMessages(id)).toBe(1);
      // Told again, the same message: the instance that stored it may have died before telling anyone.
      expect(eventsFor('message:new', (p) => p.clientKey === clientKey).map((r) => r.payload.id)).toEqual([first.id, first.id]);

      // Hidden by a moderator since: a resend tells nobody its text again.
      await hideMessage(first.id);
      expect((await as(ana).post(`/conversations/${id}/messages`, { clientKey, body: 'Una vez' })).status).toBe(201);
      expect(eventsFor('message:new', (p) => p.clientKey === clientKey)).toHaveLength(2);

      // The key is the sender's: another sender may use the same one.
      const bens = await send(ben, id, 'Una vez', clientKey);
      expect(bens.id).not.toBe(first.id);
      expect(await storedMessages(id)).toBe(2);
    });

    it('five concurrent resends of one clientKey store one message and all answer it', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben]);
      const clientKey = randomUUID();
      const results = await Promise.all(
        Array.from({ length: 5 }, () => as(ana).post(`/conversations/${id}/messages`, { clientKey, body: 'Al mismo tiempo' })),
      );
      expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      expect(new Set(results.map((r) => r.body.data.id)).size).toBe(1);
      expect(await storedMessages(id)).toBe(1);
      expect(new Set(eventsFor('message:new', (p) => p.clientKey === clientKey).map((r) => r.payload.id))).toEqual(
        new Set([results[0]!.body.data.id]),
      );
    });

    it('a clientKey reused for another text or conversation is refused with 409 CLIENT_KEY_REUSED', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      const withBen = await conversation(ana, [ben]);
      const withCai = await conversation(ana, [cai]);
      const clientKey = randomUUID();
      await send(ana, withBen.id, 'Primero', clientKey);
      const otherText = await as(ana).post(`/conversations/${withBen.id}/messages`, { clientKey, body: 'Otro' });
      const otherConversation = await as(ana).post(`/conversations/${withCai.id}/messages`, { clientKey, body: 'Primero' });
      for (const res of [otherText, otherConversation]) expect([res.status, res.body.code]).toEqual([409, 'CLIENT_KEY_REUSED']);
      expect([await storedMessages(withBen.id), await storedMessages(withCai.id)]).toEqual([1, 0]);
    });

    it('listMessages pages newest first with no repeats, even when messages arrive while paging', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben]);
      const sent: Message[] = [];
      for (let i = 0; i < 12; i++) sent.push(await send(i % 2 ? ben : ana, id, `Mensaje ${i}`));

      const seen: Message[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const res = await as(ana).get(`/conversations/${id}/messages`, { limit: 5, ...(cursor ? { cursor } : {}) });
        expect(res.status).toBe(200);
        sizes.push(res.body.data.length);
        seen.push(...res.body.data);
        cursor = res.body.page.nextCursor;
        expect(res.body.page.hasMore).toBe(cursor !== null);
        // A new message is newer than every page still to come: it must not show up in them.
        if (sizes.length === 1) await send(ben, id, 'Llegó tarde');
      } while (cursor);
      expect(sizes).toEqual([5, 5, 2]);
      // Within a conversation, the order is the order messages were stored in.
      expect(seen).toEqual([...sent].reverse());
    });

    it('concurrent sends to one conversation get distinct times, in the order they were stored', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben]);
      const sent = await Promise.all(Array.from({ length: 10 }, (_, i) => send(i % 2 ? ben : ana, id, `A la vez ${i}`)));
      const listed = (await as(ana).get(`/conversations/${id}/messages`)).body.data as Message[];
      expect(new Set(listed.map((m) => m.createdAt)).size).toBe(10);
      expect(listed).toEqual([...sent].sort(newestFirst));
      const latest = (await as(ana).get(`/conversations/${id}`)).body.data.lastMessage;
      expect(latest).toEqual(listed[0]);
    });

    it('listMessages with `after` catches up oldest first, paged by the cursor and the Link header', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben]);
      for (let i = 0; i < 14; i++) await send(ana, id, `Mensaje ${i}`);
      const all = ((await as(ben).get(`/conversations/${id}/messages`, { limit: 100 })).body.data as Message[]).reverse();
      const from = all[4]!;

      const pages: Message[][] = [];
      let res = await as(ben).get(`/conversations/${id}/messages`, { after: from.id, limit: 4 });
      pages.push(res.body.data);
      while (res.body.page.nextCursor) {
        const link = /^<([^>]+)>; rel="next"$/.exec(res.headers.link ?? '')![1]!;
        expect(link).toContain(`after=${from.id}`);
        res = await request(fx.app).get(link).set('Authorization', `Bearer ${ben.token}`);
        expect(res.status).toBe(200);
        pages.push(res.body.data);
      }
      expect(pages.map((p) => p.length)).toEqual([4, 4, 1]);
      expect(pages.flat()).toEqual(all.slice(5));

      const upToDate = await as(ben).get(`/conversations/${id}/messages`, { after: all.at(-1)!.id });
      expect(upToDate.body).toEqual({ data: [], page: { nextCursor: null, hasMore: false } });
    });

    it('listMessages refuses an `after` that is not a message of the conversation', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben]);
      const elsewhere = await send(ana, (await conversation(ana, [cai])).id);
      for (const after of [randomUUID(), elsewhere.id]) {
        const res = await as(ana).get(`/conversations/${id}/messages`, { after });
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([expect.objectContaining({ path: '/query/after' })]);
      }
      const bad = await as(ana).get(`/conversations/${id}/messages`, { after: 'yesterday' });
      expect(bad.body.errors[0].path).toBe('/query/after');
    });
  });

  describe('read markers', () => {
    const unreadOf = async (who: Dancer, conversationId: string) =>
      ((await as(who).get(`/conversations/${conversationId}`)).body.data as { unreadCount: number }).unreadCount;

    it('unread counts follow markRead, and markRead tells every member', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben, cai], 'group');
      const first = await send(ana, id, 'Uno');
      await send(cai, id, 'Dos');
      const third = await send(ana, id, 'Tres');
      expect([await unreadOf(ana, id), await unreadOf(ben, id), await unreadOf(cai, id)]).toEqual([1, 3, 2]);

      const res = await as(ben).post(`/conversations/${id}/read`, { messageId: first.id });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ conversationId: id, userId: ben.id, messageId: first.id, readAt: expect.any(String) });
      expect(await unreadOf(ben, id)).toBe(2);

      await as(ben).post(`/conversations/${id}/read`, { messageId: third.id });
      expect(await unreadOf(ben, id)).toBe(0);
      expect(await unreadOf(cai, id)).toBe(2);

      const reads = eventsFor('message:read', (p) => p.conversationId === id);
      expect(reads.map((r) => r.payload.messageId)).toEqual([first.id, third.id]);
      for (const read of reads) expect([...read.userIds].sort()).toEqual([ana.id, ben.id, cai.id].sort());
      expect(reads[0]!.payload).toEqual(res.body.data);
    });

    it('the read marker never moves backward', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben]);
      const older = await send(ana, id, 'Antes');
      const newer = await send(ana, id, 'Después');
      const forward = await as(ben).post(`/conversations/${id}/read`, { messageId: newer.id });
      const backward = await as(ben).post(`/conversations/${id}/read`, { messageId: older.id });
      expect(backward.status).toBe(200);
      expect(backward.body.data).toEqual(forward.body.data);
      const again = await as(ben).post(`/conversations/${id}/read`, { messageId: newer.id });
      expect(again.body.data).toEqual(forward.body.data);
      expect(await unreadOf(ben, id)).toBe(0);
      expect(eventsFor('message:read', (p) => p.conversationId === id)).toHaveLength(1);
    });

    it('markRead refuses a message that is not in the conversation', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben]);
      const elsewhere = await send(ana, (await conversation(ana, [cai])).id);
      for (const messageId of [randomUUID(), elsewhere.id]) {
        const res = await as(ana).post(`/conversations/${id}/read`, { messageId });
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([expect.objectContaining({ path: '/body/messageId' })]);
      }
    });
  });

  describe('messaging service', () => {
    it('markDelivered tells the sender once per recipient and ignores the sender’s own devices', async () => {
      const [ana, ben, cai, eve] = [await dancer(), await dancer(), await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben, cai], 'group');
      const message = await send(ana, id, '¿Llegó?');
      const { messaging } = fx.services;

      expect(await messaging.markDelivered({ messageId: message.id, userId: ben.id })).toBe(true);
      expect(await messaging.markDelivered({ messageId: message.id, userId: ben.id })).toBe(false);
      expect(await messaging.markDelivered({ messageId: message.id, userId: ana.id })).toBe(false);
      expect(await messaging.markDelivered({ messageId: message.id, userId: cai.id })).toBe(true);

      const delivered = eventsFor('message:delivered', (p) => p.messageId === message.id);
      expect(delivered.map((d) => d.userIds)).toEqual([[ana.id], [ana.id]]);
      expect(delivered.map((d) => d.payload)).toEqual([
        { messageId: message.id, conversationId: id, userId: ben.id, deliveredAt: expect.any(String) },
        { messageId: message.id, conversationId: id, userId: cai.id, deliveredAt: expect.any(String) },
      ]);

      await expect(messaging.markDelivered({ messageId: message.id, userId: eve.id })).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(messaging.markDelivered({ messageId: randomUUID(), userId: ben.id })).rejects.toBeInstanceOf(ApiError);
      await expect(messaging.markDelivered({ messageId: randomUUID(), userId: ben.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('send answers whether it stored, and membership, members, conversations and presence audiences are queryable', async () => {
      const [ana, ben, cai, eve] = [await dancer(), await dancer(), await dancer(), await dancer()];
      const direct = await conversation(ana, [ben]);
      const group = await conversation(ben, [cai, ana], 'group');
      const { messaging } = fx.services;

      const input = { conversationId: direct.id, senderId: ana.id, clientKey: randomUUID(), body: 'Desde el socket' };
      expect((await messaging.send(input)).created).toBe(true);
      expect((await messaging.send(input)).created).toBe(false);
      await expect(messaging.send({ ...input, senderId: eve.id })).rejects.toMatchObject({ code: 'FORBIDDEN' });

      expect(await messaging.isMember(direct.id, ana.id)).toBe(true);
      expect(await messaging.isMember(direct.id, cai.id)).toBe(false);
      expect(await messaging.isMember(randomUUID(), ana.id)).toBe(false);
      expect((await messaging.memberIds(group.id)).sort()).toEqual([ana.id, ben.id, cai.id].sort());
      expect(await messaging.memberIds(randomUUID())).toEqual([]);
      expect(await messaging.conversationIdsOf(ana.id)).toEqual([direct.id, group.id].sort());
      // A conversation shares presence between two of its members once both wrote in it, not before
      // (test/e2e/realtime-presence-rules.test.ts has the rest).
      const audience = async (who: { id: string }) => (await fx.services.presence.audienceOf(who.id)).sort();
      for (const who of [ana, ben, cai, eve]) expect(await audience(who)).toEqual([]);
      const say = (conversationId: string, senderId: string) =>
        messaging.send({ conversationId, senderId, clientKey: randomUUID(), body: 'Presente' });
      await say(direct.id, ben.id);
      await say(group.id, ana.id);
      await say(group.id, cai.id);
      expect(await audience(ana)).toEqual([ben.id, cai.id].sort());
      expect(await audience(ben)).toEqual([ana.id]);
      expect(await audience(cai)).toEqual([ana.id]);
      expect(await audience(eve)).toEqual([]);
      expect(await fx.services.presence.visibleTo(ben.id, [ana.id, cai.id, eve.id])).toEqual([ana.id]);
    });
  });
});
