import { and, desc, eq, inArray, isNull, lte, sql, type SQL } from 'drizzle-orm';
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
 * Rules in `notify` and `notifyMany`: nobody is notified of their own doing, nor across a block
 * (either way), and a `message` about a conversation reaches only its members who have not muted
 * it. A block also takes each from what the other was told before (`forgetNotificationsBetween`, in
 * its transaction).
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
  | { kind: 'post_mention' | 'post_comment' | 'comment_reply' | 'post_reaction'; target: { type: 'post'; id: string } }
  | { kind: 'memory_tag'; target: { type: 'memory'; id: string } }
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
  /**
   * `notify` for many at once (a message tells every other member of a group), by the same rules and
   * in a few queries whatever their number. Answers in the order of `inputs`, null where the rules
   * make none; with `tx`, pushes nothing until handed to `publish`, as `notify`.
   */
  notifyMany(inputs: readonly NotifyInput[], tx?: AppDb): Promise<(Notified | null)[]>;
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
/** Notifications checked or stored by one statement at most: a few thousand bound parameters, far below the protocol's limit. */
const ROUND_SIZE = 1000;

/**
 * Runs `work` in one transaction; what it notifies through `tell` commits or rolls back with it and
 * is pushed live once it has committed. Without a notification service, `tell` does nothing.
 */
export async function withNotifications<T>(
  db: AppDb,
  notifications: NotificationService | undefined,
  work: (
    tx: Parameters<Parameters<AppDb['transaction']>[0]>[0],
    tell: (input: NotifyInput | readonly NotifyInput[]) => Promise<void>,
  ) => Promise<T>,
): Promise<T> {
  const told: (Notified | null)[] = [];
  const result = await db.transaction((tx) =>
    work(tx, async (input) => {
      // Many recipients at once (attendees, members) go through notifyMany: a few queries, not a few per recipient.
      if (notifications)
        told.push(
          ...(Array.isArray(input) ? await notifications.notifyMany(input, tx) : [await notifications.notify(input as NotifyInput, tx)]),
        );
    }),
  );
  notifications?.publish(told);
  return result;
}

export function createNotificationService(deps: { db: AppDb; realtime: RealtimePort }): NotificationService {
  const { db, realtime } = deps;
  const notFound = () => new ApiError('NOT_FOUND', 'No notification with this id');

  /** The rules, for every input in one query: the indexes of the inputs that make a notification. */
  async function allowed(tx: AppDb, inputs: readonly NotifyInput[]): Promise<Set<number>> {
    const candidates = inputs.flatMap((input, i) => (input.actorId === input.userId ? [] : [i]));
    if (candidates.length === 0) return new Set();
    const values = sql.join(
      candidates.map((i) => {
        const { userId, actorId, kind, target } = inputs[i]!;
        return sql`(${i}::int, ${userId}::uuid, ${actorId}::uuid, ${kind === 'message' ? target.id : null}::uuid)`;
      }),
      sql`, `,
    );
    const { rows } = await tx.execute<{ i: number }>(sql`
      SELECT input.i FROM (VALUES ${values}) AS input (i, user_id, actor_id, conversation_id)
      WHERE NOT EXISTS (SELECT 1 FROM ${blocks}
          WHERE (${blocks.blockerId} = input.user_id AND ${blocks.blockedId} = input.actor_id)
            OR (${blocks.blockerId} = input.actor_id AND ${blocks.blockedId} = input.user_id))
        AND (input.conversation_id IS NULL OR EXISTS (SELECT 1 FROM ${conversationMembers}
          WHERE ${conversationMembers.conversationId} = input.conversation_id
            AND ${conversationMembers.userId} = input.user_id AND NOT ${conversationMembers.muted}))`);
    return new Set(rows.map((row) => Number(row.i)));
  }

  /**
   * Stores one round of notifications, no two of them about the same item (one upsert may touch a
   * row once), in recipient order so that concurrent rounds lock rows in the same order.
   */
  async function storeRound(tx: AppDb, round: readonly NotifyInput[]): Promise<Notified[]> {
    const actorOf = new Map(round.map((input) => [inputItem(input), input.actorId]));
    const firstActor = sql`excluded.actor_ids[1]`;
    const upserted = await tx
      .insert(notifications)
      .values(
        round.map(({ userId, kind, actorId, target }) => ({
          userId,
          kind,
          targetType: target.type,
          targetId: target.id,
          actorIds: [actorId],
        })),
      )
      .onConflictDoUpdate({
        target: [notifications.userId, notifications.kind, notifications.targetType, notifications.targetId],
        targetWhere: isNull(notifications.readAt),
        set: {
          actorIds: sql`(array_prepend(${firstActor}, array_remove(${notifications.actorIds}, ${firstActor})))[1:${sql.raw(String(NAMED_ACTORS))}]`,
          eventCount: sql`${notifications.eventCount} + 1`,
          // A transaction's now() is when it began; one that began earlier may commit later.
          updatedAt: sql`greatest(now(), ${notifications.updatedAt})`,
        },
      })
      .returning();
    const newActors = await tx
      .insert(notificationActors)
      .values(upserted.map((item) => ({ notificationId: item.id, actorId: actorOf.get(rowItem(item))! })))
      .onConflictDoNothing()
      .returning({ notificationId: notificationActors.notificationId });
    // A new item already counts its first actor; a collapsed one counts a newcomer.
    const newcomers = new Set(newActors.map((row) => row.notificationId));
    const recount = upserted.filter((item) => item.eventCount > 1 && newcomers.has(item.id)).map((item) => item.id);
    const recounted =
      recount.length === 0
        ? []
        : await tx
            .update(notifications)
            .set({ actorCount: sql`${notifications.actorCount} + 1` })
            .where(inArray(notifications.id, recount))
            .returning();
    const latest = new Map(recounted.map((row) => [row.id, row]));
    const rows = upserted.map((item) => latest.get(item.id) ?? item);
    const items = await views(tx, rows);
    const unread = await countUnread(tx, [...new Set(rows.map((row) => row.userId))]);
    const byItem = new Map(rows.map((row, i) => [rowItem(row), items[i]!]));
    return round.map((input) => ({
      userId: input.userId,
      notification: byItem.get(inputItem(input))!,
      unreadCount: unread.get(input.userId) ?? 0,
    }));
  }

  async function storeMany(tx: AppDb, inputs: readonly NotifyInput[]): Promise<(Notified | null)[]> {
    const results: (Notified | null)[] = inputs.map(() => null);
    const passed: number[] = [];
    for (let start = 0; start < inputs.length; start += ROUND_SIZE) {
      for (const i of await allowed(tx, inputs.slice(start, start + ROUND_SIZE))) passed.push(start + i);
    }
    let pending = passed.sort((a, b) => inputItem(inputs[a]!).localeCompare(inputItem(inputs[b]!)) || a - b);
    while (pending.length > 0) {
      const round: number[] = [];
      const later: number[] = [];
      const items = new Set<string>();
      for (const i of pending) {
        const item = inputItem(inputs[i]!);
        if (items.has(item) || round.length === ROUND_SIZE) later.push(i);
        else {
          items.add(item);
          round.push(i);
        }
      }
      pending = later;
      const stored = await storeRound(
        tx,
        round.map((i) => inputs[i]!),
      );
      round.forEach((i, k) => {
        results[i] = stored[k]!;
      });
    }
    return results;
  }

  async function notifyMany(inputs: readonly NotifyInput[], tx?: AppDb): Promise<(Notified | null)[]> {
    if (inputs.length === 0) return [];
    if (tx) return storeMany(tx, inputs);
    const notified = await db.transaction((own) => storeMany(own, inputs));
    publish(notified);
    return notified;
  }

  function publish(notified: Notified | null | readonly (Notified | null)[]): void {
    const list = Array.isArray(notified) ? notified : [notified];
    for (const one of list as (Notified | null)[]) {
      if (one) realtime.toUsers([one.userId], 'notification:new', { notification: one.notification, unreadCount: one.unreadCount });
    }
  }

  return {
    notifyMany,

    async notify(input, tx) {
      return (await notifyMany([input], tx))[0] ?? null;
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

    unreadCount: async (userId) => (await countUnread(db, [userId])).get(userId) ?? 0,

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

/** One item of a recipient: what an unread notification collapses on. */
const rowItem = (row: { userId: string; kind: string; targetType: string; targetId: string }) =>
  `${row.userId} ${row.kind} ${row.targetType} ${row.targetId}`;
const inputItem = (input: NotifyInput) => rowItem({ ...input, targetType: input.target.type, targetId: input.target.id });

/** Each user's unread items, by the partial index of unread items. */
async function countUnread(db: AppDb, userIds: readonly string[]): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .select({ userId: notifications.userId, n: sql<number>`count(*)::int` })
    .from(notifications)
    .where(and(inArray(notifications.userId, [...userIds]), isNull(notifications.readAt)))
    .groupBy(notifications.userId);
  return new Map(rows.map((row) => [row.userId, Number(row.n)]));
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
