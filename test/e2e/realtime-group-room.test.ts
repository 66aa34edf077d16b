import { expect, it } from 'vitest';
import { connected, realtimeServerForFile, signUp } from '../support/realtime';

/** A group's room takes its members only, public group or private, and lets a member who left go. */
const file = realtimeServerForFile();

it('group:{id} admits members only; someone who leaves is taken out at once, and refused after', async () => {
  const [owner, ana, eve] = await Promise.all([signUp(file.server.url), signUp(file.server.url), signUp(file.server.url)]);
  const group = await owner.api.groups.createGroup({ body: { name: 'Milonga del barrio', kind: 'city', visibility: 'public' } });
  await ana.api.groups.joinGroup({ params: { groupId: group.id } });
  const [ownerPhone, anaPhone, evePhone] = [owner.device(), ana.device(), eve.device()];
  await Promise.all([ownerPhone, anaPhone, evePhone].map(connected));
  try {
    await ownerPhone.join(`group:${group.id}`);
    await anaPhone.join(`group:${group.id}`);
    // Anyone may see a public group's members over REST, but its room is for the people in it.
    await expect(evePhone.join(`group:${group.id}`)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(evePhone.join('group:not-a-uuid')).rejects.toMatchObject({ code: 'FORBIDDEN' });

    await ana.api.groups.leaveGroup({ params: { groupId: group.id } });
    // Out of the room on leaving, without asking: the server's own view of who is in it.
    const inRoom = await file.server.realtime.io.in(`group:${group.id}`).fetchSockets();
    expect(inRoom.map((socket) => (socket.data.user as { id: string }).id)).toEqual([owner.id]);
    await expect(anaPhone.join(`group:${group.id}`)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // The connection stays up after a refused join.
    expect(evePhone.socket.connected).toBe(true);
  } finally {
    for (const phone of [ownerPhone, anaPhone, evePhone]) phone.close();
  }
});
