import { and, desc, eq, inArray, notInArray, sql, type SQL } from 'drizzle-orm';
import { ApiError, type FieldError, fieldError } from '../../runtime/server';
import type { AppDb, Tx } from '../db/database';
import type { Page } from '../db/keyset';
import { events, friendships, memories, memoryMedia, memoryTags, users, type MemoryVisibility } from '../db/schema';
import { eventVisibleTo } from './groups';
import type { MediaService, WireMedia } from './media';
import { type NotificationService, withNotifications } from './notifications';
import { shownTo } from './hidden';
import { blockedEitherWay } from './social';
import type { UserRecord } from './users';

/**
 * Memories: a dancer's archive of tango moments. The visibility rule (`memoryVisibleTo`): nobody
 * across a block with the owner; `public` anyone, `friends` the owner's accepted friends, `private`
 * the owner; people tagged always (they are in it). Only friends of the owner can be tagged (anyone
 * else is refused as an unknown user); a tagged person may untag themself; each newly tagged friend
 * is notified (`memory_tag`).
 */

export type MemoryRecord = typeof memories.$inferSelect;

export interface MemoryView {
  memory: MemoryRecord;
  owner: UserRecord;
  tagged: UserRecord[];
  media: WireMedia[];
}

export interface MemoryInput {
  title: string;
  body?: string;
  happenedOn: string;
  city?: string | null;
  place?: string | null;
  eventId?: string;
  visibility: MemoryVisibility;
  taggedIds?: readonly string[];
  mediaIds?: readonly string[];
}

const notFound = () => new ApiError('NOT_FOUND', 'No memory with this id');

/** True when the viewer (null: signed out) may see the memory in `memories`. */
export function memoryVisibleTo(viewerId: string | null): SQL {
  if (viewerId === null) return sql`(${memories.visibility} = 'public' AND ${shownTo(null, memories.hiddenAt, memories.ownerId)})`;
  return sql`(NOT ${blockedEitherWay(viewerId, memories.ownerId)} AND ${shownTo(viewerId, memories.hiddenAt, memories.ownerId)} AND (
    ${memories.visibility} = 'public'
    OR ${memories.ownerId} = ${viewerId}
    OR EXISTS (SELECT 1 FROM ${memoryTags} WHERE ${memoryTags.memoryId} = ${memories.id} AND ${memoryTags.userId} = ${viewerId})
    OR (${memories.visibility} = 'friends' AND EXISTS (SELECT 1 FROM ${friendships}
      WHERE ${friendships.userId} = ${viewerId} AND ${friendships.friendId} = ${memories.ownerId}))))`;
}

/** A day's key for keyset paging: the day at midnight UTC. */
const dayKey = (row: MemoryRecord) => ({ createdAt: new Date(`${row.happenedOn}T00:00:00.000Z`), id: row.id });

export function createMemoryService(db: AppDb, media: MediaService, notifications?: NotificationService) {
  async function views(viewerId: string | null, rows: MemoryRecord[]): Promise<MemoryView[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((row) => row.id);
    const ownerIds = [...new Set(rows.map((row) => row.ownerId))];
    const owners = new Map((await db.select().from(users).where(inArray(users.id, ownerIds))).map((user) => [user.id, user]));
    const tags = await db
      .select({ memoryId: memoryTags.memoryId, user: users })
      .from(memoryTags)
      .innerJoin(users, eq(users.id, memoryTags.userId))
      .where(
        and(inArray(memoryTags.memoryId, ids), viewerId === null ? undefined : sql`NOT ${blockedEitherWay(viewerId, memoryTags.userId)}`),
      )
      .orderBy(memoryTags.createdAt, memoryTags.userId);
    const shown = await media.of('memories', ids);
    return rows.map((memory) => ({
      memory,
      owner: owners.get(memory.ownerId)!,
      tagged: tags.filter((tag) => tag.memoryId === memory.id).map((tag) => tag.user),
      media: shown.get(memory.id) ?? [],
    }));
  }

  async function attachMedia(tx: Tx, ownerId: string, memoryId: string, ids: readonly string[]): Promise<void> {
    await media.requireOwn(tx, ownerId, ids, 'mediaIds');
    if (ids.length > 0) await tx.insert(memoryMedia).values(ids.map((mediaId, position) => ({ memoryId, position, mediaId })));
  }

  async function visible(executor: AppDb | Tx, viewerId: string | null, memoryId: string): Promise<MemoryRecord> {
    const [memory] = await executor
      .select()
      .from(memories)
      .where(and(eq(memories.id, memoryId), memoryVisibleTo(viewerId)));
    if (!memory) throw notFound();
    return memory;
  }

  /** The owner's friends among `ids` (not across a block); field errors name the others, as unknown users. */
  async function requireFriends(tx: Tx, ownerId: string, ids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    const friends = new Set(
      unique.length === 0
        ? []
        : (
            await tx
              .select({ id: friendships.friendId })
              .from(friendships)
              .where(
                and(
                  eq(friendships.userId, ownerId),
                  inArray(friendships.friendId, unique),
                  sql`NOT ${blockedEitherWay(ownerId, friendships.friendId)}`,
                ),
              )
          ).map((row) => row.id),
    );
    const errors: FieldError[] = ids.flatMap((id, index) =>
      friends.has(id) ? [] : [{ path: `/body/taggedIds/${index}`, code: 'unknown_user', message: 'No friend of yours with this id' }],
    );
    if (errors.length > 0) {
      throw new ApiError('VALIDATION_FAILED', errors.length === 1 ? errors[0]!.message : `${errors.length} fields are invalid`, { errors });
    }
    return unique;
  }

  async function page(viewerId: string, where: SQL, request: Page) {
    const rows = await db
      .select()
      .from(memories)
      .where(
        and(
          where,
          request.after
            ? sql`(${memories.happenedOn}, ${memories.id}) < (${request.after.createdAt.toISOString().slice(0, 10)}::date, ${request.after.id}::uuid)`
            : undefined,
        ),
      )
      .orderBy(desc(memories.happenedOn), desc(memories.id))
      .limit(request.limit + 1);
    const items = rows.slice(0, request.limit);
    const last = items.at(-1);
    return { items: await views(viewerId, items), next: rows.length > request.limit && last ? dayKey(last) : null };
  }

  return {
    async create(ownerId: string, input: MemoryInput): Promise<MemoryView> {
      if (input.eventId !== undefined) {
        const [event] = await db
          .select({ id: events.id })
          .from(events)
          .where(and(eq(events.id, input.eventId), eventVisibleTo(ownerId)));
        if (!event) throw fieldError('/body/eventId', 'unknown_event', 'No event with this id');
      }
      const memory = await withNotifications(db, notifications, async (tx, tell) => {
        const tagged = await requireFriends(tx, ownerId, input.taggedIds ?? []);
        const [memory] = await tx
          .insert(memories)
          .values({
            ownerId,
            title: input.title,
            body: input.body,
            happenedOn: input.happenedOn,
            city: input.city,
            place: input.place,
            eventId: input.eventId,
            visibility: input.visibility,
          })
          .returning();
        if (tagged.length > 0) await tx.insert(memoryTags).values(tagged.map((userId) => ({ memoryId: memory!.id, userId })));
        await attachMedia(tx, ownerId, memory!.id, input.mediaIds ?? []);
        await tell(tagged.map((userId) => ({ userId, actorId: ownerId, kind: 'memory_tag', target: { type: 'memory', id: memory!.id } })));
        return memory!;
      });
      return (await views(ownerId, [memory]))[0]!;
    },

    async get(viewerId: string | null, memoryId: string): Promise<MemoryView> {
      return (await views(viewerId, [await visible(db, viewerId, memoryId)]))[0]!;
    },

    async update(ownerId: string, memoryId: string, patch: Partial<Omit<MemoryInput, 'eventId'>>): Promise<MemoryView> {
      const memory = await withNotifications(db, notifications, async (tx, tell) => {
        const current = await visible(tx, ownerId, memoryId);
        if (current.ownerId !== ownerId) throw new ApiError('FORBIDDEN', 'Only its owner may change a memory');
        const [updated] = await tx
          .update(memories)
          .set({
            title: patch.title,
            body: patch.body,
            happenedOn: patch.happenedOn,
            city: patch.city,
            place: patch.place,
            visibility: patch.visibility,
            editedAt: sql`now()`,
          })
          .where(eq(memories.id, memoryId))
          .returning();
        if (patch.mediaIds !== undefined) {
          await tx.delete(memoryMedia).where(eq(memoryMedia.memoryId, memoryId));
          await attachMedia(tx, ownerId, memoryId, patch.mediaIds);
        }
        if (patch.taggedIds !== undefined) {
          const tagged = await requireFriends(tx, ownerId, patch.taggedIds);
          const before = new Set(
            (await tx.select({ id: memoryTags.userId }).from(memoryTags).where(eq(memoryTags.memoryId, memoryId))).map((row) => row.id),
          );
          await tx
            .delete(memoryTags)
            .where(and(eq(memoryTags.memoryId, memoryId), tagged.length > 0 ? notInArray(memoryTags.userId, tagged) : undefined));
          const added = tagged.filter((id) => !before.has(id));
          if (added.length > 0) await tx.insert(memoryTags).values(added.map((userId) => ({ memoryId, userId })));
          await tell(added.map((userId) => ({ userId, actorId: ownerId, kind: 'memory_tag', target: { type: 'memory', id: memoryId } })));
        }
        return updated!;
      });
      return (await views(ownerId, [memory]))[0]!;
    },

    async remove(ownerId: string, memoryId: string): Promise<void> {
      const memory = await visible(db, ownerId, memoryId);
      if (memory.ownerId !== ownerId) throw new ApiError('FORBIDDEN', 'Only its owner may delete a memory');
      await db.delete(memories).where(eq(memories.id, memoryId));
    },

    async untag(userId: string, memoryId: string): Promise<void> {
      await visible(db, userId, memoryId);
      await db.delete(memoryTags).where(and(eq(memoryTags.memoryId, memoryId), eq(memoryTags.userId, userId)));
    },

    /** Mine (one range of memories_owner_day_idx), or those I am tagged in that I may see. */
    list(userId: string, tagged: boolean, request: Page) {
      const where = tagged
        ? and(
            sql`${memories.id} IN (SELECT ${memoryTags.memoryId} FROM ${memoryTags} WHERE ${memoryTags.userId} = ${userId})`,
            memoryVisibleTo(userId),
          )!
        : eq(memories.ownerId, userId);
      return page(userId, where, request);
    },

    /** Mine and those I am tagged in from this month and day of earlier years, latest year first. */
    onThisDay(userId: string, day: string, request: Page) {
      const [year, month, date] = day.split('-').map(Number) as [number, number, number];
      const where = and(
        sql`extract(month FROM ${memories.happenedOn}) = ${month} AND extract(day FROM ${memories.happenedOn}) = ${date}`,
        sql`${memories.happenedOn} < ${`${String(year).padStart(4, '0')}-01-01`}::date`,
        sql`(${memories.ownerId} = ${userId}
          OR ${memories.id} IN (SELECT ${memoryTags.memoryId} FROM ${memoryTags} WHERE ${memoryTags.userId} = ${userId}))`,
        memoryVisibleTo(userId),
      )!;
      return page(userId, where, request);
    },
  };
}

export type MemoryService = ReturnType<typeof createMemoryService>;
