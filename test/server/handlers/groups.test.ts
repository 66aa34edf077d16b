import { randomUUID } from 'node:crypto';
import { and, count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import { conversationMembers, groupMembers } from '../../../server/db/schema';
import { createTestApp } from '../../support/app';
import { type Dancer, dancersOf } from '../../support/dancers';
import { describeOnServerBackend } from '../../support/database';

interface Group {
  id: string;
  name: string;
  visibility: string;
  memberCount: number;
  myRole: string | null;
  myRequest: string | null;
  conversationId: string | null;
}

const hour = 3_600_000;

describeOnServerBackend('groups API', (backend) => {
  let database: Database;
  let test: Awaited<ReturnType<typeof createTestApp>>;

  beforeAll(async () => {
    database = await backend.open();
    test = await createTestApp(database);
  });
  afterAll(async () => {
    await test.close();
    await database.close();
  });

  const { dancer, dancers, as } = dancersOf(() => test);

  async function group(owner: Dancer, overrides: object = {}): Promise<Group> {
    const res = await as(owner).post('/groups', {
      name: `Milonga club ${randomUUID().slice(0, 6)}`,
      kind: 'community',
      city: 'Berlin',
      visibility: 'public',
      ...overrides,
    });
    expect(res.status).toBe(201);
    return res.body.data;
  }

  const view = async (who: Dancer | null, groupId: string): Promise<Group> => (await as(who).get(`/groups/${groupId}`)).body.data;
  const join = (who: Dancer, groupId: string) => as(who).put(`/groups/${groupId}/membership`);
  const members = async (who: Dancer | null, groupId: string, query: Record<string, string> = {}) => {
    const res = await as(who).get(`/groups/${groupId}/members`, { limit: 100, ...query });
    expect(res.status).toBe(200);
    return (res.body.data as { user: { id: string }; role: string }[]).map((m) => `${m.user.id}:${m.role}`);
  };
  const notificationsOf = async (who: Dancer) =>
    (await as(who).get('/notifications')).body.data as { kind: string; target: { type: string; id: string }; actors: { id: string }[] }[];
  const inConversation = async (groupId: string, userId: string) => {
    const [{ conversationId }] = (
      await database.db.execute<{ conversationId: string }>(
        // The group's conversation, read directly: a former member's view of the group shows none.
        `SELECT id AS "conversationId" FROM conversations WHERE group_id = '${groupId}'`,
      )
    ).rows as [{ conversationId: string }];
    const [row] = await database.db
      .select({ n: count() })
      .from(conversationMembers)
      .where(and(eq(conversationMembers.conversationId, conversationId), eq(conversationMembers.userId, userId)));
    return row!.n === 1;
  };

  describe('create, read, update, delete', () => {
    it('the creator owns the new group and its conversation; signed out, the profile shows without either', async () => {
      const owner = await dancer();
      const created = await group(owner, { name: 'Tango Queer Berlin', description: 'Role-free practicas' });
      expect(created).toMatchObject({ name: 'Tango Queer Berlin', memberCount: 1, myRole: 'owner', myRequest: null });
      expect(created.conversationId).toEqual(expect.any(String));
      const conversation = await as(owner).get(`/conversations/${created.conversationId}`);
      expect(conversation.status).toBe(200);
      expect(conversation.body.data).toMatchObject({ kind: 'group', title: 'Tango Queer Berlin', memberIds: [owner.id] });

      expect(await view(null, created.id)).toMatchObject({ memberCount: 1, myRole: null, conversationId: null });
      expect((await as(null).get(`/groups/${randomUUID()}`)).status).toBe(404);
    });

    it('owner and admins change it, members may not; only the owner deletes it, and its conversation goes too', async () => {
      const [owner, admin, member] = await dancers(3);
      const { id, conversationId } = await group(owner);
      await join(admin, id);
      await join(member, id);
      await as(owner).put(`/groups/${id}/members/${admin.id}/role`, { role: 'admin' });

      expect((await as(member).patch(`/groups/${id}`, { name: 'Hijacked' })).body.code).toBe('FORBIDDEN');
      const renamed = await as(admin).patch(`/groups/${id}`, { name: 'La Viruta', city: null });
      expect(renamed.status).toBe(200);
      expect(renamed.body.data).toMatchObject({ name: 'La Viruta', city: null, myRole: 'admin' });
      expect((await as(owner).get(`/conversations/${conversationId}`)).body.data.title).toBe('La Viruta');

      expect((await as(admin).delete(`/groups/${id}`)).status).toBe(403);
      expect((await as(owner).delete(`/groups/${id}`)).status).toBe(204);
      expect((await as(owner).get(`/groups/${id}`)).status).toBe(404);
      expect((await as(owner).get(`/conversations/${conversationId}`)).status).toBe(404);
      expect((await as(owner).delete(`/groups/${id}`)).status).toBe(404);
    });

    it('finds groups by part of the name, city and kind, newest first; my groups are those I am in', async () => {
      const [owner, ana] = await dancers(2);
      const tag = randomUUID().slice(0, 8);
      const school = await group(owner, { name: `Escuela ${tag} Norte`, kind: 'school', city: 'Rosario' });
      const orchestra = await group(owner, { name: `Orquesta ${tag}`, kind: 'orchestra', city: 'rosario', visibility: 'private' });
      const other = await group(owner, { name: `Escuela ${tag} Sur`, kind: 'school', city: 'Córdoba' });
      const ids = async (query: Record<string, string>) =>
        ((await as(ana).get('/groups', { limit: 100, ...query })).body.data as Group[]).map((g) => g.id);

      expect(await ids({ q: tag.toUpperCase() })).toEqual([other.id, orchestra.id, school.id]);
      expect(await ids({ q: tag, city: 'ROSARIO' })).toEqual([orchestra.id, school.id]);
      expect(await ids({ q: tag, kind: 'school' })).toEqual([other.id, school.id]);
      // LIKE's wildcards are plain characters in a search.
      expect(await ids({ q: `${tag}%` })).toEqual([]);

      await join(ana, school.id);
      await join(ana, other.id);
      const mine = (await as(ana).get('/users/me/groups')).body.data as Group[];
      expect(mine.map((g) => [g.id, g.myRole])).toEqual([
        [other.id, 'member'],
        [school.id, 'member'],
      ]);
    });
  });

  describe('public groups', () => {
    it('joining makes a member at once, in the conversation; leaving takes them out of both', async () => {
      const [owner, ana] = await dancers(2);
      const { id, conversationId } = await group(owner);
      const joined = await join(ana, id);
      expect(joined.status).toBe(200);
      expect(joined.body.data).toMatchObject({ status: 'member', role: 'member' });
      // Joining again answers the same membership.
      expect((await join(ana, id)).body.data).toEqual(joined.body.data);
      expect(await view(ana, id)).toMatchObject({ memberCount: 2, myRole: 'member', conversationId });
      const sent = await as(ana).post(`/conversations/${conversationId}/messages`, { clientKey: randomUUID(), body: '¡Hola a todos!' });
      expect(sent.status).toBe(201);
      expect(await members(null, id)).toEqual([`${ana.id}:member`, `${owner.id}:owner`]);

      expect((await as(ana).delete(`/groups/${id}/membership`)).status).toBe(204);
      expect((await as(ana).delete(`/groups/${id}/membership`)).status).toBe(204);
      expect(await view(ana, id)).toMatchObject({ memberCount: 1, myRole: null, conversationId: null });
      expect(await inConversation(id, ana.id)).toBe(false);
      expect((await as(ana).get(`/conversations/${conversationId}`)).status).toBe(403);
    });

    it('the owner cannot leave until someone else owns the group', async () => {
      const [owner, ana] = await dancers(2);
      const { id } = await group(owner);
      const refused = await as(owner).delete(`/groups/${id}/membership`);
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('OWNER_CANNOT_LEAVE');

      await join(ana, id);
      const handed = await as(owner).put(`/groups/${id}/members/${ana.id}/role`, { role: 'owner' });
      expect(handed.status).toBe(200);
      expect(handed.body.data).toMatchObject({ user: { id: ana.id }, role: 'owner' });
      expect(await members(ana, id)).toEqual([`${ana.id}:owner`, `${owner.id}:admin`]);
      expect((await as(owner).delete(`/groups/${id}/membership`)).status).toBe(204);
      expect(await members(ana, id)).toEqual([`${ana.id}:owner`]);
    });

    it('twenty people joining at once make twenty members, each once', async () => {
      const owner = await dancer();
      const { id } = await group(owner);
      const crowd = await dancers(20);
      const answers = await Promise.all([...crowd, ...crowd.slice(0, 5)].map((who) => join(who, id)));
      expect(answers.map((res) => res.status)).toEqual(answers.map(() => 200));
      const [stored] = await database.db.select({ n: count() }).from(groupMembers).where(eq(groupMembers.groupId, id));
      expect(stored!.n).toBe(21);
      expect((await view(owner, id)).memberCount).toBe(21);
    });
  });

  describe('private groups', () => {
    it('joining is a request the admins hear of; its members, events and conversation are for members only', async () => {
      const [owner, admin, ana] = await dancers(3);
      const { id, conversationId } = await group(owner, { visibility: 'private' });
      await as(owner).put(`/groups/${id}/invitations/${admin.id}`);
      await join(admin, id);
      await as(owner).put(`/groups/${id}/members/${admin.id}/role`, { role: 'admin' });

      const asked = await join(ana, id);
      expect(asked.body.data).toMatchObject({ status: 'requested', role: null });
      expect((await join(ana, id)).body.data).toEqual(asked.body.data);
      for (const who of [owner, admin]) {
        expect(await notificationsOf(who)).toContainEqual(
          expect.objectContaining({
            kind: 'group_join_request',
            target: { type: 'group', id },
            actors: [expect.objectContaining({ id: ana.id })],
          }),
        );
      }

      // The profile is public; what is inside is not.
      expect(await view(ana, id)).toMatchObject({
        visibility: 'private',
        memberCount: 2,
        myRole: null,
        myRequest: 'requested',
        conversationId: null,
      });
      for (const path of [`/groups/${id}/members`, `/groups/${id}/events`]) {
        for (const who of [ana, null]) {
          const res = await as(who).get(path);
          expect(res.status, `${path} as ${who ? 'a stranger' : 'signed out'}`).toBe(403);
          expect(res.body.code).toBe('FORBIDDEN');
        }
      }
      expect((await as(ana).get(`/conversations/${conversationId}`)).status).toBe(403);
      expect((await as(ana).get(`/groups/${id}/join-requests`)).status).toBe(403);

      const waiting = await as(admin).get(`/groups/${id}/join-requests`);
      expect(waiting.body.data.map((r: { user: { id: string } }) => r.user.id)).toEqual([ana.id]);
      const approved = await as(admin).post(`/groups/${id}/join-requests/${ana.id}/approve`);
      expect(approved.status).toBe(200);
      expect(approved.body.data).toMatchObject({ user: { id: ana.id }, role: 'member' });
      // Approving twice at once, or again, answers the same membership.
      const again = await Promise.all([
        as(owner).post(`/groups/${id}/join-requests/${ana.id}/approve`),
        as(admin).post(`/groups/${id}/join-requests/${ana.id}/approve`),
      ]);
      expect(again.map((res) => res.body.data.joinedAt)).toEqual([approved.body.data.joinedAt, approved.body.data.joinedAt]);
      expect(await notificationsOf(ana)).toContainEqual(
        expect.objectContaining({ kind: 'group_join_answered', target: { type: 'group', id } }),
      );
      expect(await view(ana, id)).toMatchObject({ memberCount: 3, myRole: 'member', myRequest: null, conversationId });
      expect((await as(ana).get(`/groups/${id}/members`)).status).toBe(200);
      expect((await as(admin).get(`/groups/${id}/join-requests`)).body.data).toEqual([]);
    });

    it('a rejected request is gone and its dancer told; an approval without a request is 404', async () => {
      const [owner, ana, ben] = await dancers(3);
      const { id } = await group(owner, { visibility: 'private' });
      await join(ana, id);
      expect((await as(owner).post(`/groups/${id}/join-requests/${ana.id}/reject`)).status).toBe(204);
      expect((await as(owner).post(`/groups/${id}/join-requests/${ana.id}/reject`)).status).toBe(204);
      expect(await notificationsOf(ana)).toContainEqual(
        expect.objectContaining({ kind: 'group_join_answered', target: { type: 'group', id } }),
      );
      expect(await view(ana, id)).toMatchObject({ myRole: null, myRequest: null });
      expect((await as(owner).post(`/groups/${id}/join-requests/${ben.id}/approve`)).status).toBe(404);
    });

    it('only admins invite; an invitation is notified, listed, taken by joining or declined by leaving', async () => {
      const [owner, member, ana, ben, cleo] = await dancers(5);
      const { id } = await group(owner, { visibility: 'private', name: 'Orquesta típica' });
      await as(owner).put(`/groups/${id}/invitations/${member.id}`);
      await join(member, id);
      expect((await as(member).put(`/groups/${id}/invitations/${ana.id}`)).status).toBe(403);

      const invited = await as(owner).put(`/groups/${id}/invitations/${ana.id}`);
      expect(invited.status).toBe(200);
      expect(invited.body.data.status).toBe('invited');
      expect((await as(owner).put(`/groups/${id}/invitations/${ana.id}`)).body.data).toEqual(invited.body.data);
      expect(await notificationsOf(ana)).toContainEqual(expect.objectContaining({ kind: 'group_invite', target: { type: 'group', id } }));
      const waiting = (await as(ana).get('/users/me/group-invitations')).body.data;
      expect(waiting).toEqual([
        expect.objectContaining({
          group: expect.objectContaining({ id, myRequest: 'invited' }),
          invitedBy: expect.objectContaining({ id: owner.id }),
        }),
      ]);
      expect((await join(ana, id)).body.data).toMatchObject({ status: 'member' });
      expect((await as(ana).get('/users/me/group-invitations')).body.data).toEqual([]);

      await as(owner).put(`/groups/${id}/invitations/${ben.id}`);
      expect((await as(ben).delete(`/groups/${id}/membership`)).status).toBe(204);
      expect(await view(ben, id)).toMatchObject({ myRole: null, myRequest: null });

      // Someone who had asked is let in by the invitation.
      await join(cleo, id);
      expect((await as(owner).put(`/groups/${id}/invitations/${cleo.id}`)).body.data.status).toBe('member');
      expect((await view(cleo, id)).myRole).toBe('member');
    });
  });

  describe('roles', () => {
    it('the owner alone changes roles; admins remove members but not admins', async () => {
      const [owner, admin, other, ana, ben] = await dancers(5);
      const { id } = await group(owner);
      for (const who of [admin, other, ana, ben]) await join(who, id);
      await as(owner).put(`/groups/${id}/members/${admin.id}/role`, { role: 'admin' });
      await as(owner).put(`/groups/${id}/members/${other.id}/role`, { role: 'admin' });

      expect((await as(admin).put(`/groups/${id}/members/${ana.id}/role`, { role: 'admin' })).status).toBe(403);
      expect((await as(ana).delete(`/groups/${id}/members/${ben.id}`)).status).toBe(403);
      expect((await as(admin).delete(`/groups/${id}/members/${other.id}`)).status).toBe(403);
      expect((await as(admin).delete(`/groups/${id}/members/${ana.id}`)).status).toBe(204);
      expect((await as(owner).delete(`/groups/${id}/members/${other.id}`)).status).toBe(204);
      expect((await as(owner).delete(`/groups/${id}/members/${randomUUID()}`)).status).toBe(204);
      expect((await as(owner).put(`/groups/${id}/members/${ana.id}/role`, { role: 'admin' })).status).toBe(404);
      expect((await as(owner).delete(`/groups/${id}/members/${owner.id}`)).body.code).toBe('CANNOT_TARGET_SELF');
      expect(await members(owner, id, { role: 'admin' })).toEqual([`${admin.id}:admin`]);
      expect(await members(owner, id)).toEqual([`${ben.id}:member`, `${admin.id}:admin`, `${owner.id}:owner`]);
      expect(await inConversation(id, ana.id)).toBe(false);
    });

    it('two hand-overs at once leave exactly one owner', async () => {
      const [owner, ana, ben] = await dancers(3);
      const { id } = await group(owner);
      await join(ana, id);
      await join(ben, id);
      const answers = await Promise.all([
        as(owner).put(`/groups/${id}/members/${ana.id}/role`, { role: 'owner' }),
        as(owner).put(`/groups/${id}/members/${ben.id}/role`, { role: 'owner' }),
      ]);
      expect(answers.map((res) => res.status).sort()).toEqual([200, 403]);
      expect((await members(owner, id, { role: 'owner' })).length).toBe(1);
    });
  });

  describe('blocks', () => {
    it('member lists and counts leave out people hidden by a block; inviting them is 404 as for nobody', async () => {
      const [owner, ana, ben] = await dancers(3);
      const { id } = await group(owner);
      await join(ana, id);
      await join(ben, id);
      await as(ben).put(`/blocks/${ana.id}`);

      expect(await members(ana, id)).toEqual([`${ana.id}:member`, `${owner.id}:owner`]);
      expect((await view(ana, id)).memberCount).toBe(2);
      expect((await view(owner, id)).memberCount).toBe(3);

      const hidden = await as(ben).put(`/groups/${id}/invitations/${ana.id}`);
      const missing = await as(ben).put(`/groups/${id}/invitations/${randomUUID()}`);
      expect([hidden.status, hidden.body.code, hidden.body.detail]).toEqual([missing.status, missing.body.code, missing.body.detail]);
      expect(hidden.status).toBe(404);
    });
  });

  describe('events of a group', () => {
    const upcoming = (overrides: object = {}) => ({
      title: 'Práctica del grupo',
      kind: 'practica',
      city: 'Berlin',
      startsAt: new Date(Date.now() + 24 * hour).toISOString(),
      endsAt: new Date(Date.now() + 27 * hour).toISOString(),
      ...overrides,
    });

    it('only its owner and admins create them; an unknown group is a field error', async () => {
      const [owner, member] = await dancers(2);
      const { id } = await group(owner);
      await join(member, id);
      const created = await as(owner).post('/events', upcoming({ groupId: id }));
      expect(created.status).toBe(201);
      expect(created.body.data.groupId).toBe(id);
      expect((await as(member).post('/events', upcoming({ groupId: id }))).status).toBe(403);
      const unknown = await as(owner).post('/events', upcoming({ groupId: randomUUID() }));
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors[0].path).toBe('/body/groupId');
      expect(((await as(null).get(`/groups/${id}/events`)).body.data as { id: string }[]).map((e) => e.id)).toEqual([created.body.data.id]);
    });

    it('a private group’s events are absent to anyone but its members, wherever events are read', async () => {
      const [owner, ana] = await dancers(2);
      const city = `Ciudad ${randomUUID().slice(0, 8)}`;
      const { id } = await group(owner, { visibility: 'private' });
      const event = (await as(owner).post('/events', upcoming({ groupId: id, city }))).body.data;

      for (const who of [ana, null]) {
        expect((await as(who).get(`/events/${event.id}`)).status).toBe(404);
        expect((await as(who).get('/events', { city })).body.data).toEqual([]);
      }
      const rsvp = await as(ana).put(`/events/${event.id}/rsvp`, { status: 'going' });
      const missing = await as(ana).put(`/events/${randomUUID()}/rsvp`, { status: 'going' });
      expect([rsvp.status, rsvp.body.detail]).toEqual([missing.status, missing.body.detail]);
      expect((await as(ana).get(`/events/${event.id}/attendees`)).status).toBe(404);
      expect((await as(ana).patch(`/events/${event.id}`, { title: 'Mine now' })).status).toBe(404);

      await as(owner).put(`/groups/${id}/invitations/${ana.id}`);
      await join(ana, id);
      expect((await as(ana).get(`/events/${event.id}`)).status).toBe(200);
      expect((await as(ana).get('/events', { city })).body.data.map((e: { id: string }) => e.id)).toEqual([event.id]);
      expect((await as(ana).put(`/events/${event.id}/rsvp`, { status: 'going' })).status).toBe(200);
      expect((await as(ana).get('/users/me/events')).body.data.map((e: { id: string }) => e.id)).toEqual([event.id]);
    });

    it('deleting the group cancels its events, and those who answered are told', async () => {
      const [owner, ana] = await dancers(2);
      const { id } = await group(owner);
      const event = (await as(owner).post('/events', upcoming({ groupId: id }))).body.data;
      await as(ana).put(`/events/${event.id}/rsvp`, { status: 'interested' });
      expect((await as(owner).delete(`/groups/${id}`)).status).toBe(204);
      expect((await as(ana).get(`/events/${event.id}`)).status).toBe(404);
      expect(await notificationsOf(ana)).toContainEqual(
        expect.objectContaining({
          kind: 'event_cancelled',
          target: { type: 'event', id: event.id },
          actors: [expect.objectContaining({ id: owner.id })],
        }),
      );
    });
  });

  describe('what leaving, blocking and closing a group take away', () => {
    const soon = () => ({
      title: 'Práctica',
      kind: 'practica',
      city: 'Berlin',
      startsAt: new Date(Date.now() + 24 * hour).toISOString(),
      endsAt: new Date(Date.now() + 27 * hour).toISOString(),
      capacity: 1,
    });

    it('a member removed from a private group loses their answers to its events, and the place is free again', async () => {
      const [owner, ana, ben] = await dancers(3);
      const { id } = await group(owner, { visibility: 'private' });
      for (const who of [ana, ben]) {
        await as(owner).put(`/groups/${id}/invitations/${who.id}`);
        await join(who, id);
      }
      const event = (await as(owner).post('/events', { ...soon(), groupId: id })).body.data;
      expect((await as(ana).put(`/events/${event.id}/rsvp`, { status: 'going' })).status).toBe(200);
      expect((await as(ben).put(`/events/${event.id}/rsvp`, { status: 'going' })).body.code).toBe('EVENT_FULL');
      await as(owner).delete(`/groups/${id}/members/${ana.id}`);
      expect((await as(owner).get(`/events/${event.id}`)).body.data.goingCount).toBe(0);
      expect((await as(ben).put(`/events/${event.id}/rsvp`, { status: 'going' })).status).toBe(200);
      expect((await as(ana).get('/users/me/events')).body.data).toEqual([]);
    });

    it('invitations lapse with their maker’s right to invite, and with a block between the two', async () => {
      const [owner, member, ana, ben, cleo] = await dancers(5);
      const { id } = await group(owner);
      await join(member, id);
      await as(member).put(`/groups/${id}/invitations/${ana.id}`);
      await as(member).put(`/groups/${id}/invitations/${ben.id}`);
      await as(owner).patch(`/groups/${id}`, { visibility: 'private' });
      // Ana's invitation came from a plain member: in a private group, joining is now a request.
      expect((await join(ana, id)).body.data.status).toBe('requested');
      await as(owner).put(`/groups/${id}/invitations/${cleo.id}`);
      await as(cleo).put(`/blocks/${owner.id}`);
      expect((await view(cleo, id)).myRequest).toBeNull();
      expect((await join(cleo, id)).body.data.status).toBe('requested');
      // A member who goes takes their invitations along.
      await as(owner).put(`/groups/${id}/members/${member.id}/role`, { role: 'admin' });
      await as(member).put(`/groups/${id}/invitations/${ben.id}`);
      await as(owner).delete(`/groups/${id}/members/${member.id}`);
      expect((await join(ben, id)).body.data.status).toBe('requested');
    });

    it('changing the role of someone hidden by a block is 404, as for someone who is no member', async () => {
      const [owner, hidden] = await dancers(2);
      const { id } = await group(owner);
      await join(hidden, id);
      await as(hidden).put(`/blocks/${owner.id}`);
      const refused = await as(owner).put(`/groups/${id}/members/${hidden.id}/role`, { role: 'owner' });
      const nobody = await as(owner).put(`/groups/${id}/members/${randomUUID()}/role`, { role: 'owner' });
      expect([refused.status, refused.body.detail]).toEqual([404, nobody.body.detail]);
      expect(await members(owner, id, { role: 'owner' })).toEqual([`${owner.id}:owner`]);
    });

    it('a group’s owner and admins change its events; an organizer who is no longer an admin does not', async () => {
      const [owner, admin] = await dancers(2);
      const { id } = await group(owner);
      await join(admin, id);
      await as(owner).put(`/groups/${id}/members/${admin.id}/role`, { role: 'admin' });
      const event = (await as(admin).post('/events', { ...soon(), groupId: id })).body.data;
      expect((await as(owner).patch(`/events/${event.id}`, { title: 'Del grupo' })).status).toBe(200);
      await as(owner).put(`/groups/${id}/members/${admin.id}/role`, { role: 'member' });
      expect((await as(admin).patch(`/events/${event.id}`, { title: 'Mía' })).status).toBe(403);
      expect((await as(admin).delete(`/events/${event.id}`)).status).toBe(403);
      expect((await as(owner).delete(`/events/${event.id}`)).status).toBe(204);
    });

    it('creating an event while its group is deleted never answers 500', async () => {
      for (let round = 0; round < 4; round++) {
        const owner = await dancer();
        const { id } = await group(owner);
        const [created, deleted] = await Promise.all([
          as(owner).post('/events', { ...soon(), groupId: id }),
          as(owner).delete(`/groups/${id}`),
        ]);
        expect(deleted.status).toBe(204);
        expect([201, 400]).toContain(created.status);
      }
    });
  });

  it('every write sends its per-user rate limit policy, and needs a signed-in user', async () => {
    const owner = await dancer();
    const { id } = await group(owner);
    const res = await as(owner).patch(`/groups/${id}`, { description: 'Sundays' });
    expect(res.headers['ratelimit-policy']).toMatch(/"group-writes";q=300;w=3600/);
    expect((await as(null).put(`/groups/${id}/membership`)).status).toBe(401);
    expect((await as(null).post('/groups', { name: 'x', kind: 'city', visibility: 'public' })).status).toBe(401);
  });
});
