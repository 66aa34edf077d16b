import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { expect, it } from 'vitest';
import type { Message } from '../../../server/services/messaging';
import { describeOnServerBackend } from '../../support/database';
import { type Dancer, useMessagingApp } from './messaging-fixture';

/**
 * A block between two members of a group conversation (whoever blocked) leaves the conversation
 * writable for both, but each is blind to the other in it: not listed in `memberIds`, their
 * messages not in listMessages, `lastMessage` or `unreadCount` (one of their message ids reads as
 * unknown), and nothing real time from one reaches the other (`message:new`, `message:read`,
 * `message:delivered`, `message` notifications). Lifting the block shows everything again. Two
 * people with a block between them cannot be put in a new group conversation by a third: the later
 * named is refused as an unknown user.
 */
describeOnServerBackend('group conversations across a block', (backend) => {
  const fx = useMessagingApp(backend);
  const { dancer, as, conversation, send, recorded } = fx;

  const put = (who: Dancer, path: string) => request(fx.app).put(`/api/v1${path}`).set('Authorization', `Bearer ${who.token}`);
  const del = (who: Dancer, path: string) => request(fx.app).delete(`/api/v1${path}`).set('Authorization', `Bearer ${who.token}`);
  const block = async (blocker: Dancer, blocked: Dancer) => expect((await put(blocker, `/blocks/${blocked.id}`)).status).toBeLessThan(300);
  const sorted = (...who: Dancer[]) => who.map((w) => w.id).sort();
  const bodies = (messages: Message[]) => messages.map((m) => m.body);
  /** The real-time events of one kind sent since `from` (an index into what was recorded). */
  const sentSince = (from: number, event: string) => recorded.slice(from).filter((r) => r.event === event);
  /** A problem without what differs between any two requests. */
  const problem = (body: Record<string, unknown>) => {
    const { requestId: _requestId, ...rest } = body;
    return rest;
  };

  for (const direction of ['the one seeing blocked', 'the one seeing was blocked'] as const) {
    it(`a member does not see one across a block, nor their messages: members, messages, last and unread (${direction})`, async () => {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      const { id } = await conversation(ana, [ben, cai], 'group');
      await send(ana, id, 'uno');
      const dos = await send(ben, id, 'dos');
      const tres = await send(cai, id, 'tres');
      if (direction === 'the one seeing blocked') await block(ana, ben);
      else await block(ben, ana);
      const cuatro = await send(ben, id, 'cuatro');

      const messagesOf = async (who: Dancer, query: Record<string, string | number> = {}) => {
        const res = await as(who).get(`/conversations/${id}/messages`, query);
        expect(res.status).toBe(200);
        return bodies(res.body.data);
      };
      const viewOf = async (who: Dancer) => {
        const res = await as(who).get(`/conversations/${id}`);
        expect(res.status).toBe(200);
        const listed = await as(who).get('/conversations');
        expect(listed.body.data).toEqual([res.body.data]);
        return res.body.data as { memberIds: string[]; lastMessage: Message | null; unreadCount: number; readOnly: boolean };
      };

      // Ana sees Cai and herself, Cai's message and hers; her last message is Cai's, one unread.
      const anas = await viewOf(ana);
      expect([...anas.memberIds].sort()).toEqual(sorted(ana, cai));
      expect([anas.lastMessage, anas.unreadCount, anas.readOnly]).toEqual([tres, 1, false]);
      expect(await messagesOf(ana)).toEqual(['tres', 'uno']);
      const firstOfAna = (await as(ana).get(`/conversations/${id}/messages`, { limit: 1 })).body;
      expect(bodies(firstOfAna.data)).toEqual(['tres']);
      const secondOfAna = (await as(ana).get(`/conversations/${id}/messages`, { limit: 1, cursor: firstOfAna.page.nextCursor })).body;
      expect([bodies(secondOfAna.data), secondOfAna.page.hasMore]).toEqual([['uno'], false]);
      // Catching up from her own message skips Ben's; his message ids read as unknown, as a made-up one.
      const unoId = (await as(ana).get(`/conversations/${id}/messages`)).body.data[1].id as string;
      expect(await messagesOf(ana, { after: unoId })).toEqual(['tres']);
      for (const hidden of [dos.id, cuatro.id, randomUUID()]) {
        const after = await as(ana).get(`/conversations/${id}/messages`, { after: hidden });
        expect([after.status, after.body.errors]).toEqual([
          400,
          [{ path: '/query/after', code: 'unknown_message', message: 'No message with this id in this conversation' }],
        ]);
        const read = await as(ana).post(`/conversations/${id}/read`, { messageId: hidden });
        expect([read.status, read.body.errors]).toEqual([
          400,
          [{ path: '/body/messageId', code: 'unknown_message', message: 'No message with this id in this conversation' }],
        ]);
      }

      // Ben, the other way round.
      const bens = await viewOf(ben);
      expect([...bens.memberIds].sort()).toEqual(sorted(ben, cai));
      expect([bens.lastMessage, bens.unreadCount]).toEqual([cuatro, 1]);
      expect(await messagesOf(ben)).toEqual(['cuatro', 'tres', 'dos']);

      // Cai, with no block, sees everyone and everything.
      const cais = await viewOf(cai);
      expect([...cais.memberIds].sort()).toEqual(sorted(ana, ben, cai));
      expect([cais.lastMessage, cais.unreadCount]).toEqual([cuatro, 3]);
      expect(await messagesOf(cai)).toEqual(['cuatro', 'tres', 'dos', 'uno']);

      // Unblocked, Ana sees Ben and all of it again.
      if (direction === 'the one seeing blocked') expect((await del(ana, `/blocks/${ben.id}`)).status).toBeLessThan(300);
      else expect((await del(ben, `/blocks/${ana.id}`)).status).toBeLessThan(300);
      const again = await viewOf(ana);
      expect([...again.memberIds].sort()).toEqual(sorted(ana, ben, cai));
      expect([again.lastMessage, again.unreadCount]).toEqual([cuatro, 3]);
      expect(await messagesOf(ana)).toEqual(['cuatro', 'tres', 'dos', 'uno']);
    });
  }

  it('message:new, message:read, message:delivered and message notifications do not cross a block, whoever blocked', async () => {
    for (const blockedByAna of [true, false]) {
      const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
      const { id } = await conversation(cai, [ana, ben], 'group');
      if (blockedByAna) await block(ana, ben);
      else await block(ben, ana);

      let from = recorded.length;
      const fromBen = await send(ben, id, 'De Ben');
      expect(sentSince(from, 'message:new').map((r) => [...r.userIds].sort())).toEqual([sorted(ben, cai)]);
      // The notification service leaves Ana out: nothing stored for her, nothing pushed.
      expect(sentSince(from, 'notification:new').map((r) => r.userIds)).toEqual([[cai.id]]);
      const notified = async (who: Dancer) => (await as(who).get('/notifications')).body.data as { actors: { id: string }[] }[];
      expect(await notified(ana)).toEqual([]);
      expect((await notified(cai)).map((n) => n.actors.map((a) => a.id))).toEqual([[ben.id]]);

      from = recorded.length;
      const fromAna = await send(ana, id, 'De Ana');
      expect(sentSince(from, 'message:new').map((r) => [...r.userIds].sort())).toEqual([sorted(ana, cai)]);
      expect(await notified(ben)).toEqual([]);

      // Reading: Ana's receipt does not reach Ben, nor Ben's Ana.
      from = recorded.length;
      expect((await as(ana).post(`/conversations/${id}/read`, { messageId: fromAna.id })).status).toBe(200);
      expect((await as(ben).post(`/conversations/${id}/read`, { messageId: fromBen.id })).status).toBe(200);
      expect((await as(cai).post(`/conversations/${id}/read`, { messageId: fromAna.id })).status).toBe(200);
      expect(sentSince(from, 'message:read').map((r) => [(r.payload as { userId: string }).userId, [...r.userIds].sort()])).toEqual([
        [ana.id, sorted(ana, cai)],
        [ben.id, sorted(ben, cai)],
        [cai.id, sorted(ana, ben, cai)],
      ]);

      // Delivery: Ana cannot confirm a message she does not see; Cai's confirmation reaches Ben.
      const { messaging } = fx.services;
      from = recorded.length;
      await expect(messaging.markDelivered({ messageId: fromBen.id, userId: ana.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(messaging.markDelivered({ messageId: fromAna.id, userId: ben.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await messaging.markDelivered({ messageId: fromBen.id, userId: cai.id })).toBe(true);
      expect(sentSince(from, 'message:delivered').map((r) => r.userIds)).toEqual([[ben.id]]);
    }
  });

  it('a third person cannot put two people with a block between them in one group: the later named reads as unknown', async () => {
    const [ana, ben, cai, dia] = [await dancer(), await dancer(), await dancer(), await dancer()];
    await block(ben, ana);
    const unknown = randomUUID();
    const cases: [string[], string[], number[]][] = [
      [[ana.id, ben.id], [ana.id, unknown], [1]],
      [[ben.id, ana.id], [ben.id, unknown], [1]],
      [[ana.id, dia.id, ben.id], [ana.id, dia.id, unknown], [2]],
      [
        [ben.id, dia.id, ana.id, ana.id],
        [ben.id, dia.id, unknown, unknown],
        [2, 3],
      ],
    ];
    for (const [acrossBlock, withUnknown, indexes] of cases) {
      const [refused, missing] = [
        await as(cai).post('/conversations', { kind: 'group', title: 'Práctica', memberIds: acrossBlock }),
        await as(cai).post('/conversations', { kind: 'group', title: 'Práctica', memberIds: withUnknown }),
      ];
      expect(refused.status, JSON.stringify(acrossBlock)).toBe(400);
      expect(problem(refused.body)).toEqual(problem(missing.body));
      expect(refused.body).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: indexes.map((i) => ({ path: `/body/memberIds/${i}`, code: 'unknown_user', message: 'No user with this id' })),
      });
    }
    // Blocked the other way round, the same.
    const [eva, fede] = [await dancer(), await dancer()];
    await block(eva, fede);
    const refused = await as(cai).post('/conversations', { kind: 'group', memberIds: [eva.id, fede.id] });
    expect([refused.status, refused.body.errors]).toEqual([
      400,
      [{ path: '/body/memberIds/1', code: 'unknown_user', message: 'No user with this id' }],
    ]);
    expect((await as(cai).get('/conversations')).body.data).toEqual([]);

    // Each of them with others is fine, and so are the two apart.
    await conversation(cai, [ana, dia], 'group');
    await conversation(cai, [ben, dia], 'group');
    await conversation(cai, [ana]);
    await conversation(cai, [ben]);
    expect((await as(cai).get('/conversations')).body.data).toHaveLength(4);
  });
});
