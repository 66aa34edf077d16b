import { and, desc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import { ApiError } from '../../runtime/server';
import type { AppDb } from '../db/database';
import { before, toPage, type PageKey, type Page } from '../db/keyset';
import { eventRsvps, events, users, type RsvpStatus } from '../db/schema';
import { type EventRecord, eventColumns } from './events';
import { eventVisibleTo } from './groups';
import { type NotificationService, withNotifications } from './notifications';
import { blockedEitherWay } from './social';
import type { UserRecord } from './users';

export type RsvpRecord = typeof eventRsvps.$inferSelect;

export interface Attendee {
  user: UserRecord;
  status: RsvpStatus;
  respondedAt: Date;
}

/**
 * RSVPs: the rules (no answers to an ended event, `going` within capacity) and their storage.
 * Every write first locks the event's row, so the answers to one event are decided one at a time
 * on every backend and every instance; the counts on the row are kept by a trigger (migration
 * 0007) whose CHECK (going_count <= capacity) would refuse an oversold event even without the lock.
 */
/** `notifications` tells an event's organizer of each new or changed answer (collapsed per event). */
export function createRsvpService(db: AppDb, notifications?: NotificationService) {
  /**
   * The event's row, locked until the transaction ends; 404 when absent or not the user's to see (a
   * private group's event), 409 once it has ended (database clock).
   */
  async function lockOpenEvent(tx: AppDb, eventId: string, userId: string) {
    const [event] = await tx
      .select({
        capacity: events.capacity,
        goingCount: events.goingCount,
        organizerId: events.organizerId,
        ended: sql<boolean>`${events.endsAt} <= now()`,
      })
      .from(events)
      // Someone who answered may still withdraw after losing sight of it (left a private group, say).
      .where(
        and(
          eq(events.id, eventId),
          or(
            eventVisibleTo(userId),
            sql`EXISTS (SELECT 1 FROM ${eventRsvps} WHERE ${eventRsvps.eventId} = ${events.id} AND ${eventRsvps.userId} = ${userId})`,
          ),
        ),
      )
      .for('update');
    if (!event) throw new ApiError('NOT_FOUND', 'No event with this id');
    if (event.ended) throw new ApiError('EVENT_ENDED', 'This event has ended');
    return event;
  }

  async function requireEvent(eventId: string, viewerId: string) {
    const [event] = await db
      .select({ id: events.id })
      .from(events)
      .where(and(eq(events.id, eventId), eventVisibleTo(viewerId)));
    if (!event) throw new ApiError('NOT_FOUND', 'No event with this id');
  }

  return {
    /** Sets a user's answer; the same answer again changes nothing (its respondedAt stays). */
    async answer(eventId: string, userId: string, status: RsvpStatus): Promise<RsvpRecord> {
      return withNotifications(db, notifications, async (tx, tell) => {
        const event = await lockOpenEvent(tx, eventId, userId);
        const mine = and(eq(eventRsvps.eventId, eventId), eq(eventRsvps.userId, userId));
        const [current] = await tx.select().from(eventRsvps).where(mine);
        if (current?.status === status) return current;
        if (status === 'going' && event.capacity !== null && event.goingCount >= event.capacity) {
          throw new ApiError('EVENT_FULL', `All ${event.capacity} places are taken`);
        }
        const [written] = await tx
          .insert(eventRsvps)
          .values({ eventId, userId, status })
          .onConflictDoUpdate({ target: [eventRsvps.eventId, eventRsvps.userId], set: { status, respondedAt: sql`now()` } })
          .returning();
        if (!written) throw new Error('INSERT … RETURNING returned no row');
        // The organizer hears of it (not of their own answer: notify skips the actor's own).
        await tell({ userId: event.organizerId, actorId: userId, kind: 'event_rsvp', target: { type: 'event', id: eventId } });
        return written;
      });
    },

    /** Withdraws a user's answer, if any. */
    async withdraw(eventId: string, userId: string): Promise<void> {
      await db.transaction(async (tx) => {
        await lockOpenEvent(tx, eventId, userId);
        await tx.delete(eventRsvps).where(and(eq(eventRsvps.eventId, eventId), eq(eventRsvps.userId, userId)));
      });
    },

    /**
     * Who answered, most recent answer first; each page is a range of one of the event's indexes.
     * Someone with a block between them and the viewer, either way, is left out (social.ts's rule).
     * The counts on the event stay everyone's: they are what the capacity is checked against.
     */
    async attendees(
      eventId: string,
      viewerId: string,
      status: RsvpStatus | undefined,
      page: Page,
    ): Promise<{ items: Attendee[]; next: PageKey | null }> {
      await requireEvent(eventId, viewerId);
      const conditions: (SQL | undefined)[] = [eq(eventRsvps.eventId, eventId), sql`NOT ${blockedEitherWay(viewerId, eventRsvps.userId)}`];
      if (status) conditions.push(eq(eventRsvps.status, status));
      if (page.after) conditions.push(before(eventRsvps.respondedAt, eventRsvps.userId, page.after));
      const rows = await db
        .select({ user: users, status: eventRsvps.status, respondedAt: eventRsvps.respondedAt })
        .from(eventRsvps)
        .innerJoin(users, eq(users.id, eventRsvps.userId))
        .where(and(...conditions))
        .orderBy(desc(eventRsvps.respondedAt), desc(eventRsvps.userId))
        .limit(page.limit + 1);
      const items = rows.slice(0, page.limit);
      const last = items.at(-1);
      return { items, next: rows.length > page.limit && last ? { createdAt: last.respondedAt, id: last.user.id } : null };
    },

    /**
     * Events a user organizes or answered, newest event first. The ids come from two index ranges
     * (events by organizer, RSVPs by user), bounded by what one person takes part in.
     */
    async eventsOf(userId: string, page: Page): Promise<{ items: EventRecord[]; next: PageKey | null }> {
      const organized = db.select({ id: events.id }).from(events).where(eq(events.organizerId, userId));
      const answered = db.select({ id: eventRsvps.eventId }).from(eventRsvps).where(eq(eventRsvps.userId, userId));
      const rows = await db
        .select(eventColumns(userId))
        .from(events)
        .where(
          and(
            inArray(events.id, organized.union(answered)),
            eventVisibleTo(userId),
            page.after ? before(events.createdAt, events.id, page.after) : undefined,
          ),
        )
        .orderBy(desc(events.createdAt), desc(events.id))
        .limit(page.limit + 1);
      return toPage(rows, page.limit);
    },
  };
}

export type RsvpService = ReturnType<typeof createRsvpService>;
