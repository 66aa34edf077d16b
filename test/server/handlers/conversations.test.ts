import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { describeOnServerBackend } from '../../support/database';
import { useMessagingApp } from './messaging-fixture';

describeOnServerBackend('messages API: conversations', (backend) => {
  const fx = useMessagingApp(backend);
  const { recorded, dancer, as, conversation, send, storedMessages } = fx;

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
        readOnly: false,
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
        request(fx.app)
          .post('/api/v1/conversations')
          .send({ kind: 'direct', memberIds: [randomUUID()] }),
        request(fx.app).get('/api/v1/conversations'),
        request(fx.app).get(`/api/v1/conversations/${id}`),
        request(fx.app).get(`/api/v1/conversations/${id}/messages`),
        request(fx.app).post(`/api/v1/conversations/${id}/messages`).send({ clientKey: 'k', body: 'b' }),
        request(fx.app).post(`/api/v1/conversations/${id}/read`).send({ messageId: randomUUID() }),
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
      for (const partner of partners)
        await fx.services.messaging.createConversation({ creatorId: partner.id, kind: 'direct', memberIds: [me.id] });
      const all = (await as(me).get('/conversations', { limit: 100 })).body.data.map((c: { id: string }) => c.id);
      expect(all).toHaveLength(7);

      const seen: string[] = [];
      let res = await as(me).get('/conversations', { limit: 3 });
      const sizes = [res.body.data.length];
      seen.push(...res.body.data.map((c: { id: string }) => c.id));
      while (res.body.page.nextCursor) {
        const link = /^<([^>]+)>; rel="next"$/.exec(res.headers.link ?? '')![1]!;
        res = await request(fx.app).get(link).set('Authorization', `Bearer ${me.token}`);
        expect(res.status).toBe(200);
        sizes.push(res.body.data.length);
        seen.push(...res.body.data.map((c: { id: string }) => c.id));
      }
      expect(sizes).toEqual([3, 3, 1]);
      expect(seen).toEqual(all);
      expect(res.body.page).toEqual({ nextCursor: null, hasMore: false });
    });
  });
});
