import { ApiError, fieldError } from '../../runtime/server';
import type { EventsHandlers } from '../../generated/server';
import type { Services } from '../services';
import type { EventRecord } from '../services/events';

export const events: EventsHandlers<Services> = {
  async listEvents({ query, page }, { eventStore }) {
    const { items, next } = await eventStore.list({
      city: query.city,
      kind: query.kind,
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      limit: page.limit,
      after: page.after,
    });
    return { items: items.map(toEvent), next };
  },

  async getEvent({ params }, { eventStore }) {
    return toEvent(found(await eventStore.get(params.eventId)));
  },

  async createEvent({ body }, { eventStore, user }) {
    const created = await eventStore.create({
      ...body,
      organizerId: user.id,
      startsAt: new Date(body.startsAt),
      endsAt: new Date(body.endsAt),
    });
    return toEvent(created);
  },

  async updateEvent({ params, body }, { eventStore, user }) {
    const current = organizedBy(found(await eventStore.get(params.eventId)), user.id);
    const startsAt = body.startsAt ? new Date(body.startsAt) : current.startsAt;
    const endsAt = body.endsAt ? new Date(body.endsAt) : current.endsAt;
    // The contract checks a patch that holds both times; one time alone is checked against the stored other.
    if (endsAt <= startsAt) throw fieldError(body.endsAt ? '/body/endsAt' : '/body/startsAt', 'custom', 'endsAt must be after startsAt');
    const updated = await eventStore.update(current.id, { ...body, startsAt, endsAt });
    return toEvent(found(updated));
  },

  async deleteEvent({ params }, { eventStore, user }) {
    const current = organizedBy(found(await eventStore.get(params.eventId)), user.id);
    await eventStore.remove(current.id);
  },
};

function found(event: EventRecord | undefined): EventRecord {
  if (!event) throw new ApiError('NOT_FOUND', 'No event with this id');
  return event;
}

function organizedBy(event: EventRecord, userId: string): EventRecord {
  if (event.organizerId !== userId) throw new ApiError('FORBIDDEN', 'Only the organizer of this event may change it');
  return event;
}

function toEvent(event: EventRecord) {
  return {
    ...event,
    startsAt: event.startsAt.toISOString(),
    endsAt: event.endsAt.toISOString(),
    createdAt: event.createdAt.toISOString(),
    updatedAt: event.updatedAt.toISOString(),
  };
}
