import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { NotifyInput } from '../../../server/services/notifications';
import { describeOnServerBackend } from '../../support/database';
import { type Dancer, useMessagingApp } from './messaging-fixture';

interface Item {
  id: string;
  kind: string;
  target: { type: string; id: string };
  actors: { id: string }[];
  actorCount: number;
  count: number;
  read: boolean;
}

/**
 * A message tells every other member of its conversation, through the notifications they list
 * and the `notification:new` pushed to them: once per member, collapsed per conversation, never
 * to the sender, to a member who muted the conversation or is across a block, nor for a resend.
 */
describeOnServerBackend('message notifications', (backend) => {
  const fx = useMessagingApp(backend);
  const { dancer, as, conversation, send, recorded } = fx;

  async function notifications(who: Dancer): Promise<Item[]> {
    const res = await as(who).get('/notifications', { limit: 100 });
    expect(res.status).toBe(200);
    return res.body.data;
  }
  const put = (who: Dancer, path: string) => request(fx.app).put(`/api/v1${path}`).set('Authorization', `Bearer ${who.token}`);
  const unread = async (who: Dancer) => (await as(who).get('/notifications/unread-count')).body.data.count as number;
  /** The notification:new pushes to a user since `from` (an index into what was recorded). */
  const pushedTo = (who: Dancer, from = 0) =>
    recorded
      .slice(from)
      .filter((r) => r.event === 'notification:new' && r.userIds.includes(who.id))
      .map((r) => r.payload as { notification: Item; unreadCount: number });

  it('every other member is told once per message, the sender nothing; pushed as it is listed', async () => {
    const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
    const group = await conversation(ana, [ben, cai]);
    const from = recorded.length;
    await send(ana, group.id, 'Hola a todos');
    for (const who of [ben, cai]) {
      const items = await notifications(who);
      expect(items).toEqual([
        expect.objectContaining({
          kind: 'message',
          target: { type: 'conversation', id: group.id },
          actors: [expect.objectContaining({ id: ana.id })],
          actorCount: 1,
          count: 1,
          read: false,
        }),
      ]);
      expect(pushedTo(who, from)).toEqual([{ notification: items[0], unreadCount: 1 }]);
    }
    expect(await notifications(ana)).toEqual([]);
    expect(pushedTo(ana, from)).toEqual([]);
    // Each push goes to its one recipient.
    expect(
      recorded
        .slice(from)
        .filter((r) => r.event === 'notification:new')
        .map((r) => r.userIds.length),
    ).toEqual([1, 1]);
  });

  it('messages collapse into one item per conversation while unread; another conversation is another item', async () => {
    const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
    const group = await conversation(ana, [ben, cai]);
    const direct = await conversation(ana, [ben]);
    for (const body of ['Uno', 'Dos', 'Tres']) await send(ana, group.id, body);
    await send(cai, group.id, 'Cuatro');
    const items = await notifications(ben);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ target: { id: group.id }, actorCount: 2, count: 4 });
    expect(items[0]!.actors.map((a) => a.id)).toEqual([cai.id, ana.id]);

    await send(ana, direct.id, 'Solo para ti');
    expect((await notifications(ben)).map((i) => [i.target.id, i.count])).toEqual([
      [direct.id, 1],
      [group.id, 4],
    ]);
    expect(await unread(ben)).toBe(2);
    // Read, the next message starts a new item.
    expect((await as(ben).post(`/notifications/${items[0]!.id}/read`, {})).status).toBe(200);
    await send(cai, group.id, 'Cinco');
    expect((await notifications(ben)).map((i) => [i.target.id, i.count, i.read])).toEqual([
      [group.id, 1, false],
      [direct.id, 1, false],
      [group.id, 4, true],
    ]);
  });

  it('a member who muted the conversation is told nothing, stored or pushed; the others still are', async () => {
    const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
    const group = await conversation(ana, [ben, cai]);
    expect((await put(ben, `/conversations/${group.id}/mute`)).status).toBe(200);
    const from = recorded.length;
    await send(ana, group.id, 'Nadie me oye');
    expect(await notifications(ben)).toEqual([]);
    expect(pushedTo(ben, from)).toEqual([]);
    expect(await notifications(cai)).toHaveLength(1);
  });

  it('a member across a block with the sender is told nothing, not even message:new; the rest of the group is', async () => {
    const [ana, ben, cai] = [await dancer(), await dancer(), await dancer()];
    const group = await conversation(ana, [ben, cai]);
    expect((await put(ben, `/blocks/${ana.id}`)).status).toBeLessThan(300);
    const from = recorded.length;
    const message = await send(ana, group.id, 'Hola grupo');
    expect(await notifications(ben)).toEqual([]);
    expect(pushedTo(ben, from)).toEqual([]);
    expect(await notifications(cai)).toHaveLength(1);
    expect(
      fx
        .eventsFor('message:new', (p) => p.id === message.id)
        .flatMap((r) => r.userIds)
        .sort(),
    ).toEqual([ana.id, cai.id].sort());
  });

  it('a resend of the same clientKey notifies nobody again (its message:new goes again), nor does a refused send', async () => {
    const [ana, ben, eve] = [await dancer(), await dancer(), await dancer()];
    const direct = await conversation(ana, [ben]);
    const clientKey = randomUUID();
    await send(ana, direct.id, 'Una vez', clientKey);
    const from = recorded.length;
    const again = await as(ana).post(`/conversations/${direct.id}/messages`, { clientKey, body: 'Una vez' });
    expect(again.status).toBe(201);
    const intruder = await as(eve).post(`/conversations/${direct.id}/messages`, { clientKey: randomUUID(), body: 'Intrusa' });
    expect(intruder.status).toBe(403);
    // The message again (the instance that stored it may have died before telling anyone), no notification.
    expect(recorded.slice(from).map((r) => [r.event, r.payload.id])).toEqual([['message:new', again.body.data.id]]);
    expect((await notifications(ben)).map((i) => [i.count, i.actorCount])).toEqual([[1, 1]]);
  });

  describe('notifyMany', () => {
    it('applies notify’s rules to each input in a batch, answers in order, and collapses repeats of one item', async () => {
      const [ana, ben, cai, dia] = [await dancer(), await dancer(), await dancer(), await dancer()];
      const group = await conversation(ana, [ben, cai]);
      const target = { type: 'conversation' as const, id: group.id };
      const message = (userId: string, actorId: string): NotifyInput => ({ userId, actorId, kind: 'message', target });
      const from = recorded.length;
      const made = await fx.services.notifications.notifyMany([
        message(ben.id, ana.id),
        message(ana.id, ana.id), // one's own doing
        message(dia.id, ana.id), // not a member
        message(ben.id, cai.id), // the same item again, in the same batch
        { userId: cai.id, actorId: dia.id, kind: 'new_follower', target: { type: 'user', id: cai.id } },
      ]);
      expect(made.map((n) => n && [n.userId, n.notification.kind, n.notification.count])).toEqual([
        [ben.id, 'message', 1],
        null,
        null,
        [ben.id, 'message', 2],
        [cai.id, 'new_follower', 1],
      ]);
      const [item] = await notifications(ben);
      expect(item).toMatchObject({ count: 2, actorCount: 2 });
      expect(item!.actors.map((a) => a.id)).toEqual([cai.id, ana.id]);
      expect(pushedTo(ben, from).map((p) => p.notification.count)).toEqual([1, 2]);
      expect(await fx.services.notifications.notifyMany([])).toEqual([]);
    });

    it('tells every member of a large group in one call', async () => {
      const sender = await dancer();
      const members = await Promise.all(Array.from({ length: 60 }, () => dancer()));
      const { conversation: group } = await fx.services.messaging.createConversation({
        creatorId: sender.id,
        kind: 'group',
        memberIds: members.map((m) => m.id),
        title: 'Festival',
      });
      const from = recorded.length;
      await send(sender, group.id, 'Bienvenidos');
      const told = recorded.slice(from).filter((r) => r.event === 'notification:new');
      expect(told.flatMap((r) => r.userIds).sort()).toEqual(members.map((m) => m.id).sort());
      expect(await unread(members[59]!)).toBe(1);
    });
  });
});
