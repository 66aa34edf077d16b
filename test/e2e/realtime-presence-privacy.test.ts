import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connected, contacts, next, realtimeServerForFile, signUp } from '../support/realtime';

/**
 * Who is online is shared with friends and with the members of a conversation both have written
 * in, and with no one else: a stranger learns nothing, neither pushed nor asked. Starting a
 * conversation shares nothing; once both wrote in it, presence is shared both ways. Event rooms,
 * which anyone signed in may join, do not list who is in them. test/e2e/realtime-presence-rules.test.ts
 * covers every rule, test/e2e/realtime-presence-cold.test.ts cold conversations and groups'.
 */
const file = realtimeServerForFile();

type Person = Awaited<ReturnType<typeof signUp>>;
/** A message from `who` in the conversation: once both members wrote, they see each other. */
const write = (who: Person, conversationId: string) =>
  who.api.messages.sendMessage({ params: { conversationId }, body: { clientKey: randomUUID(), body: 'Hola' } });

describe('presence between strangers', () => {
  it('a stranger is told nothing and reads offline, never seen; a conversation shares presence both ways once both wrote', async () => {
    const [ana, ben, carla] = await Promise.all([signUp(file.server.url), signUp(file.server.url), signUp(file.server.url)]);
    // Carla talks with Ben: when she hears he came online, the push was decided for everyone.
    const talk = await carla.api.messages.createConversation({ body: { kind: 'direct', memberIds: [ben.id] } });
    await write(carla, talk.id);
    await write(ben, talk.id);

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
    expect((await benPhone.emit('presence:query', { userIds: [ana.id] })).users).toEqual([
      { userId: ana.id, status: 'offline', lastSeenAt: null },
    ]);

    // Ana starts a conversation with Ben and writes: he has not answered, and neither sees the other.
    const started = await ana.api.messages.createConversation({ body: { kind: 'direct', memberIds: [ben.id] } });
    await write(ana, started.id);
    expect((await anaPhone.emit('presence:query', { userIds: [ben.id] })).users).toEqual([
      { userId: ben.id, status: 'offline', lastSeenAt: null },
    ]);
    expect((await benPhone.emit('presence:query', { userIds: [ana.id] })).users).toEqual([
      { userId: ana.id, status: 'offline', lastSeenAt: null },
    ]);
    expect(toAna).toEqual([]);

    // Ben answers: now they see each other.
    await write(ben, started.id);
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
});

describe('room:members of a conversation', () => {
  it('lists the members who talk with who asks (both wrote), not one silent, behind a block, or hiding', async () => {
    const url = file.server.url;
    const [ana, ben, carla, dario] = await Promise.all([signUp(url), signUp(url), signUp(url), signUp(url)]);
    const group = await ana.api.messages.createConversation({
      body: { kind: 'group', memberIds: [ben.id, carla.id, dario.id], title: 'Práctica' },
    });
    const room = `conversation:${group.id}`;
    const devices = [ana.device(), ben.device(), carla.device(), dario.device()];
    await Promise.all(devices.map(connected));
    for (const device of devices) await device.join(room);
    const [anaPhone, benPhone, carlaPhone, darioPhone] = devices as [
      (typeof devices)[0],
      (typeof devices)[0],
      (typeof devices)[0],
      (typeof devices)[0],
    ];
    const members = async (device: (typeof devices)[0]) => (await device.emit('room:members', { room })).userIds;

    // Nobody has written: every member sees only themself.
    expect(await members(anaPhone)).toEqual([ana.id]);
    expect(await members(benPhone)).toEqual([ben.id]);
    // Everyone but Dario has: the writers see each other, Dario sees only himself, and nobody sees him.
    for (const who of [ana, ben, carla]) await write(who, group.id);
    expect(await members(anaPhone)).toEqual([ana.id, ben.id, carla.id].sort());
    expect(await members(darioPhone)).toEqual([dario.id]);
    // Once he writes, every member sees every other.
    await write(dario, group.id);
    const everyone = [ana.id, ben.id, carla.id, dario.id].sort();
    for (const device of devices) expect(await members(device)).toEqual(everyone);

    await ana.api.social.blockUser({ params: { userId: carla.id } });
    await dario.api.users.updateMe({ body: { showPresence: false } });
    expect(await members(anaPhone)).toEqual([ana.id, ben.id].sort());
    expect(await members(carlaPhone)).toEqual([ben.id, carla.id].sort());
    expect(await members(benPhone)).toEqual([ana.id, ben.id, carla.id].sort());
    // Hiding oneself hides nobody else.
    expect(await members(darioPhone)).toEqual(everyone);
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
