import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connected, realtimeServerForFile, storedUser } from '../support/realtime';

/**
 * Being put in a conversation shares no presence: a stranger who starts a direct conversation with
 * someone, or joins a public group (and so its conversation), learns nothing of anyone's presence,
 * neither asked, pushed, nor listed in a room, until both of them have written in a conversation
 * that is not a group's own; in a group's conversation, not even then.
 *
 * That a push did not come is shown by a witness, a friend told in the same broadcast: once the
 * witness has it, any packet of that broadcast to another socket precedes the answer to a query
 * sent there afterwards.
 */
const file = realtimeServerForFile();

type User = Awaited<ReturnType<typeof storedUser>>;
type Device = ReturnType<User['device']>;
type Presence = { userId: string; status: string; lastSeenAt: string | null };

const person = () => storedUser(file.server);
const online = (user: { id: string }) => ({ userId: user.id, status: 'online', lastSeenAt: null });
const unseen = (user: { id: string }) => ({ userId: user.id, status: 'offline', lastSeenAt: null });

async function befriend(a: User, b: User) {
  await a.api.social.sendFriendRequest({ params: { userId: b.id } });
  await b.api.social.acceptFriendRequest({ params: { userId: a.id } });
}

async function write(user: User, conversationId: string) {
  await user.api.messages.sendMessage({ params: { conversationId }, body: { clientKey: randomUUID(), body: 'Hola' } });
}

async function seen(device: Device, user: { id: string }): Promise<Presence> {
  return (await device.emit('presence:query', { userIds: [user.id] })).users[0]!;
}

function pushesAbout(device: Device, user: { id: string }): Presence[] {
  const list: Presence[] = [];
  device.on('presence:update', (presence) => {
    if (presence.userId === user.id) list.push(presence);
  });
  return list;
}

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

async function device(user: User): Promise<Device> {
  const made = user.device();
  await connected(made);
  return made;
}

describe('a cold direct conversation', () => {
  it('shares nothing, asked, pushed or listed, until both wrote; then both ways', async () => {
    const [eve, vera, fede] = await Promise.all([person(), person(), person()]);
    await befriend(vera, fede);
    // Eve, a stranger, starts a conversation with Vera and says nothing.
    const { id } = await eve.api.messages.createConversation({ body: { kind: 'direct', memberIds: [vera.id] } });
    const room = `conversation:${id}`;
    const [evePhone, fedePhone] = [await device(eve), await device(fede)];
    await evePhone.join(room);
    const toEve = pushesAbout(evePhone, vera);

    const fedeHears = hears(fedePhone, vera, 'online');
    const veraPhone = await device(vera);
    await fedeHears;
    await veraPhone.join(room);
    expect(await seen(evePhone, vera)).toEqual(unseen(vera));
    expect(await seen(veraPhone, eve)).toEqual(unseen(eve));
    expect((await evePhone.emit('room:members', { room })).userIds).toEqual([eve.id]);
    expect((await veraPhone.emit('room:members', { room })).userIds).toEqual([vera.id]);
    expect(toEve).toEqual([]);

    // Eve writes, Vera does not answer: still nothing, and Vera's comings and goings are not Eve's to know.
    await write(eve, id);
    expect(await seen(evePhone, vera)).toEqual(unseen(vera));
    expect(await seen(veraPhone, eve)).toEqual(unseen(eve));
    const fedeHearsOffline = hears(fedePhone, vera, 'offline');
    veraPhone.close();
    await fedeHearsOffline;
    expect(await seen(evePhone, vera)).toEqual(unseen(vera));
    const fedeHearsOnline = hears(fedePhone, vera, 'online');
    const veraLaptop = await device(vera);
    await fedeHearsOnline;
    expect(await seen(evePhone, vera)).toEqual(unseen(vera));
    expect(toEve).toEqual([]);

    // Vera answers: from the next query and push on, they see each other.
    await write(vera, id);
    expect(await seen(evePhone, vera)).toEqual(online(vera));
    expect(await seen(veraLaptop, eve)).toEqual(online(eve));
    await veraLaptop.join(room);
    expect((await evePhone.emit('room:members', { room })).userIds).toEqual([eve.id, vera.id].sort());
    const eveHears = hears(evePhone, vera, 'offline');
    veraLaptop.close();
    expect(await eveHears).toEqual({ userId: vera.id, status: 'offline', lastSeenAt: expect.any(String) });
    [evePhone, fedePhone].forEach((phone) => phone.close());
  });
});

describe("a public group's conversation", () => {
  it('shares nothing with whoever joins, even once both wrote in it; the group room lists nobody else either', async () => {
    const [olga, eve, fede] = await Promise.all([person(), person(), person()]);
    await befriend(olga, fede);
    const group = await olga.api.groups.createGroup({ body: { name: 'Milonga abierta', kind: 'community', visibility: 'public' } });
    await eve.api.groups.joinGroup({ params: { groupId: group.id } });
    const { conversationId } = await eve.api.groups.getGroup({ params: { groupId: group.id } });
    expect(conversationId).toBe(group.conversationId);
    const { id } = await eve.api.messages.getConversation({ params: { conversationId: conversationId! } });
    await write(olga, id);
    await write(eve, id);
    expect((await eve.api.messages.listMessages({ params: { conversationId: id }, query: {} })).data).toHaveLength(2);

    const [evePhone, fedePhone] = [await device(eve), await device(fede)];
    const toEve = pushesAbout(evePhone, olga);
    const fedeHears = hears(fedePhone, olga, 'online');
    const olgaPhone = await device(olga);
    await fedeHears;
    expect(await seen(evePhone, olga)).toEqual(unseen(olga));
    expect(await seen(olgaPhone, eve)).toEqual(unseen(eve));
    for (const room of [`conversation:${id}`, `group:${group.id}`]) {
      await evePhone.join(room);
      await olgaPhone.join(room);
      expect((await evePhone.emit('room:members', { room })).userIds).toEqual([eve.id]);
      expect((await olgaPhone.emit('room:members', { room })).userIds).toEqual([olga.id]);
    }

    const fedeHearsOffline = hears(fedePhone, olga, 'offline');
    olgaPhone.close();
    await fedeHearsOffline;
    expect(await seen(evePhone, olga)).toEqual(unseen(olga));
    expect(toEve).toEqual([]);
    [evePhone, fedePhone].forEach((phone) => phone.close());
  });
});
