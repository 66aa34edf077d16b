import { and, desc, eq, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { z } from 'zod';
import type { Notification as NotificationSchema } from '../../contracts/notifications';
import { ApiError } from '../../runtime/server';
import type { AppDb } from '../db/database';
import { before, toPage, type PageKey } from '../db/keyset';
import { blocks, conversationMembers, notificationActors, notifications, users } from '../db/schema';
import type { RealtimePort } from './realtime-port';

/**
 * Notifications: written by the services of other domains when something happens to someone, read
 * and managed by their recipient.
 *
 * Collapse. While unread, one row stands for every notification of one kind about one target
 * (`notifications_unread_item_idx`, unique on (user, kind, target) where unread, is what `notify`
 * upserts on): the row keeps the latest three distinct actors (`actor_ids`, newest first), the
 * count of distinct actors (`actor_count`, exact: `notification_actors` holds each actor once) and
 * of notifications collapsed in (`event_count`), and moves to the top of the list (`updated_at`).
 * Once read, the next notification starts a new row; the read one stays as history.
 *
 * Rules in `notify`: nobody is notified of their own doing, nor across a block (either way), and a
 * `message` about a conversation reaches only its members who have not muted it. A block also
 * takes each from what the other was told before (`forgetNotificationsBetween`, in its transaction).
 *
 * Every read and write takes the caller's id: another user's notification is NOT_FOUND, as one that
 * does not exist.
 */
export type Notification = z.output<typeof NotificationSchema>;

/**
 * What happened, to whom. Each kind names one type of target: the recipient themself (`user`,
 * so that "Ana and 3 others started following you" collapses), the group, the event or the
 * conversation.
 */
export type NotifyInput = {
  /** Who is told. */
  userId: string;
  /** Who did it. */
  actorId: string;
} & (
  | { kind: 'new_follower' | 'friend_request' | 'friend_accepted'; target: { type: 'user'; id: string } }
  | { kind: 'group_invite' | 'group_join_request' | 'group_join_answered'; target: { type: 'group'; id: string } }
  | { kind: 'event_rsvp' | 'event_changed' | 'event_cancelled'; target: { type: 'event'; id: string } }
  | { kind: 'message'; target: { type: 'conversation'; id: string } }
);

/** A stored notification as its recipient now sees it, ready to push. */
export interface Notified {
  userId: string;
  notification: Notification;
  unreadCount: number;
}

export interface NotificationService {
  /**
   * Stores a notification, collapsing it into the recipient's unread item of the same kind and
   * target; null when the rules make none (the actor is the recipient; a `message` to a member who
   * muted the conversation, or to a non-member).
   *
   * Without `tx` it commits and pushes `notification:new` to the recipient's devices at once. With
   * `tx` (the caller's transaction, so the notification commits or rolls back with what it tells)
   * it pushes nothing: hand the result to `publish` once that transaction has committed.
   */
  notify(input: NotifyInput, tx?: AppDb): Promise<Notified | null>;
  /** Pushes `notification:new` for notifications made in a transaction, after it committed. */
  publish(notified: Notified | null | readonly (Notified | null)[]): void;
  /** The user's items, most recently updated first; `unreadOnly` keeps the unread ones. */
  list(userId: string, options: { unreadOnly: boolean; page: { limit: number; after: PageKey | null } }): Promise<Page<Notification>>;
  unreadCount(userId: string): Promise<number>;
  markRead(userId: string, notificationId: string): Promise<Notification>;
  /** Marks the user's unread items read (only those updated at or before `until`, when given); answers how many. */
  markAllRead(userId: string, until?: Date): Promise<number>;
  remove(userId: string, notificationId: string): Promise<void>;
  /** Mutes or unmutes a conversation for one of its members; NOT_FOUND for anyone else. */
  setMuted(userId: string, conversationId: string, muted: boolean): Promise<void>;
}

export interface Page<T> {
  items: T[];
  next: PageKey | null;
}

type NotificationRecord = typeof notifications.$inferSelect;

const NAMED_ACTORS = 3;

/**
 * Runs `work` in one transaction; what it notifies through `tell` commits or rolls back with it and
 * is pushed live once it has committed. Without a notification service, `tell` does nothing.
 */
export async function withNotifications<T>(
  db: AppDb,
  notifications: NotificationService | undefined,
  work: (tx: Parameters<Parameters<AppDb['transaction']>[0]>[0], tell: (input: NotifyInput) => Promise<void>) => Promise<T>,
): Promise<T> {
  const told: (Notified | null)[] = [];
  const result = await db.transaction((tx) =>
    work(tx, async (input) => {
      if (notifications) told.push(await notifications.notify(input, tx));
    }),
  );
  notifications?.publish(told);
  return result;
}

export function createNotificationService(deps: { db: AppDb; realtime: RealtimePort }): NotificationService {
  const { db, realtime } = deps;
  const notFound = () => new ApiError('NOT_FOUND', 'No notification with this id');

  async function store(tx: AppDb, input: NotifyInput): Promise<Notified | null> {
    const { userId, kind, actorId, target } = input;
    if (actorId === userId) return null;
    const [blocked] = await tx
      .select({ blockerId: blocks.blockerId })
      .from(blocks)
      .where(
        or(
          and(eq(blocks.blockerId, userId), eq(blocks.blockedId, actorId)),
          and(eq(blocks.blockerId, actorId), eq(blocks.blockedId, userId)),
        ),
      );
    if (blocked) return null;
    if (kind === 'message') {
      const [member] = await tx
        .select({ muted: conversationMembers.muted })
        .from(conversationMembers)
        .where(and(eq(conversationMembers.conversationId, target.id), eq(conversationMembers.userId, userId)));
      if (!member || member.muted) return null;
    }
    const actor = sql`${actorId}::uuid`;
    const [item] = await tx
      .insert(notifications)
      .values({ userId, kind, targetType: target.type, targetId: target.id, actorIds: [actorId] })
      .onConflictDoUpdate({
        target: [notifications.userId, notifications.kind, notifications.targetType, notifications.targetId],
        targetWhere: isNull(notifications.readAt),
        set: {
          actorIds: sql`(array_prepend(${actor}, array_remove(${notifications.actorIds}, ${actor})))[1:${sql.raw(String(NAMED_ACTORS))}]`,
          eventCount: sql`${notifications.eventCount} + 1`,
          // A transaction's now() is when it began; one that began earlier may commit later.
          updatedAt: sql`greatest(now(), ${notifications.updatedAt})`,
        },
      })
      .returning();
    if (!item) throw new Error('INSERT … ON CONFLICT DO UPDATE returned no row');
    const newActor = await tx
      .insert(notificationActors)
      .values({ notificationId: item.id, actorId })
      .onConflictDoNothing()
      .returning({ actorId: notificationActors.actorId });
    let row = item;
    // A new row already counts its first actor; a collapsed one counts a newcomer.
    if (newActor.length > 0 && item.eventCount > 1) {
      const [counted] = await tx
        .update(notifications)
        .set({ actorCount: sql`${notifications.actorCount} + 1` })
        .where(eq(notifications.id, item.id))
        .returning();
      row = counted ?? item;
    }
    const [notification] = await views(tx, [row]);
    return { userId, notification: notification!, unreadCount: await countUnread(tx, userId) };
  }

  function publish(notified: Notified | null | readonly (Notified | null)[]): void {
    const list = Array.isArray(notified) ? notified : [notified];
    for (const one of list as (Notified | null)[]) {
      if (one) realtime.toUsers([one.userId], 'notification:new', { notification: one.notification, unreadCount: one.unreadCount });
    }
  }

  return {
    async notify(input, tx) {
      if (tx) return store(tx, input);
      const notified = await db.transaction((own) => store(own, input));
      publish(notified);
      return notified;
    },

    publish,

    async list(userId, { unreadOnly, page }) {
      const conditions: (SQL | undefined)[] = [eq(notifications.userId, userId)];
      if (unreadOnly) conditions.push(isNull(notifications.readAt));
      if (page.after) conditions.push(before(notifications.updatedAt, notifications.id, page.after));
      const rows = await db
        .select()
        .from(notifications)
        .where(and(...conditions))
        .orderBy(desc(notifications.updatedAt), desc(notifications.id))
        .limit(page.limit + 1);
      const { items, next } = toPage(
        rows.map((row) => ({ row, createdAt: row.updatedAt, id: row.id })),
        page.limit,
      );
      return {
        items: await views(
          db,
          items.map((item) => item.row),
        ),
        next,
      };
    },

    unreadCount: (userId) => countUnread(db, userId),

    async markRead(userId, notificationId) {
      const mine = and(eq(notifications.id, notificationId), eq(notifications.userId, userId));
      const [marked] = await db
        .update(notifications)
        .set({ readAt: sql`now()` })
        .where(and(mine, isNull(notifications.readAt)))
        .returning();
      const row = marked ?? (await db.select().from(notifications).where(mine))[0];
      if (!row) throw notFound();
      return (await views(db, [row]))[0]!;
    },

    async markAllRead(userId, until) {
      const marked = await db
        .update(notifications)
        .set({ readAt: sql`now()` })
        .where(and(eq(notifications.userId, userId), isNull(notifications.readAt), until ? lte(notifications.updatedAt, until) : undefined))
        .returning({ id: notifications.id });
      return marked.length;
    },

    async remove(userId, notificationId) {
      const deleted = await db
        .delete(notifications)
        .where(and(eq(notifications.id, notificationId), eq(notifications.userId, userId)))
        .returning({ id: notifications.id });
      if (deleted.length === 0) throw notFound();
    },

    async setMuted(userId, conversationId, muted) {
      const updated = await db
        .update(conversationMembers)
        .set({ muted })
        .where(and(eq(conversationMembers.conversationId, conversationId), eq(conversationMembers.userId, userId)))
        .returning({ userId: conversationMembers.userId });
      if (updated.length === 0) throw new ApiError('NOT_FOUND', 'No conversation with this id');
    },
  };
}

/**
 * What a block ends: each of the two is taken out of the other's notifications (names and counts)
 * and an item left with no one is deleted. Call it with the block's transaction, so the block and
 * this commit together.
 */
export async function forgetNotificationsBetween(tx: AppDb, a: string, b: string): Promise<void> {
  for (const [userId, actorId] of [
    [a, b],
    [b, a],
  ] as const) {
    const removed = await tx
      .delete(notificationActors)
      .where(
        and(
          eq(notificationActors.actorId, actorId),
          inArray(
            notificationActors.notificationId,
            tx.select({ id: notifications.id }).from(notifications).where(eq(notifications.userId, userId)),
          ),
        ),
      )
      .returning({ id: notificationActors.notificationId });
    const ids = removed.map((row) => row.id);
    if (ids.length === 0) continue;
    // Deleted first: an item whose only actor goes has no one left to name.
    await tx.delete(notifications).where(and(inArray(notifications.id, ids), eq(notifications.actorCount, 1)));
    await tx
      .update(notifications)
      .set({
        // Named actors who left (by earlier blocks) are not refilled unless none is left to name.
        actorIds: sql`coalesce(
            nullif(array_remove(${notifications.actorIds}, ${actorId}::uuid), '{}'),
            array(SELECT ${notificationActors.actorId} FROM ${notificationActors}
              WHERE ${notificationActors.notificationId} = ${notifications.id} LIMIT ${sql.raw(String(NAMED_ACTORS))})
          )`,
        actorCount: sql`${notifications.actorCount} - 1`,
        // How often the one blocked acted is not kept apart: counting from the people left shows none of it.
        eventCount: sql`${notifications.actorCount} - 1`,
      })
      .where(inArray(notifications.id, ids));
  }
}

async function countUnread(db: AppDb, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(notifications)
    .where(and(eq(notifications.userId, userId), isNull(notifications.readAt)));
  return row?.n ?? 0;
}

/** Rows in their wire form, their actors' profiles read in one query for the whole page. */
async function views(db: AppDb, rows: NotificationRecord[]): Promise<Notification[]> {
  const ids = [...new Set(rows.flatMap((row) => row.actorIds))];
  const profiles = new Map(
    ids.length === 0
      ? []
      : (
          await db
            .select({ id: users.id, username: users.username, displayName: users.displayName, avatarUrl: users.avatarUrl })
            .from(users)
            .where(inArray(users.id, ids))
        ).map((profile) => [profile.id, profile]),
  );
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    target: { type: row.targetType, id: row.targetId },
    actors: row.actorIds.flatMap((id) => profiles.get(id) ?? []),
    actorCount: row.actorCount,
    count: row.eventCount,
    read: row.readAt !== null,
    readAt: row.readAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }));
}
