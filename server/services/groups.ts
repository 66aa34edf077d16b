import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import { ApiError } from '../../runtime/server';
import type { AppDb, Tx } from '../db/database';
import { before, toPage, type PageKey, type Page } from '../db/keyset';
import {
  conversationMembers,
  conversations,
  eventRsvps,
  events,
  groupMembers,
  groupRequests,
  groups,
  users,
  type GroupKind,
  type GroupRole,
  type GroupVisibility,
} from '../db/schema';
import { type EventRecord, eventColumns } from './events';
import { type NotificationService, withNotifications } from './notifications';
import type { RealtimePort } from './realtime-port';
import { groupShown } from './hidden';
import { blockedEitherWay, blockPartners, visibleUser } from './social';
import type { UserRecord } from './users';

/**
 * Groups: their members and roles, join requests and invitations, and who may see what.
 *
 * - Roles: one `owner` (everything, the only one who changes roles or deletes), `admin`s (edit the
 *   group, answer join requests, remove members, create the group's events), `member`s.
 * - Visibility: every group's profile (name, description, counts) is listed and found by anyone;
 *   a private group's members, events and conversation are for its members (FORBIDDEN otherwise),
 *   and its events are absent (NOT_FOUND) to anyone else wherever events are read (`eventVisibleTo`).
 * - A group's conversation has the group's members: joining adds to it, leaving removes from it.
 * - Every write that changes membership locks the group's row first, so writes to one group run one
 *   at a time (two approvals, a role change and a removal at once stay consistent); the primary
 *   keys make repeated joins, requests and invitations one row.
 * - Blocks: lists leave out people hidden from the viewer (social.ts's rule), member counts do not
 *   count them, and inviting or approving someone hidden is NOT_FOUND as for an unknown user.
 */

export type GroupRecord = typeof groups.$inferSelect;

export interface GroupView {
  group: GroupRecord;
  memberCount: number;
  myRole: GroupRole | null;
  myRequest: 'requested' | 'invited' | null;
  conversationId: string | null;
}

export interface MemberRecord {
  user: UserRecord;
  role: GroupRole;
  joinedAt: Date;
}

export interface NewGroup {
  name: string;
  description?: string;
  kind: GroupKind;
  city?: string | null;
  visibility: GroupVisibility;
}

const notFound = () => new ApiError('NOT_FOUND', 'No group with this id');
const noSuchUser = () => new ApiError('NOT_FOUND', 'No user with this id');
const ADMINS: readonly GroupRole[] = ['owner', 'admin'];

/** True when the viewer may see the event: no group, a public group, or a group the viewer is in (and not hidden but from its owner). */
export function eventVisibleTo(viewerId: string | null): SQL {
  const member =
    viewerId === null
      ? sql`false`
      : sql`EXISTS (SELECT 1 FROM ${groupMembers} WHERE ${groupMembers.groupId} = ${events.groupId} AND ${groupMembers.userId} = ${viewerId})`;
  return sql`(${events.groupId} IS NULL
    OR ((EXISTS (SELECT 1 FROM ${groups} WHERE ${groups.id} = ${events.groupId} AND ${groups.visibility} = 'public') OR ${member})
      AND ${groupShown(viewerId, events.groupId)}))`;
}

/** A hidden group (0018_sanctions.sql) is its owner's to see only. */
function groupShownTo(viewerId: string | null): SQL {
  return groupShown(viewerId, sql`"groups"."id"`);
}

/**
 * A group's columns with what the viewer's relation to it adds; signed out (null), none. Drizzle
 * writes the columns of a one-table select unqualified, so the subqueries name every column with
 * its table: an unqualified "id" inside them would mean their own table's.
 */
function viewColumns(viewerId: string | null) {
  if (viewerId === null) {
    return {
      group: groups,
      hidden: sql<number>`0`,
      myRole: sql<GroupRole | null>`NULL`,
      myRequest: sql<'join' | 'invite' | null>`NULL`,
      conversationId: sql<string | null>`NULL`,
    };
  }
  const myRole = sql<GroupRole | null>`(SELECT m.role FROM group_members m WHERE m.group_id = "groups"."id" AND m.user_id = ${viewerId})`;
  return {
    group: groups,
    hidden: sql<number>`(SELECT count(*)::int FROM group_members h
      WHERE h.group_id = "groups"."id" AND h.user_id IN ${blockPartners(viewerId)})`,
    myRole,
    myRequest: sql<
      'join' | 'invite' | null
    >`(SELECT r.kind FROM group_requests r WHERE r.group_id = "groups"."id" AND r.user_id = ${viewerId})`,
    conversationId: sql<string | null>`CASE WHEN ${myRole} IS NOT NULL
      THEN (SELECT c.id FROM conversations c WHERE c.group_id = "groups"."id") END`,
  };
}

type ViewRow = {
  group: GroupRecord;
  hidden: number;
  myRole: GroupRole | null;
  myRequest: 'join' | 'invite' | null;
  conversationId: string | null;
};

function toView(row: ViewRow): GroupView {
  return {
    group: row.group,
    memberCount: row.group.memberCount - Number(row.hidden),
    myRole: row.myRole,
    myRequest: row.myRequest === 'join' ? 'requested' : row.myRequest === 'invite' ? 'invited' : null,
    conversationId: row.conversationId,
  };
}

/**
 * `notifications` tells invitees, admins (join requests), requesters (answers) and attendees of a
 * deleted group's events; `realtime` takes whoever leaves out of the group's rooms at once.
 */
export function createGroupService(db: AppDb, notifications?: NotificationService, realtime?: RealtimePort) {
  /** After a commit: the user's devices leave the group's room and its conversation's. */
  function evict(
    groupId: string,
    rooms: { conversationId: string | null; eventIds?: readonly string[] },
    userIds: readonly string[],
  ): void {
    realtime?.removeFromRoom(userIds, `group:${groupId}`);
    if (rooms.conversationId) realtime?.removeFromRoom(userIds, `conversation:${rooms.conversationId}`);
    for (const eventId of rooms.eventIds ?? []) realtime?.removeFromRoom(userIds, `event:${eventId}`);
  }

  /** What a member leaves behind: the group's conversation, and the rooms of a private group's events. */
  async function roomsOf(tx: Tx, group: GroupRecord) {
    const eventIds =
      group.visibility === 'private'
        ? (await tx.select({ id: events.id }).from(events).where(eq(events.groupId, group.id))).map((row) => row.id)
        : [];
    return { conversationId: await conversationOf(tx, group.id), eventIds };
  }

  async function conversationOf(tx: Tx, groupId: string): Promise<string | null> {
    const [row] = await tx.select({ id: conversations.id }).from(conversations).where(eq(conversations.groupId, groupId));
    return row?.id ?? null;
  }

  async function view(executor: AppDb | Tx, viewerId: string | null, groupId: string): Promise<GroupView | undefined> {
    const [row] = await executor
      .select(viewColumns(viewerId))
      .from(groups)
      .where(and(eq(groups.id, groupId), groupShownTo(viewerId)));
    return row ? toView(row) : undefined;
  }

  /**
   * The group's row locked for the transaction, and the caller's role in it; NOT_FOUND when absent.
   * A hidden group is frozen: NOT_FOUND for every change, but a member's leaving and its owner's
   * deleting it (`hidden: 'allowed'`).
   */
  async function lockGroup(tx: Tx, groupId: string, userId: string, hidden: 'refused' | 'allowed' = 'refused') {
    const [group] = await tx.select().from(groups).where(eq(groups.id, groupId)).for('update');
    if (!group) throw notFound();
    const role = await roleOf(tx, groupId, userId);
    if (group.hiddenAt !== null && (hidden === 'refused' || role === null)) throw notFound();
    return { group, role };
  }

  async function roleOf(executor: AppDb | Tx, groupId: string, userId: string): Promise<GroupRole | null> {
    const [row] = await executor
      .select({ role: groupMembers.role })
      .from(groupMembers)
      .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
    return row?.role ?? null;
  }

  /** Reading a group's members or events: anyone for a public group, members for a private one. */
  async function requireReader(viewerId: string | null, groupId: string): Promise<void> {
    const [group] = await db
      .select({ visibility: groups.visibility })
      .from(groups)
      .where(and(eq(groups.id, groupId), groupShownTo(viewerId)));
    if (!group) throw notFound();
    if (group.visibility === 'private' && (viewerId === null || (await roleOf(db, groupId, viewerId)) === null)) {
      throw new ApiError('FORBIDDEN', 'Only members see a private group’s members, events and conversation');
    }
  }

  function requireAdmin(role: GroupRole | null, what: string): void {
    if (!role || !ADMINS.includes(role)) throw new ApiError('FORBIDDEN', `Only the group’s owner and admins may ${what}`);
  }

  /** Adds a member and puts them in the group's conversation; answers the membership as it stands. */
  async function addMember(tx: Tx, groupId: string, userId: string, role: GroupRole) {
    await tx.insert(groupMembers).values({ groupId, userId, role }).onConflictDoNothing();
    await tx.delete(groupRequests).where(and(eq(groupRequests.groupId, groupId), eq(groupRequests.userId, userId)));
    const conversationId = await conversationOf(tx, groupId);
    if (conversationId) await tx.insert(conversationMembers).values({ conversationId, userId }).onConflictDoNothing();
    const [member] = await tx
      .select()
      .from(groupMembers)
      .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
    return member!;
  }

  /**
   * Takes a member out: of the group, its conversation, the invitations they made, and, in a
   * private group, their answers to its events (which they may no longer see).
   */
  async function dropMember(tx: Tx, group: GroupRecord, userId: string): Promise<void> {
    const groupId = group.id;
    await tx.delete(groupMembers).where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
    await tx.delete(groupRequests).where(and(eq(groupRequests.groupId, groupId), eq(groupRequests.invitedBy, userId)));
    if (group.visibility === 'private') {
      await tx
        .delete(eventRsvps)
        .where(
          and(
            eq(eventRsvps.userId, userId),
            sql`${eventRsvps.eventId} IN (SELECT ${events.id} FROM ${events} WHERE ${events.groupId} = ${groupId})`,
          ),
        );
    }
    await tx
      .delete(conversationMembers)
      .where(
        and(
          eq(conversationMembers.userId, userId),
          sql`${conversationMembers.conversationId} = (SELECT ${conversations.id} FROM ${conversations} WHERE ${conversations.groupId} = ${groupId})`,
        ),
      );
  }

  async function adminIds(tx: Tx, groupId: string): Promise<string[]> {
    const rows = await tx
      .select({ userId: groupMembers.userId })
      .from(groupMembers)
      .where(and(eq(groupMembers.groupId, groupId), sql`${groupMembers.role} IN ('owner', 'admin')`));
    return rows.map((row) => row.userId);
  }

  async function memberRecord(tx: Tx, groupId: string, userId: string): Promise<MemberRecord | undefined> {
    const [row] = await tx
      .select({ user: users, role: groupMembers.role, joinedAt: groupMembers.joinedAt })
      .from(groupMembers)
      .innerJoin(users, eq(users.id, groupMembers.userId))
      .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
    return row;
  }

  /** Newest-first list of groups under `where`, ordered by `key` (a (time, group id) pair). */
  async function groupPage(
    viewerId: string | null,
    where: SQL | undefined,
    page: Page,
  ): Promise<{ items: GroupView[]; next: PageKey | null }> {
    const rows = await db
      .select(viewColumns(viewerId))
      .from(groups)
      .where(and(where, groupShownTo(viewerId), page.after ? before(groups.createdAt, groups.id, page.after) : undefined))
      .orderBy(desc(groups.createdAt), desc(groups.id))
      .limit(page.limit + 1);
    const { items, next } = toPage(
      rows.map((row) => ({ createdAt: row.group.createdAt, id: row.group.id, row })),
      page.limit,
    );
    return { items: items.map(({ row }) => toView(row)), next };
  }

  return {
    async create(ownerId: string, input: NewGroup): Promise<GroupView> {
      return db.transaction(async (tx) => {
        const [group] = await tx
          .insert(groups)
          .values({ name: input.name, description: input.description, kind: input.kind, city: input.city, visibility: input.visibility })
          .returning();
        if (!group) throw new Error('INSERT … RETURNING returned no row');
        await tx.insert(conversations).values({ kind: 'group', title: group.name, createdBy: ownerId, groupId: group.id });
        await addMember(tx, group.id, ownerId, 'owner');
        return (await view(tx, ownerId, group.id))!;
      });
    },

    async get(viewerId: string | null, groupId: string): Promise<GroupView> {
      const found = await view(db, viewerId, groupId);
      if (!found) throw notFound();
      return found;
    },

    /** Newest first; `q` is part of the name (case-insensitive), `city` the whole city. */
    list(viewerId: string | null, filter: { q?: string; city?: string; kind?: GroupKind }, page: Page) {
      const conditions: SQL[] = [];
      if (filter.q !== undefined) conditions.push(sql`${groups.name} ILIKE ${`%${filter.q.replace(/[\\%_]/g, '\\$&')}%`}`);
      if (filter.city !== undefined) conditions.push(sql`lower(${groups.city}) = lower(${filter.city})`);
      if (filter.kind !== undefined) conditions.push(eq(groups.kind, filter.kind));
      return groupPage(viewerId, and(...conditions), page);
    },

    /** The user's groups, latest joined first: one range of group_members_user_joined_idx. */
    async listMine(userId: string, page: Page): Promise<{ items: GroupView[]; next: PageKey | null }> {
      const rows = await db
        .select({ ...viewColumns(userId), joinedAt: groupMembers.joinedAt })
        .from(groupMembers)
        .innerJoin(groups, eq(groups.id, groupMembers.groupId))
        .where(
          and(
            eq(groupMembers.userId, userId),
            groupShownTo(userId),
            page.after ? before(groupMembers.joinedAt, groupMembers.groupId, page.after) : undefined,
          ),
        )
        .orderBy(desc(groupMembers.joinedAt), desc(groupMembers.groupId))
        .limit(page.limit + 1);
      const { items, next } = toPage(
        rows.map((row) => ({ createdAt: row.joinedAt, id: row.group.id, row })),
        page.limit,
      );
      return { items: items.map(({ row }) => toView(row)), next };
    },

    /** `precondition` sees the group as its admin reads it, under the write's lock, and may throw to stop the change. */
    async update(
      actorId: string,
      groupId: string,
      patch: Partial<NewGroup>,
      precondition?: (current: GroupView) => void,
    ): Promise<GroupView> {
      return db.transaction(async (tx) => {
        const { group, role } = await lockGroup(tx, groupId, actorId);
        requireAdmin(role, 'change it');
        if (precondition) precondition((await view(tx, actorId, groupId))!);
        await tx
          .update(groups)
          .set({
            name: patch.name,
            description: patch.description,
            kind: patch.kind,
            city: patch.city,
            visibility: patch.visibility,
            updatedAt: sql`now()`,
          })
          .where(eq(groups.id, groupId));
        if (patch.name !== undefined) await tx.update(conversations).set({ title: patch.name }).where(eq(conversations.groupId, groupId));
        if (patch.visibility === 'private' && group.visibility === 'public') {
          // What was open is now for members: invitations from plain members lapse, and outsiders' answers to its events go.
          await tx.delete(groupRequests).where(
            and(
              eq(groupRequests.groupId, groupId),
              eq(groupRequests.kind, 'invite'),
              sql`NOT EXISTS (SELECT 1 FROM ${groupMembers} WHERE ${groupMembers.groupId} = ${groupId}
                  AND ${groupMembers.userId} = ${groupRequests.invitedBy} AND ${groupMembers.role} IN ('owner', 'admin'))`,
            ),
          );
          await tx.delete(eventRsvps).where(
            sql`${eventRsvps.eventId} IN (SELECT ${events.id} FROM ${events} WHERE ${events.groupId} = ${groupId})
              AND NOT EXISTS (SELECT 1 FROM ${groupMembers} WHERE ${groupMembers.groupId} = ${groupId} AND ${groupMembers.userId} = ${eventRsvps.userId})`,
          );
        }
        return (await view(tx, actorId, groupId))!;
      });
    },

    /** The owner only; the attendees of the group's events hear they are cancelled. */
    async remove(actorId: string, groupId: string): Promise<void> {
      const gone = await withNotifications(db, notifications, async (tx, tell) => {
        const { role } = await lockGroup(tx, groupId, actorId, 'allowed');
        if (role !== 'owner') throw new ApiError('FORBIDDEN', 'Only the group’s owner may delete it');
        const attendees = await tx
          .select({ eventId: eventRsvps.eventId, userId: eventRsvps.userId })
          .from(eventRsvps)
          .innerJoin(events, eq(events.id, eventRsvps.eventId))
          .where(and(eq(events.groupId, groupId), sql`${events.endsAt} > now()`));
        await tell(
          attendees.map(({ eventId, userId }) => ({ userId, actorId, kind: 'event_cancelled', target: { type: 'event', id: eventId } })),
        );
        const memberIds = (await tx.select({ id: groupMembers.userId }).from(groupMembers).where(eq(groupMembers.groupId, groupId))).map(
          (row) => row.id,
        );
        const conversationId = await conversationOf(tx, groupId);
        // Its members, requests, conversation and events go with it (ON DELETE CASCADE).
        await tx.delete(groups).where(eq(groups.id, groupId));
        return { memberIds, conversationId };
      });
      evict(groupId, { conversationId: gone.conversationId }, gone.memberIds);
    },

    /** A member at once (public group, or invited), else a pending request the admins hear of. */
    async join(userId: string, groupId: string): Promise<{ status: 'member' | 'requested'; role: GroupRole | null; since: Date }> {
      return withNotifications(db, notifications, async (tx, tell) => {
        const { group, role } = await lockGroup(tx, groupId, userId);
        if (role) {
          const member = (await memberRecord(tx, groupId, userId))!;
          return { status: 'member', role, since: member.joinedAt };
        }
        const [pending] = await tx
          .select()
          .from(groupRequests)
          .where(and(eq(groupRequests.groupId, groupId), eq(groupRequests.userId, userId)));
        // An invitation counts while its maker may still invite: any member of a public group, an admin of a private one.
        const inviterRole = pending?.kind === 'invite' && pending.invitedBy ? await roleOf(tx, groupId, pending.invitedBy) : null;
        const invited = inviterRole !== null && (group.visibility === 'public' || ADMINS.includes(inviterRole));
        if (group.visibility === 'public' || invited) {
          const member = await addMember(tx, groupId, userId, 'member');
          return { status: 'member', role: member.role, since: member.joinedAt };
        }
        if (pending?.kind === 'join') return { status: 'requested', role: null, since: pending.createdAt };
        // An invitation that no longer counts becomes the caller's own request.
        const [request] = await tx
          .insert(groupRequests)
          .values({ groupId, userId, kind: 'join' })
          .onConflictDoUpdate({
            target: [groupRequests.groupId, groupRequests.userId],
            set: { kind: 'join', invitedBy: null, createdAt: sql`now()` },
          })
          .returning();
        await tell(
          (await adminIds(tx, groupId)).map((admin) => ({
            userId: admin,
            actorId: userId,
            kind: 'group_join_request',
            target: { type: 'group', id: groupId },
          })),
        );
        return { status: 'requested', role: null, since: request!.createdAt };
      });
    },

    /** Leaves, withdraws a join request or declines an invitation; the owner cannot leave. */
    async leave(userId: string, groupId: string): Promise<void> {
      const left = await db.transaction(async (tx) => {
        const { group, role } = await lockGroup(tx, groupId, userId, 'allowed');
        if (role === 'owner') {
          throw new ApiError('OWNER_CANNOT_LEAVE', 'Hand the group to another member first (make them owner), or delete it');
        }
        await tx.delete(groupRequests).where(and(eq(groupRequests.groupId, groupId), eq(groupRequests.userId, userId)));
        if (!role) return null;
        await dropMember(tx, group, userId);
        return roomsOf(tx, group);
      });
      if (left) evict(groupId, left, [userId]);
    },

    async invite(inviterId: string, groupId: string, userId: string): Promise<{ status: 'invited' | 'member'; since: Date }> {
      return withNotifications(db, notifications, async (tx, tell) => {
        const { group, role } = await lockGroup(tx, groupId, inviterId);
        if (!role) throw new ApiError('FORBIDDEN', 'Only members may invite to a group');
        if (group.visibility === 'private') requireAdmin(role, 'invite to a private group');
        if (!(await visibleUser(tx, inviterId, userId))) throw noSuchUser();
        const member = await memberRecord(tx, groupId, userId);
        if (member) return { status: 'member', since: member.joinedAt };
        const [pending] = await tx
          .select()
          .from(groupRequests)
          .where(and(eq(groupRequests.groupId, groupId), eq(groupRequests.userId, userId)));
        if (pending?.kind === 'join') {
          // They asked already: the invitation answers their request.
          const added = await addMember(tx, groupId, userId, 'member');
          await tell({ userId, actorId: inviterId, kind: 'group_join_answered', target: { type: 'group', id: groupId } });
          return { status: 'member', since: added.joinedAt };
        }
        if (pending) return { status: 'invited', since: pending.createdAt };
        const [invitation] = await tx.insert(groupRequests).values({ groupId, userId, kind: 'invite', invitedBy: inviterId }).returning();
        await tell({ userId, actorId: inviterId, kind: 'group_invite', target: { type: 'group', id: groupId } });
        return { status: 'invited', since: invitation!.createdAt };
      });
    },

    /** Latest to join first; people hidden from the viewer left out. */
    async members(viewerId: string | null, groupId: string, role: GroupRole | undefined, page: Page) {
      await requireReader(viewerId, groupId);
      const conditions: (SQL | undefined)[] = [eq(groupMembers.groupId, groupId)];
      if (viewerId !== null) conditions.push(sql`NOT ${blockedEitherWay(viewerId, groupMembers.userId)}`);
      if (role) conditions.push(eq(groupMembers.role, role));
      if (page.after) conditions.push(before(groupMembers.joinedAt, groupMembers.userId, page.after));
      const rows = await db
        .select({ user: users, role: groupMembers.role, joinedAt: groupMembers.joinedAt })
        .from(groupMembers)
        .innerJoin(users, eq(users.id, groupMembers.userId))
        .where(and(...conditions))
        .orderBy(desc(groupMembers.joinedAt), desc(groupMembers.userId))
        .limit(page.limit + 1);
      const { items, next } = toPage(
        rows.map((row) => ({ createdAt: row.joinedAt, id: row.user.id, row })),
        page.limit,
      );
      return { items: items.map(({ row }) => row as MemberRecord), next };
    },

    /** The owner only; `owner` hands the group over and makes the old owner an admin. */
    async changeRole(actorId: string, groupId: string, userId: string, role: GroupRole): Promise<MemberRecord> {
      return db.transaction(async (tx) => {
        const { role: mine } = await lockGroup(tx, groupId, actorId);
        if (mine !== 'owner') throw new ApiError('FORBIDDEN', 'Only the group’s owner may change roles');
        // Someone hidden by a block is answered as no member, like any id that is not one.
        if (!(await roleOf(tx, groupId, userId)) || !(await visibleUser(tx, actorId, userId))) {
          throw new ApiError('NOT_FOUND', 'No member with this id');
        }
        // The old owner steps down first: the one-owner index holds at every statement.
        if (role === 'owner') {
          await tx
            .update(groupMembers)
            .set({ role: 'admin' })
            .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, actorId)));
        }
        await tx
          .update(groupMembers)
          .set({ role })
          .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
        return (await memberRecord(tx, groupId, userId))!;
      });
    },

    /** The owner removes anyone, an admin removes members; also withdraws an invitation. */
    async removeMember(actorId: string, groupId: string, userId: string): Promise<void> {
      const removed = await db.transaction(async (tx) => {
        const { group, role: mine } = await lockGroup(tx, groupId, actorId);
        requireAdmin(mine, 'remove members');
        const theirs = await roleOf(tx, groupId, userId);
        if (theirs && mine !== 'owner' && theirs !== 'member') throw new ApiError('FORBIDDEN', 'Only the owner may remove an admin');
        await tx
          .delete(groupRequests)
          .where(and(eq(groupRequests.groupId, groupId), eq(groupRequests.userId, userId), eq(groupRequests.kind, 'invite')));
        if (!theirs) return null;
        await dropMember(tx, group, userId);
        return roomsOf(tx, group);
      });
      if (removed) evict(groupId, removed, [userId]);
    },

    async joinRequests(actorId: string, groupId: string, page: Page) {
      const [group] = await db.select({ id: groups.id, hiddenAt: groups.hiddenAt }).from(groups).where(eq(groups.id, groupId));
      if (!group) throw notFound();
      const role = await roleOf(db, groupId, actorId);
      // A hidden group is its owner's to see only.
      if (group.hiddenAt !== null && role !== 'owner') throw notFound();
      requireAdmin(role, 'see who asked to join');
      const conditions: (SQL | undefined)[] = [
        eq(groupRequests.groupId, groupId),
        eq(groupRequests.kind, 'join'),
        sql`NOT ${blockedEitherWay(actorId, groupRequests.userId)}`,
      ];
      if (page.after) conditions.push(before(groupRequests.createdAt, groupRequests.userId, page.after));
      const rows = await db
        .select({ user: users, since: groupRequests.createdAt })
        .from(groupRequests)
        .innerJoin(users, eq(users.id, groupRequests.userId))
        .where(and(...conditions))
        .orderBy(desc(groupRequests.createdAt), desc(groupRequests.userId))
        .limit(page.limit + 1);
      const { items, next } = toPage(
        rows.map((row) => ({ createdAt: row.since, id: row.user.id, row })),
        page.limit,
      );
      return { items: items.map(({ row }) => row), next };
    },

    /** The member, from the pending request or already in (a repeated approval); NOT_FOUND otherwise. */
    async approve(actorId: string, groupId: string, userId: string): Promise<MemberRecord> {
      return withNotifications(db, notifications, async (tx, tell) => {
        const { role } = await lockGroup(tx, groupId, actorId);
        requireAdmin(role, 'answer join requests');
        if (!(await visibleUser(tx, actorId, userId))) throw noSuchUser();
        const existing = await memberRecord(tx, groupId, userId);
        if (existing) return existing;
        const [request] = await tx
          .delete(groupRequests)
          .where(and(eq(groupRequests.groupId, groupId), eq(groupRequests.userId, userId), eq(groupRequests.kind, 'join')))
          .returning();
        if (!request) throw new ApiError('NOT_FOUND', 'No request to join from this user');
        await addMember(tx, groupId, userId, 'member');
        await tell({ userId, actorId, kind: 'group_join_answered', target: { type: 'group', id: groupId } });
        return (await memberRecord(tx, groupId, userId))!;
      });
    },

    async reject(actorId: string, groupId: string, userId: string): Promise<void> {
      await withNotifications(db, notifications, async (tx, tell) => {
        const { role } = await lockGroup(tx, groupId, actorId);
        requireAdmin(role, 'answer join requests');
        const removed = await tx
          .delete(groupRequests)
          .where(and(eq(groupRequests.groupId, groupId), eq(groupRequests.userId, userId), eq(groupRequests.kind, 'join')))
          .returning();
        if (removed.length > 0) await tell({ userId, actorId, kind: 'group_join_answered', target: { type: 'group', id: groupId } });
      });
    },

    /** Invitations waiting for the user, newest first; those from people hidden by a block left out. */
    async invitations(userId: string, page: Page) {
      const conditions: (SQL | undefined)[] = [
        eq(groupRequests.userId, userId),
        eq(groupRequests.kind, 'invite'),
        sql`NOT ${blockedEitherWay(userId, groupRequests.invitedBy)}`,
        groupShown(userId, groupRequests.groupId),
      ];
      if (page.after) conditions.push(before(groupRequests.createdAt, groupRequests.groupId, page.after));
      const rows = await db
        .select({ ...viewColumns(userId), inviter: users, since: groupRequests.createdAt })
        .from(groupRequests)
        .innerJoin(groups, eq(groups.id, groupRequests.groupId))
        .innerJoin(users, eq(users.id, groupRequests.invitedBy))
        .where(and(...conditions))
        .orderBy(desc(groupRequests.createdAt), desc(groupRequests.groupId))
        .limit(page.limit + 1);
      const { items, next } = toPage(
        rows.map((row) => ({ createdAt: row.since, id: row.group.id, row })),
        page.limit,
      );
      return { items: items.map(({ row }) => ({ group: toView(row), invitedBy: row.inviter, since: row.since })), next };
    },

    /** The group's events, newest first: one range of events_group_created_idx. */
    async events(viewerId: string | null, groupId: string, page: Page): Promise<{ items: EventRecord[]; next: PageKey | null }> {
      await requireReader(viewerId, groupId);
      const rows = await db
        .select(eventColumns(viewerId))
        .from(events)
        .where(and(eq(events.groupId, groupId), page.after ? before(events.createdAt, events.id, page.after) : undefined))
        .orderBy(desc(events.createdAt), desc(events.id))
        .limit(page.limit + 1);
      return toPage(rows, page.limit);
    },

    /** The user's role in the group, null when not a member. */
    roleIn: (groupId: string, userId: string) => roleOf(db, groupId, userId),

    /** Whether the user is a member (of a group not hidden, but for its owner): the `group:{id}` room's rule. */
    async isMember(groupId: string, userId: string): Promise<boolean> {
      const [row] = await db
        .select({ role: groupMembers.role })
        .from(groupMembers)
        .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId), groupShown(userId, groupMembers.groupId)));
      return row !== undefined;
    },
  };
}

export type GroupService = ReturnType<typeof createGroupService>;
