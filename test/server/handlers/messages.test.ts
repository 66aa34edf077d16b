import { randomUUID } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../../runtime/server';
import type { Database } from '../../../server/db/database';
import { messages } from '../../../server/db/schema';
import type { Message } from '../../../server/services/messaging';
import type { RealtimePort } from '../../../server/services/realtime-port';
import { createTestApp } from '../../support/app';
import { backends } from '../../support/database';

interface Recorded {
  userIds: string[];
  event: string;
  payload: Record<string, unknown>;
}

interface Dancer {
  id: string;
  token: string;
}

/** Newest first, as the API orders messages: (created_at, id) descending. */
const newestFirst = (a: Message, b: Message) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);

describe.each(backends)('messages API on $name', (backend) => {
  let database: Database;
  let test: Awaited<ReturnType<typeof createTestApp>>;
  const recorded: Recorded[] = [];
  const realtime: RealtimePort = {
    toUsers(userIds, event, payload) {
      recorded.push({ userIds: [...userIds], event, payload: payload as Record<string, unknown> });
    },
  };

  beforeAll(async () => {
    database = await backend.open();
    test = await createTestApp(database, {}, undefined, { realtime });
  });
  afterAll(async () => {
    await test.close();
    await database.close();
  });

  /** A real account, stored through the user store, and a token for it. */
  async function dancer(): Promise<Dancer> {
    const user = await test.services.userStore.create({
      username: `dancer-${randomUUID().slice(0, 8)}`,
      displayName: 'Test Dancer',
      passwordHash: 'not-a-real-hash',
    });
    if (user === 'taken') throw new Error('username collision');
    return { id: user.id, token: await test.token(user.id) };
  }

  const as = (who: Dancer) => ({
    get: (path: string, query: Record<string, string | number> = {}) =>
      request(test.app).get(`/api/v1${path}`).query(query).set('Authorization', `Bearer ${who.token}`),
    post: (path: string, body: object) => request(test.app).post(`/api/v1${path}`).set('Authorization', `Bearer ${who.token}`).send(body),
  });

  async function conversation(creator: Dancer, others: Dancer[], kind: 'direct' | 'group' = others.length === 1 ? 'direct' : 'group') {
    const res = await as(creator).post('/conversations', { kind, memberIds: others.map((o) => o.id) });
    expect(res.status).toBe(201);
    return res.body.data as { id: string; memberIds: string[] };
  }

  async function send(who: Dancer, conversationId: string, body = 'Hola', clientKey: string = randomUUID()) {
    const res = await as(who).post(`/conversations/${conversationId}/messages`, { clientKey, body });
    expect(res.status).toBe(201);
    return res.body.data as Message;
  }

  const storedMessages = async (conversationId: string) =>
    (await database.db.select({ n: count() }).from(messages).where(eq(messages.conversationId, conversationId)))[0]!.n;

  const eventsFor = (event: string, match: (payload: Record<string, unknown>) => boolean) =>
    recorded.filter((r) => r.event === event && match(r.payload));

  describe('conversations', () => {
    it('createConversation makes a direct conversation with the caller as a member', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const res = await as(ana).post('/conversations', { kind: 'direct', memberIds: [ben.id] });
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        kind: 'direct',
        title: null,
        memberIds: expect.arrayContaining([ana.id, ben.id]),
        createdAt: expect.any(String),
        lastMessage: null,
        unreadCount: 0,
      });
      expect(res.body.data.memberIds).toHaveLength(2);
    });

    it('a direct conversation is unique per pair: starting it again, from either side, answers the same one', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const first = await conversation(ana, [ben]);
      const again = await as(ana).post('/conversations', { kind: 'direct', memberIds: [ben.id, ana.id, ben.id] });
      const fromBen = await as(ben).post('/conversations', { kind: 'direct', memberIds: [ana.id] });
      expect([again.status, fromBen.status]).toEqual([201, 201]);
      expect([again.body.data.id, fromBen.body.data.id]).toEqual([first.id, first.id]);
      const listed = await as(ana).get('/conversations', { limit: 100 });
      expect(listed.body.data.map((c: { id: string }) => c.id)).toEqual([first.id]);
    });

    it('concurrent starts of one direct conversation make one', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const results = await Promise.all(
        [ana, ben, ana, ben, ana].map((who) =>
          as(who).post('/conversations', { kind: 'direct', memberIds: [who === ana ? ben.id : ana.id] }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      expect(new Set(results.map((r) => r.body.data.id)).size).toBe(1);
    });

    it('a group has a title and its members once each, the caller included', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      const res = await as(ana).post('/conversations', {
        kind: 'group',
        title: '  Práctica de los martes ',
        memberIds: [ben.id, cai.id, ben.id, ana.id],
      });
      expect(res.status).toBe(201);
      expect(res.body.data).toMatchObject({ kind: 'group', title: 'Práctica de los martes' });
      expect([...res.body.data.memberIds].sort()).toEqual([ana.id, ben.id, cai.id].sort());
      // Two groups of the same people are two conversations.
      expect((await conversation(ana, [ben, cai], 'group')).id).not.toBe(res.body.data.id);
    });

    it('createConversation refuses bad member lists and titles, naming the field', async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      const cases: [object, string][] = [
        [{ kind: 'direct', memberIds: [ben.id, cai.id] }, '/body/memberIds'],
        [{ kind: 'direct', memberIds: [ana.id] }, '/body/memberIds'],
        [{ kind: 'group', memberIds: [ana.id] }, '/body/memberIds'],
        [{ kind: 'group', memberIds: [] }, '/body/memberIds'],
        [{ kind: 'direct', memberIds: [ben.id], title: 'Us' }, '/body/title'],
        [{ kind: 'group', memberIds: [ben.id], title: 'x'.repeat(101) }, '/body/title'],
        [{ kind: 'group', memberIds: Array.from({ length: 101 }, () => randomUUID()) }, '/body/memberIds'],
        [{ kind: 'group', memberIds: [ben.id, randomUUID()] }, '/body/memberIds/1'],
        [{ kind: 'direct', memberIds: ['not-a-uuid'] }, '/body/memberIds/0'],
        [{ kind: 'channel', memberIds: [ben.id] }, '/body/kind'],
      ];
      for (const [body, path] of cases) {
        const res = await as(ana).post('/conversations', body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
        expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual([path]);
      }
      expect((await as(ana).get('/conversations')).body.data).toEqual([]);
    });

    it('every messages operation needs a signed-in user', async () => {
      const id = randomUUID();
      const calls = [
        request(test.app).post('/api/v1/conversations').send({ kind: 'direct', memberIds: [randomUUID()] }),
        request(test.app).get('/api/v1/conversations'),
        request(test.app).get(`/api/v1/conversations/${id}`),
        request(test.app).get(`/api/v1/conversations/${id}/messages`),
        request(test.app).post(`/api/v1/conversations/${id}/messages`).send({ clientKey: 'k', body: 'b' }),
        request(test.app).post(`/api/v1/conversations/${id}/read`).send({ messageId: randomUUID() }),
      ];
      for (const res of await Promise.all(calls)) expect([res.status, res.body.code]).toEqual([401, 'UNAUTHENTICATED']);
    });

    it('getConversation: members read it, others get 403, an unknown id 404', async () => {
      const [ana, ben, eve] = [await dancer(), await dancer(), await dancer()];
      const created = await conversation(ana, [ben]);
      const byBen = await as(ben).get(`/conversations/${created.id}`);
      expect(byBen.status).toBe(200);
      expect(byBen.body.data).toEqual(created);

      const byEve = await as(eve).get(`/conversations/${created.id}`);
      expect(byEve.status).toBe(403);
      expect(byEve.body.code).toBe('FORBIDDEN');
      expect(byEve.headers['content-type']).toBe('application/problem+json');

      const missing = await as(ana).get(`/conversations/${randomUUID()}`);
      expect([missing.status, missing.body.code]).toEqual([404, 'NOT_FOUND']);
    });

    it('a non-member can neither read, write nor mark read, and nothing is stored', async () => {
      const [ana, ben, eve] = [await dancer(), await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben]);
      const message = await send(ana, id, 'Solo para Ben');
      const events = recorded.length;

      const reads = await as(eve).get(`/conversations/${id}/messages`);
      const catchUp = await as(eve).get(`/conversations/${id}/messages`, { after: message.id });
      const writes = await as(eve).post(`/conversations/${id}/messages`, { clientKey: randomUUID(), body: 'Intrusa' });
      const marks = await as(eve).post(`/conversations/${id}/read`, { messageId: message.id });
      for (const res of [reads, catchUp, writes, marks]) expect([res.status, res.body.code]).toEqual([403, 'FORBIDDEN']);
      expect(await storedMessages(id)).toBe(1);
      expect(recorded.length).toBe(events);

      const unknown = randomUUID();
      expect((await as(eve).get(`/conversations/${unknown}/messages`)).status).toBe(404);
      expect((await as(eve).post(`/conversations/${unknown}/messages`, { clientKey: 'k', body: 'b' })).status).toBe(404);
      expect((await as(eve).post(`/conversations/${unknown}/read`, { messageId: message.id })).status).toBe(404);
    });

    it('listConversations: most recently active first, with the last message and my unread count', async () => {
      const me = await dancer();
      const others = [await dancer(), await dancer(), await dancer()];
      const ids: string[] = [];
      for (const other of others) ids.push((await conversation(other, [me])).id);
      const order = async () => ((await as(me).get('/conversations')).body.data as { id: string }[]).map((c) => c.id);
      // Conversations started in the same millisecond tie on time, so compare against the API's own order.
      const before = await order();
      expect([...before].sort()).toEqual([...ids].sort());

      const oldest = before.at(-1)!;
      const sender = others[ids.indexOf(oldest)]!;
      const last = await send(sender, oldest, 'Te escribo');
      const after = await as(me).get('/conversations');
      expect(after.body.data.map((c: { id: string }) => c.id)).toEqual([oldest, ...before.slice(0, -1)]);
      expect(after.body.data[0]).toMatchObject({ id: oldest, lastMessage: last, unreadCount: 1 });
      expect(after.body.data[1]).toMatchObject({ lastMessage: null, unreadCount: 0 });

      const mine = await as(sender).get('/conversations');
      expect(mine.body.data[0]).toMatchObject({ id: oldest, lastMessage: last, unreadCount: 0 });
    });

    it('listConversations pages without repeats or gaps, and the Link header leads on', async () => {
      const me = await dancer();
      const partners = await Promise.all(Array.from({ length: 7 }, () => dancer()));
      // Set up through the service: createConversation is rate-limited per user.
      for (const partner of partners) await test.services.messaging.createConversation({ creatorId: partner.id, kind: 'direct', memberIds: [me.id] });
      const all = (await as(me).get('/conversations', { limit: 100 })).body.data.map((c: { id: string }) => c.id);
      expect(all).toHaveLength(7);

      const seen: string[] = [];
      let res = await as(me).get('/conversations', { limit: 3 });
      const sizes = [res.body.data.length];
      seen.push(...res.body.data.map((c: { id: string }) => c.id));
      while (res.body.page.nextCursor) {
        const link = /^<([^>]+)>; rel="next"$/.exec(res.headers.link ?? '')![1]!;
        res = await request(test.app).get(link).set('Authorization', `Bearer ${me.token}`);
        expect(res.status).toBe(200);
        sizes.push(res.body.data.length);
        seen.push(...res.body.data.map((c: { id: string }) => c.id));
      }
      expect(sizes).toEqual([3, 3, 1]);
      expect(seen).toEqual(all);
      expect(res.body.page).toEqual({ nextCursor: null, hasMore: false });
    });
  });

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
      expect((await as(ana).post(`/conversations/${id}/messages`, { clientKey: 'k'.repeat(100), body: 'x'.repeat(4000) })).status).toBe(201);
    });

    it('sendMessage is idempotent by clientKey: a resend answers the stored message and stores nothing', async () => {
      const [ana, ben] = [await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben]);
      const clientKey = randomUUID();
      const first = await send(ana, id, 'Una vez', clientKey);
      const again = await as(ana).post(`/conversations/${id}/messages`, { clientKey, body: 'Una vez' });
      expect(again.status).toBe(201);
      expect(again.body.data).toEqual(first);
      expect(await storedMessages(id)).toBe(1);
      expect(eventsFor('message:new', (p) => p.clientKey === clientKey)).toHaveLength(1);

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
      expect(eventsFor('message:new', (p) => p.clientKey === clientKey)).toHaveLength(1);
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
      for (let i = 0; i < 45; i++) sent.push(await send(i % 2 ? ben : ana, id, `Mensaje ${i}`));

      const seen: Message[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const res = await as(ana).get(`/conversations/${id}/messages`, { limit: 20, ...(cursor ? { cursor } : {}) });
        expect(res.status).toBe(200);
        sizes.push(res.body.data.length);
        seen.push(...res.body.data);
        cursor = res.body.page.nextCursor;
        expect(res.body.page.hasMore).toBe(cursor !== null);
        // A new message is newer than every page still to come: it must not show up in them.
        if (sizes.length === 1) await send(ben, id, 'Llegó tarde');
      } while (cursor);
      expect(sizes).toEqual([20, 20, 5]);
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
      for (let i = 0; i < 25; i++) await send(ana, id, `Mensaje ${i}`);
      const all = ((await as(ben).get(`/conversations/${id}/messages`, { limit: 100 })).body.data as Message[]).reverse();
      const from = all[4]!;

      const pages: Message[][] = [];
      let res = await as(ben).get(`/conversations/${id}/messages`, { after: from.id, limit: 8 });
      pages.push(res.body.data);
      while (res.body.page.nextCursor) {
        const link = /^<([^>]+)>; rel="next"$/.exec(res.headers.link ?? '')![1]!;
        expect(link).toContain(`after=${from.id}`);
        res = await request(test.app).get(link).set('Authorization', `Bearer ${ben.token}`);
        expect(res.status).toBe(200);
        pages.push(res.body.data);
      }
      expect(pages.map((p) => p.length)).toEqual([8, 8, 4]);
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
      const { messaging } = test.services;

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

    it('send answers whether it stored, and membership, members, conversations and contacts are queryable', async () => {
      const [ana, ben, cai, eve] = [await dancer(), await dancer(), await dancer(), await dancer()];
      const direct = await conversation(ana, [ben]);
      const group = await conversation(ben, [cai, ana], 'group');
      const { messaging } = test.services;

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
      expect(await messaging.contactsOf(ana.id)).toEqual([ben.id, cai.id].sort());
      expect(await messaging.contactsOf(cai.id)).toEqual([ana.id, ben.id].sort());
      expect(await messaging.contactsOf(eve.id)).toEqual([]);
    });
  });
});
