import { ApiError, fieldError } from '../../runtime/server';
import type { EventsHandlers } from '../../generated/server';
import type { Services } from '../services';
import type { EventRecord } from '../services/events';
import type { Attendee, RsvpRecord } from '../services/rsvps';
import { toUser } from '../services/user-views';

export const events: EventsHandlers<Services> = {
  async listEvents({ query, page }, { eventStore, user }) {
    const { items, next } = await eventStore.list({
      viewerId: user?.id ?? null,
      city: query.city,
      kind: query.kind,
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      limit: page.limit,
      after: page.after,
    });
    return { items: items.map(toEvent), next };
  },

  async getEvent({ params }, { eventStore, user }) {
    return toEvent(found(await eventStore.find(params.eventId, user?.id ?? null)));
  },

  async createEvent({ body }, { eventStore, user }) {
    const created = await eventStore.create({
      ...body,
      organizerId: user.id,
      startsAt: new Date(body.startsAt),
      endsAt: new Date(body.endsAt),
    });
    if (created === 'missing-group') throw fieldError('/body/groupId', 'unknown_group', 'No group with this id');
    if (created === 'not-admin') throw new ApiError('FORBIDDEN', 'Only the group’s owner and admins create its events');
    return toEvent(created);
  },

  async updateEvent({ params, body }, { eventStore, groups, user, precondition }) {
    const current = await mayChange(found(await eventStore.find(params.eventId, user.id)), user.id, groups);
    // The contract checks a patch that holds both times; one time alone is checked by the store, against the stored other.
    const times = {
      startsAt: body.startsAt ? new Date(body.startsAt) : undefined,
      endsAt: body.endsAt ? new Date(body.endsAt) : undefined,
    };
    const updated = await eventStore.update(current.id, { ...body, ...times }, user.id, (seen) => precondition(toEvent(seen)));
    if (updated === 'ends-before-start')
      throw fieldError(body.endsAt ? '/body/endsAt' : '/body/startsAt', 'custom', 'endsAt must be after startsAt');
    if (updated === 'capacity-below-going') {
      throw new ApiError('CAPACITY_BELOW_GOING', 'More people are already going than this capacity holds');
    }
    return toEvent(found(updated));
  },

  async deleteEvent({ params }, { eventStore, groups, user }) {
    const current = await mayChange(found(await eventStore.find(params.eventId, user.id)), user.id, groups);
    await eventStore.remove(current.id, user.id);
  },

  async rsvpToEvent({ params, body }, { rsvps, user }) {
    return toRsvp(await rsvps.answer(params.eventId, user.id, body.status));
  },

  async removeRsvp({ params }, { rsvps, user }) {
    await rsvps.withdraw(params.eventId, user.id);
  },

  async listAttendees({ params, query, page }, { rsvps, user }) {
    const { items, next } = await rsvps.attendees(params.eventId, user.id, query.status, page);
    return { items: items.map(toAttendee), next };
  },

  async listMyEvents({ page }, { rsvps, user }) {
    const { items, next } = await rsvps.eventsOf(user.id, page);
    return { items: items.map(toEvent), next };
  },
};

function found(event: EventRecord | undefined): EventRecord {
  if (!event) throw new ApiError('NOT_FOUND', 'No event with this id');
  return event;
}

/**
 * Who changes an event: its organizer; for a group's event, the group's owner and admins (the
 * organizer too, while still one of them).
 */
async function mayChange(event: EventRecord, userId: string, groups: Services['groups']): Promise<EventRecord> {
  if (event.groupId) {
    const role = await groups.roleIn(event.groupId, userId);
    if (role !== 'owner' && role !== 'admin') throw new ApiError('FORBIDDEN', 'Only the group’s owner and admins may change its events');
  } else if (event.organizerId !== userId) {
    throw new ApiError('FORBIDDEN', 'Only the organizer of this event may change it');
  }
  return event;
}

export function toEvent(event: EventRecord) {
  return {
    ...event,
    startsAt: event.startsAt.toISOString(),
    endsAt: event.endsAt.toISOString(),
    createdAt: event.createdAt.toISOString(),
    updatedAt: event.updatedAt.toISOString(),
  };
}

function toRsvp(rsvp: RsvpRecord) {
  return { ...rsvp, respondedAt: rsvp.respondedAt.toISOString() };
}

function toAttendee(attendee: Attendee) {
  return { user: toUser(attendee.user), status: attendee.status, respondedAt: attendee.respondedAt.toISOString() };
}
