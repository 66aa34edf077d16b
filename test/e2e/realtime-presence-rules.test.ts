import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connected, realtimeServerForFile, storedUser } from '../support/realtime';

/**
 * The presence rules over real sockets and REST: a user's presence is seen by their accepted
 * friends and by the members of a conversation both of them have written in (never a group's own
 * conversation: test/e2e/realtime-presence-cold.test.ts), never across a block (either way), and
 * by nobody while they have `showPresence` off. Whoever may not see someone reads them as offline
 * and never seen, exactly as a user who never connected reads.
 *
 * That a push did not come is shown by a witness where there can be one: someone who is told in
 * the same broadcast; once the witness has it, any packet of that broadcast to another socket
 * precedes the answer to a query sent there afterwards.
 */
const file = realtimeServerForFile();

type User = Awaited<ReturnType<typeof storedUser>>;
type Device = ReturnType<User['device']>;
type Presence = { userId: string; status: string; lastSeenAt: string | null };

const person = () => storedUser(file.server);
const online = (user: { id: string }) => ({ userId: user.id, status: 'online', lastSeenAt: null });
/** What a user who may not be seen reads as, and what someone who never connected reads as. */
const unseen = (user: { id: string }) => ({ userId: user.id, status: 'offline', lastSeenAt: null });
const settle = (ms = 250) => new Promise((resolve) => setTimeout(resolve, ms));

async function befriend(a: User, b: User) {
  await a.api.social.sendFriendRequest({ params: { userId: b.id } });
  await b.api.social.acceptFriendRequest({ params: { userId: a.id } });
}

/** A message from `user` in the conversation: what, from both sides, makes it count for presence. */
async function write(user: User, conversationId: string) {
  await user.api.messages.sendMessage({ params: { conversationId }, body: { clientKey: randomUUID(), body: 'Hola' } });
}

async function seen(device: Device, user: { id: string }): Promise<Presence> {
  return (await device.emit('presence:query', { userIds: [user.id] })).users[0]!;
}

/** Every push about `user` that reaches the device from now on. */
function pushesAbout(device: Device, user: { id: string }): Presence[] {
  const list: Presence[] = [];
  device.on('presence:update', (presence) => {
    if (presence.userId === user.id) list.push(presence);
  });
  return list;
}

/** The next push that `user` is `status` to reach the device (or a rejection after 10 s). */
function hears(device: Device, user: { id: string }, status: 'online' | 'offline'): Promise<Presence> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no presence:update of ${user.id} ${status} within 10 s`));
    }, 10_000);
    const off = device.on('presence:update', (presence) => {
      if (presence.userId !== user.id || presence.status !== status) return;
      clearTimeout(timer);
      off();
      resolve(presence);
    });
  });
}

/** A connected device for each user, in order. */
async function devices<const T extends readonly User[]>(...users: T): Promise<{ [K in keyof T]: Device }> {
  const list = users.map((user) => user.device());
  await Promise.all(list.map(connected));
  return list as { [K in keyof T]: Device };
}

describe('friends', () => {
  it('an accepted friend sees presence, pushed and asked; a stranger, or someone only asked, reads as never seen', async () => {
    const [ana, ben, cai] = await Promise.all([person(), person(), person()]);
    await befriend(ana, ben);
    // A request waiting for an answer is no friendship.
    await cai.api.social.sendFriendRequest({ params: { userId: ben.id } });
    const [anaPhone, caiPhone] = await devices(ana, cai);
    const toCai = pushesAbout(caiPhone, ben);

    const anaHears = hears(anaPhone, ben, 'online');
    const [benPhone] = await devices(ben);
    expect(await anaHears).toEqual(online(ben));
    expect(await seen(anaPhone, ben)).toEqual(online(ben));
    const nobody = randomUUID();
    expect((await caiPhone.emit('presence:query', { userIds: [ben.id, nobody] })).users).toEqual([unseen(ben), unseen({ id: nobody })]);
    expect(toCai).toEqual([]);
    expect(await seen(benPhone, cai)).toEqual(unseen(cai));

    const anaHearsOffline = hears(anaPhone, ben, 'offline');
    benPhone.close();
    const offline = await anaHearsOffline;
    expect(offline).toEqual({ userId: ben.id, status: 'offline', lastSeenAt: expect.any(String) });
    expect(await seen(anaPhone, ben)).toEqual(offline);
    // When Ben was last seen is not Cai's to know either.
    expect(await seen(caiPhone, ben)).toEqual(unseen(ben));
    expect(toCai).toEqual([]);

    // An ended friendship counts from the next query on.
    await ben.api.social.unfriend({ params: { userId: ana.id } });
    expect(await seen(anaPhone, ben)).toEqual(unseen(ben));
    [anaPhone, caiPhone].forEach((device) => device.close());
  });
});

describe('conversations', () => {
  it('members of a conversation see each other once both wrote in it; being in it, or writing alone, is not enough', async () => {
    const [ana, ben, cai, dia] = await Promise.all([person(), person(), person(), person()]);
    const group = await ana.api.messages.createConversation({ body: { kind: 'group', title: 'Orquesta', memberIds: [ben.id, cai.id] } });
    const direct = await dia.api.messages.createConversation({ body: { kind: 'direct', memberIds: [ana.id] } });
    // Ana and Ben talk in the group, Cai listens; Dia writes to Ana, who does not answer.
    await write(ana, group.id);
    await write(ben, group.id);
    await write(dia, direct.id);
    const [anaPhone, benPhone, caiPhone, diaPhone] = await devices(ana, ben, cai, dia);
    expect((await anaPhone.emit('presence:query', { userIds: [ben.id, cai.id, dia.id] })).users).toEqual([
      online(ben),
      unseen(cai),
      unseen(dia),
    ]);
    expect((await benPhone.emit('presence:query', { userIds: [ana.id, cai.id, dia.id] })).users).toEqual([
      online(ana),
      unseen(cai),
      unseen(dia),
    ]);
    expect((await caiPhone.emit('presence:query', { userIds: [ana.id, ben.id] })).users).toEqual([unseen(ana), unseen(ben)]);
    expect((await diaPhone.emit('presence:query', { userIds: [ana.id, ben.id, cai.id, dia.id] })).users).toEqual([
      unseen(ana),
      unseen(ben),
      unseen(cai),
      online(dia),
    ]);

    // Cai writes too: from the next query and push on, the three see each other; Dia still sees none.
    await write(cai, group.id);
    expect((await caiPhone.emit('presence:query', { userIds: [ana.id, ben.id] })).users).toEqual([online(ana), online(ben)]);
    const toDia = pushesAbout(diaPhone, ben);
    const told = [hears(anaPhone, ben, 'offline'), hears(caiPhone, ben, 'offline')];
    benPhone.close();
    await Promise.all(told);
    expect(await seen(diaPhone, ben)).toEqual(unseen(ben));
    expect(toDia).toEqual([]);

    // Ana answers Dia: now they see each other.
    await write(ana, direct.id);
    expect(await seen(diaPhone, ana)).toEqual(online(ana));
    expect(await seen(anaPhone, dia)).toEqual(online(dia));
    [anaPhone, caiPhone, diaPhone].forEach((device) => device.close());
  });
});

describe('blocks', () => {
  it('a block hides presence both ways, over a friendship and a shared conversation, and stops further pushes', async () => {
    const [ana, ben, carla, dario] = await Promise.all([person(), person(), person(), person()]);
    await befriend(ana, ben);
    const direct = await ana.api.messages.createConversation({ body: { kind: 'direct', memberIds: [ben.id] } });
    await write(ana, direct.id);
    await write(ben, direct.id);
    // Witnesses: Carla is told about Ben, Dario about Ana.
    await befriend(ben, carla);
    await befriend(ana, dario);
    const [anaPhone, carlaPhone, darioPhone] = await devices(ana, carla, dario);
    const benArrives = [hears(anaPhone, ben, 'online'), hears(carlaPhone, ben, 'online')];
    const [benPhone] = await devices(ben);
    await Promise.all(benArrives);

    await ben.api.social.blockUser({ params: { userId: ana.id } });
    expect(await seen(anaPhone, ben)).toEqual(unseen(ben));
    expect(await seen(benPhone, ana)).toEqual(unseen(ana));

    const toAna = pushesAbout(anaPhone, ben);
    const carlaHearsOffline = hears(carlaPhone, ben, 'offline');
    benPhone.close();
    await carlaHearsOffline;
    expect(await seen(anaPhone, ben)).toEqual(unseen(ben));
    const carlaHearsOnline = hears(carlaPhone, ben, 'online');
    const [benLaptop] = await devices(ben);
    await carlaHearsOnline;
    expect(await seen(anaPhone, ben)).toEqual(unseen(ben));
    expect(toAna).toEqual([]);

    const toBen = pushesAbout(benLaptop, ana);
    const darioHears = hears(darioPhone, ana, 'offline');
    anaPhone.close();
    await darioHears;
    expect(await seen(benLaptop, ana)).toEqual(unseen(ana));
    expect(toBen).toEqual([]);
    [benLaptop, carlaPhone, darioPhone].forEach((device) => device.close());
  });
});

describe('showPresence', () => {
  it('off hides at once, pushing offline and never seen; on again pushes the current status', async () => {
    const [ana, ben] = await Promise.all([person(), person()]);
    await befriend(ana, ben);
    expect(await ben.api.users.getMe()).toMatchObject({ showPresence: true });
    const [anaPhone] = await devices(ana);
    const benArrives = hears(anaPhone, ben, 'online');
    const [benPhone] = await devices(ben);
    await benArrives;

    const hidden = hears(anaPhone, ben, 'offline');
    expect(await ben.api.users.updateMe({ body: { showPresence: false } })).toMatchObject({ showPresence: false });
    expect(await hidden).toEqual(unseen(ben));
    expect(await ben.api.users.getMe()).toMatchObject({ showPresence: false });
    expect(await seen(anaPhone, ben)).toEqual(unseen(ben));
    // Hiding oneself hides nobody else.
    expect(await seen(benPhone, ana)).toEqual(online(ana));

    // Coming and going while hidden, or saying so again, tells nobody.
    const toAna = pushesAbout(anaPhone, ben);
    benPhone.close();
    const [benLaptop] = await devices(ben);
    await ben.api.users.updateMe({ body: { showPresence: false, city: 'Rosario' } });
    await settle();
    expect(toAna).toEqual([]);
    expect(await seen(anaPhone, ben)).toEqual(unseen(ben));

    const shown = hears(anaPhone, ben, 'online');
    await ben.api.users.updateMe({ body: { showPresence: true } });
    expect(await shown).toEqual(online(ben));
    expect(await seen(anaPhone, ben)).toEqual(online(ben));

    // Turned on while offline: the current status is offline, last seen when the last device left.
    const hiddenAgain = hears(anaPhone, ben, 'offline');
    await ben.api.users.updateMe({ body: { showPresence: false } });
    await hiddenAgain;
    benLaptop.close();
    const ownView = async () => (await file.server.services.presence.query(ben.id, [ben.id]))[0]!.lastSeenAt;
    await expect.poll(ownView).toEqual(expect.any(String));
    const current = hears(anaPhone, ben, 'offline');
    await ben.api.users.updateMe({ body: { showPresence: true } });
    expect(await current).toEqual({ userId: ben.id, status: 'offline', lastSeenAt: await ownView() });
    expect(await seen(anaPhone, ben)).toEqual(await current);
    anaPhone.close();
  });
});
