import { and, asc, eq, gte, lte, sql, type SQL } from 'drizzle-orm';
import type { AppDb } from '../db/database';
import { after, toPage, type PageKey } from '../db/keyset';
import { events, type EventKind } from '../db/schema';

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
}

export type EventPatch = Partial<Omit<NewEvent, 'organizerId'>>;

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
}

export interface EventPage {
  items: EventRecord[];
  next: PageKey | null;
}

export interface EventStore {
  create(input: NewEvent): Promise<EventRecord>;
  get(id: string): Promise<EventRecord | undefined>;
  /** 'capacity-below-going' when the patch's capacity is under the people already going: nothing changes. */
  update(id: string, patch: EventPatch): Promise<EventRecord | 'capacity-below-going' | undefined>;
  remove(id: string): Promise<boolean>;
  list(filter: EventFilter): Promise<EventPage>;
}

// Timestamps come from the database clock, not this process's, so rows written by different
// instances still sort in the order they were written.
const databaseNow = sql`now()`;

export function createEventStore(db: AppDb): EventStore {
  return {
    async create(input) {
      const [created] = await db
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
          updatedAt: databaseNow,
        })
        .returning();
      if (!created) throw new Error('INSERT … RETURNING returned no row');
      return created;
    },

    async get(id) {
      const [found] = await db.select().from(events).where(eq(events.id, id));
      return found;
    },

    async update(id, patch) {
      // Drizzle leaves out undefined fields, so an absent key keeps its stored value.
      const [updated] = await db
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
        // Checked in the statement itself: an RSVP holding the row makes this wait, then see its count.
        .where(and(eq(events.id, id), typeof patch.capacity === 'number' ? lte(events.goingCount, patch.capacity) : undefined))
        .returning();
      if (updated || typeof patch.capacity !== 'number') return updated;
      const [exists] = await db.select({ id: events.id }).from(events).where(eq(events.id, id));
      return exists ? 'capacity-below-going' : undefined;
    },

    async remove(id) {
      const deleted = await db.delete(events).where(eq(events.id, id)).returning({ id: events.id });
      return deleted.length > 0;
    },

    async list(filter) {
      const conditions: SQL[] = [];
      if (filter.city !== undefined) conditions.push(sql`lower(${events.city}) = lower(${filter.city})`);
      if (filter.kind !== undefined) conditions.push(eq(events.kind, filter.kind));
      if (filter.from !== undefined) conditions.push(gte(events.endsAt, filter.from));
      if (filter.to !== undefined) conditions.push(lte(events.startsAt, filter.to));
      if (filter.after) conditions.push(after(events.createdAt, events.id, filter.after));
      const rows = await db
        .select()
        .from(events)
        .where(and(...conditions))
        .orderBy(asc(events.createdAt), asc(events.id))
        .limit(filter.limit + 1);
      return toPage(rows, filter.limit);
    },
  };
}
