import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connected, next, realtimeServerForFile, signUp } from '../support/realtime';

/** notification:new over real sockets: what a recipient's devices receive, and what nobody else does. */
const file = realtimeServerForFile();

describe('notification:new over the socket', () => {
  it('reaches every device of the recipient, collapsed items again as they now stand, and no one else', async () => {
    const [ana, ben, cai] = await Promise.all([signUp(file.server.url), signUp(file.server.url), signUp(file.server.url)]);
    const anaPhone = ana.device();
    const anaLaptop = ana.device();
    const benPhone = ben.device();
    await Promise.all([anaPhone, anaLaptop, benPhone].map(connected));
    const toBen: unknown[] = [];
    benPhone.on('notification:new', (payload) => toBen.push(payload));

    const follow = (by: { id: string }) =>
      file.server.services.notifications.notify({
        userId: ana.id,
        kind: 'new_follower',
        actorId: by.id,
        target: { type: 'user', id: ana.id },
      });
    const onPhone = next(anaPhone, 'notification:new');
    const onLaptop = next(anaLaptop, 'notification:new');
    await follow(ben);
    const [first, same] = [await onPhone, await onLaptop];
    expect(same).toEqual(first);
    expect(first).toMatchObject({
      unreadCount: 1,
      notification: { kind: 'new_follower', actorCount: 1, actors: [{ id: ben.id }], read: false },
    });

    const collapsed = next(anaPhone, 'notification:new');
    await follow(cai);
    const second = await collapsed;
    expect(second.notification.id).toBe(first.notification.id);
    expect(second).toMatchObject({ unreadCount: 1, notification: { actorCount: 2, actors: [{ id: cai.id }, { id: ben.id }] } });
    // What was pushed is what the list shows.
    const listed = await ana.api.notifications.listNotifications();
    expect(listed.data).toEqual([second.notification]);
    expect(toBen).toEqual([]);
    [anaPhone, anaLaptop, benPhone].forEach((device) => device.close());
  });

  it('a muted conversation’s message pushes nothing; an unmuted member’s device is told', async () => {
    const [ana, ben, cai] = await Promise.all([signUp(file.server.url), signUp(file.server.url), signUp(file.server.url)]);
    const conversation = await ana.api.messages.createConversation({
      body: { kind: 'group', title: 'Milonga', memberIds: [ben.id, cai.id] },
    });
    await ben.api.notifications.muteConversation({ params: { conversationId: conversation.id } });
    const benPhone = ben.device();
    const caiPhone = cai.device();
    await Promise.all([benPhone, caiPhone].map(connected));
    const toBen: unknown[] = [];
    benPhone.on('notification:new', (payload) => toBen.push(payload));

    const toCai = next(caiPhone, 'notification:new');
    const target = { type: 'conversation' as const, id: conversation.id };
    for (const member of [ben, cai]) {
      await file.server.services.notifications.notify({ userId: member.id, kind: 'message', actorId: ana.id, target });
    }
    expect(await toCai).toMatchObject({ notification: { kind: 'message', target, actors: [{ id: ana.id }] } });
    // One socket delivers in order: had Ben's message notification gone out, it would come before this.
    const invited = next(benPhone, 'notification:new');
    await file.server.services.notifications.notify({
      userId: ben.id,
      kind: 'group_invite',
      actorId: ana.id,
      target: { type: 'group', id: randomUUID() },
    });
    await invited;
    expect(toBen).toEqual([expect.objectContaining({ notification: expect.objectContaining({ kind: 'group_invite' }) })]);
    [benPhone, caiPhone].forEach((device) => device.close());
  });
});
