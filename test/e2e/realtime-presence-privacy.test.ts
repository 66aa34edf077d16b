import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connected, contacts, next, realtimeServerForFile, signUp } from '../support/realtime';

/**
 * Who is online is shared only between contacts: people who have both written in one conversation.
 * Starting a conversation with someone does not make them a contact, and event rooms, which anyone
 * signed in may join, do not list who is in them.
 */
const file = realtimeServerForFile();

type User = Awaited<ReturnType<typeof signUp>>;
const say = (user: User, conversationId: string, body: string) =>
  user.api.messages.sendMessage({ params: { conversationId }, body: { clientKey: randomUUID(), body } });

describe('presence between people who are not contacts', () => {
  it('a one-sided conversation shares nothing, neither pushed nor asked; a reply makes them contacts', async () => {
    const ana = await signUp(file.server.url);
    const ben = await signUp(file.server.url);
    // Carla and Ben are contacts: when Carla hears Ben came online, the push was decided for everyone.
    const carla = await signUp(file.server.url);
    const withCarla = await carla.api.messages.createConversation({ body: { kind: 'direct', memberIds: [ben.id] } });
    await say(carla, withCarla.id, 'Hola Ben');
    await say(ben, withCarla.id, 'Hola Carla');
    const { id: conversationId } = await ana.api.messages.createConversation({ body: { kind: 'direct', memberIds: [ben.id] } });
    await say(ana, conversationId, '¿Me das una tanda?');

    const anaPhone = ana.device();
    const carlaPhone = carla.device();
    await Promise.all([anaPhone, carlaPhone].map(connected));
    const toAna: unknown[] = [];
    anaPhone.on('presence:update', (p) => toAna.push(p));

    const carlaHears = next(carlaPhone, 'presence:update');
    const benPhone = ben.device();
    await connected(benPhone);
    expect(await carlaHears).toEqual({ userId: ben.id, status: 'online', lastSeenAt: null });
    // Anything pushed to Ana before this answer would have reached her before it.
    expect((await anaPhone.emit('presence:query', { userIds: [ben.id] })).users).toEqual([
      { userId: ben.id, status: 'offline', lastSeenAt: null },
    ]);
    expect(toAna).toEqual([]);
    // Nor does Ben learn about Ana, whose conversation he has not answered.
    expect((await benPhone.emit('presence:query', { userIds: [ana.id] })).users).toEqual([
      { userId: ana.id, status: 'offline', lastSeenAt: null },
    ]);

    // Ben answers: now they are contacts, both ways.
    await say(ben, conversationId, 'Con gusto');
    expect((await anaPhone.emit('presence:query', { userIds: [ben.id] })).users).toEqual([
      { userId: ben.id, status: 'online', lastSeenAt: null },
    ]);
    expect((await benPhone.emit('presence:query', { userIds: [ana.id] })).users).toEqual([
      { userId: ana.id, status: 'online', lastSeenAt: null },
    ]);
    const offline = next(anaPhone, 'presence:update');
    benPhone.close();
    expect(await offline).toEqual({ userId: ben.id, status: 'offline', lastSeenAt: expect.any(String) });
    anaPhone.close();
    carlaPhone.close();
  });

  it('room:members of a conversation lists only the contacts of who asks', async () => {
    const [ana, ben, carla] = [await signUp(file.server.url), await signUp(file.server.url), await signUp(file.server.url)];
    const group = await ana.api.messages.createConversation({ body: { kind: 'group', memberIds: [ben.id, carla.id], title: 'Práctica' } });
    await say(ana, group.id, 'Hola a todos');
    await say(ben, group.id, 'Hola');
    const room = `conversation:${group.id}`;
    const devices = [ana.device(), ben.device(), carla.device()];
    await Promise.all(devices.map(connected));
    for (const device of devices) await device.join(room);
    const [anaPhone, benPhone, carlaPhone] = devices as [(typeof devices)[0], (typeof devices)[0], (typeof devices)[0]];

    expect((await anaPhone.emit('room:members', { room })).userIds).toEqual([ana.id, ben.id].sort());
    expect((await benPhone.emit('room:members', { room })).userIds).toEqual([ana.id, ben.id].sort());
    // Carla has not written: she is nobody's contact, and sees only herself.
    expect((await carlaPhone.emit('room:members', { room })).userIds).toEqual([carla.id]);
    devices.forEach((d) => d.close());
  });
});

describe('event rooms', () => {
  it('anyone signed in may join, but who is in the room is not listed: FORBIDDEN with a reason', async () => {
    const { ana, ben } = await contacts(file.server.url);
    const event = await ana.api.events.createEvent({
      body: {
        title: 'Milonga de prueba',
        kind: 'milonga',
        city: 'Buenos Aires',
        startsAt: '2027-03-04T22:00:00.000Z',
        endsAt: '2027-03-05T03:00:00.000Z',
      },
    });
    const stranger = await signUp(file.server.url);
    const devices = [ana.device(), ben.device(), stranger.device()];
    await Promise.all(devices.map(connected));
    const room = `event:${event.id}`;
    for (const device of devices) await device.join(room);

    for (const device of devices) {
      await expect(device.emit('room:members', { room })).rejects.toMatchObject({
        code: 'FORBIDDEN',
        message: expect.stringContaining('Event rooms do not list their members'),
      });
    }
    expect(devices.every((d) => d.connected)).toBe(true);
    devices.forEach((d) => d.close());
  });
});
