import { and, asc, eq, getTableColumns, gte, isNull, lte, sql, type SQL } from 'drizzle-orm';
import type { AppDb, Tx } from '../db/database';
import { after, toPage, type PageKey } from '../db/keyset';
import { eventRsvps, events, groupMembers, groups, type EventKind } from '../db/schema';
import { eventVisibleTo } from './groups';
import { blockPartners } from './social';
import { type NotificationService, withNotifications } from './notifications';

export type EventRecord = typeof events.$inferSelect;

export interface NewEvent {
  organizerId: string;
  title: string;
  description?: string;
  kind: EventKind;
  city: string;
  country?: string | null;
  venue?: string | null;
  startsAt: Date;
  endsAt: Date;
  capacity?: number | null;
  groupId?: string | null;
}

export type EventPatch = Partial<Omit<NewEvent, 'organizerId' | 'groupId'>>;

export interface EventFilter {
  /** Matched case-insensitively, whole value. */
  city?: string;
  kind?: EventKind;
  /** Events still running at or after this instant (ends_at >= from). */
  from?: Date;
  /** Events starting at or before this instant (starts_at <= to). */
  to?: Date;
  limit: number;
  after: PageKey | null;
  /** Who lists: a private group's events are left out for anyone but its members (absent or null: signed out). */
  viewerId?: string | null;
}

export interface EventPage {
  items: EventRecord[];
  next: PageKey | null;
}

export interface EventStore {
  /**
   * With a `groupId`, the organizer must be the group's owner or an admin ('not-admin'; 'missing-group'
   * for an unknown group), checked in the insert's transaction with the membership row locked, so a
   * concurrent removal, demotion or deletion of the group waits for it or is seen by it.
   */
  create(input: NewEvent & { groupId?: null }): Promise<EventRecord>;
  create(input: NewEvent): Promise<EventRecord | 'missing-group' | 'not-admin'>;
  /** The event, whoever asks (for the app's own checks). */
  get(id: string): Promise<EventRecord | undefined>;
  /** The event if the viewer may see it (null: signed out): a private group's events are for its members. */
  find(id: string, viewerId: string | null): Promise<EventRecord | undefined>;
  /**
   * 'capacity-below-going' when the patch's capacity is under the people already going: nothing
   * changes. A change of title, place or time tells everyone who answered (`event_changed`).
   */
  /** `precondition` sees the event as its organizer reads it, under the write's lock, and may throw to stop the change. */
  update(
    id: string,
    patch: EventPatch,
    actorId: string,
    precondition?: (current: EventRecord) => void,
  ): Promise<EventRecord | 'capacity-below-going' | 'ends-before-start' | undefined>;
  /** Deletes the event; everyone who answered it is told it is cancelled (`event_cancelled`). */
  remove(id: string, actorId: string): Promise<boolean>;
  list(filter: EventFilter): Promise<EventPage>;
}

// Timestamps come from the database clock, not this process's, so rows written by different
// instances still sort in the order they were written.
const databaseNow = sql`now()`;

/**
 * An event's columns as the viewer sees them: its counts leave out the people across a block with
 * the viewer, as its attendee list does (the stored counts, everyone's, are what capacity is checked
 * against). Signed out, the stored counts. The subqueries name their columns with their tables: a
 * one-table select writes its own unqualified.
 */
export function eventColumns(viewerId: string | null) {
  const columns = getTableColumns(events);
  if (viewerId === null) return columns;
  const seen = (status: 'going' | 'interested') =>
    sql<number>`("events"."${sql.raw(status)}_count" - (SELECT count(*)::int FROM event_rsvps h
      WHERE h.event_id = "events"."id" AND h.status = ${status} AND h.user_id IN ${blockPartners(viewerId)}))`.mapWith(Number);
  return { ...columns, goingCount: seen('going'), interestedCount: seen('interested') };
}

/** What attendees are told about when it changes. */
const NOTIFIED_FIELDS = ['title', 'city', 'country', 'venue', 'startsAt', 'endsAt'] as const;

async function attendeeIds(tx: Tx, eventId: string): Promise<string[]> {
  return (await tx.select({ userId: eventRsvps.userId }).from(eventRsvps).where(eq(eventRsvps.eventId, eventId))).map((row) => row.userId);
}

export function createEventStore(db: AppDb, notifications?: NotificationService): EventStore {
  return {
    create: ((input: NewEvent) =>
      db.transaction(async (tx) => {
        if (input.groupId) {
          // A hidden group takes no events (it is frozen): as missing.
          const [group] = await tx
            .select({ id: groups.id })
            .from(groups)
            .where(and(eq(groups.id, input.groupId), isNull(groups.hiddenAt)))
            .for('key share');
          if (!group) return 'missing-group' as const;
          const [member] = await tx
            .select({ role: groupMembers.role })
            .from(groupMembers)
            .where(and(eq(groupMembers.groupId, input.groupId), eq(groupMembers.userId, input.organizerId)))
            .for('share');
          if (member?.role !== 'owner' && member?.role !== 'admin') return 'not-admin' as const;
        }
        const [created] = await tx
          .insert(events)
          .values({
            organizerId: input.organizerId,
            title: input.title,
            description: input.description,
            kind: input.kind,
            city: input.city,
            country: input.country,
            venue: input.venue,
            startsAt: input.startsAt,
            endsAt: input.endsAt,
            capacity: input.capacity,
            groupId: input.groupId,
            updatedAt: databaseNow,
          })
          .returning();
        if (!created) throw new Error('INSERT … RETURNING returned no row');
        return created;
      })) as EventStore['create'],

    async get(id) {
      const [found] = await db.select().from(events).where(eq(events.id, id));
      return found;
    },

    async find(id, viewerId) {
      const [found] = await db
        .select(eventColumns(viewerId))
        .from(events)
        .where(and(eq(events.id, id), eventVisibleTo(viewerId)));
      return found;
    },

    update(id, patch, actorId, precondition) {
      return withNotifications(db, notifications, async (tx, tell) => {
        const [current] = await tx.select().from(events).where(eq(events.id, id)).for('update');
        if (!current) return undefined;
        if (precondition) {
          const [seen] = await tx.select(eventColumns(actorId)).from(events).where(eq(events.id, id));
          precondition(seen!);
        }
        // A patch with one time is checked against the other as stored now, under the lock: a time
        // another organizer just changed is neither overwritten nor crossed.
        if ((patch.endsAt ?? current.endsAt) <= (patch.startsAt ?? current.startsAt)) return 'ends-before-start';
        const updated = await write(tx, id, patch);
        if (updated && updated !== 'capacity-below-going') {
          const changed = NOTIFIED_FIELDS.some((field) => String(updated[field]) !== String(current[field]));
          if (changed && updated.endsAt > new Date()) {
            await tell(
              (await attendeeIds(tx, id)).map((userId) => ({ userId, actorId, kind: 'event_changed', target: { type: 'event', id } })),
            );
          }
        }
        return updated;
      });
    },

    remove(id, actorId) {
      return withNotifications(db, notifications, async (tx, tell) => {
        const [current] = await tx.select({ endsAt: events.endsAt }).from(events).where(eq(events.id, id)).for('update');
        if (!current) return false;
        if (current.endsAt > new Date()) {
          await tell(
            (await attendeeIds(tx, id)).map((userId) => ({ userId, actorId, kind: 'event_cancelled', target: { type: 'event', id } })),
          );
        }
        await tx.delete(events).where(eq(events.id, id));
        return true;
      });
    },

    async list(filter) {
      const conditions: SQL[] = [eventVisibleTo(filter.viewerId ?? null)];
      if (filter.city !== undefined) conditions.push(sql`lower(${events.city}) = lower(${filter.city})`);
      if (filter.kind !== undefined) conditions.push(eq(events.kind, filter.kind));
      if (filter.from !== undefined) conditions.push(gte(events.endsAt, filter.from));
      if (filter.to !== undefined) conditions.push(lte(events.startsAt, filter.to));
      if (filter.after) conditions.push(after(events.createdAt, events.id, filter.after));
      const rows = await db
        .select(eventColumns(filter.viewerId ?? null))
        .from(events)
        .where(and(...conditions))
        .orderBy(asc(events.createdAt), asc(events.id))
        .limit(filter.limit + 1);
      return toPage(rows, filter.limit);
    },
  };
}

/**
 * Writes a patch in the caller's transaction (the event's row already locked). The capacity is
 * checked against the people going in the statement itself.
 */
async function write(tx: Tx, id: string, patch: EventPatch): Promise<EventRecord | 'capacity-below-going' | undefined> {
  // Drizzle leaves out undefined fields, so an absent key keeps its stored value.
  const [updated] = await tx
    .update(events)
    .set({
      title: patch.title,
      description: patch.description,
      kind: patch.kind,
      city: patch.city,
      country: patch.country,
      venue: patch.venue,
      startsAt: patch.startsAt,
      endsAt: patch.endsAt,
      capacity: patch.capacity,
      updatedAt: databaseNow,
    })
    .where(and(eq(events.id, id), typeof patch.capacity === 'number' ? lte(events.goingCount, patch.capacity) : undefined))
    .returning();
  if (updated || typeof patch.capacity !== 'number') return updated;
  return 'capacity-below-going';
}
