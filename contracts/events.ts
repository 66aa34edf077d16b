import { z } from 'zod';
import { endpoint, paginated, Timestamp, Uuid } from '../runtime/contract';
import { User } from './users';

export const EventKind = z
  .enum(['milonga', 'practica', 'festival', 'marathon', 'encuentro', 'class', 'workshop'])
  .meta({ id: 'EventKind', description: 'What kind of tango event this is' });

const title = z.string().max(200).trim().min(1);
const description = z.string().max(5000);
const city = z.string().max(100).trim().min(1);
const country = z.string().max(100).trim().min(2);
const venue = z.string().max(200).trim().min(1);
const capacity = z.number().int().min(1).max(100_000).meta({ description: 'At most this many people `going`; absent or null is no limit' });
const count = z.number().int().min(0);

export const Event = z
  .object({
    id: Uuid,
    title,
    description,
    kind: EventKind,
    city,
    country: country.nullable(),
    venue: venue.nullable(),
    startsAt: Timestamp,
    endsAt: Timestamp,
    organizerId: Uuid,
    capacity: capacity.nullable(),
    groupId: Uuid.nullable().meta({ description: 'The group the event belongs to; a private group’s events are seen by its members only' }),
    goingCount: count.meta({ description: 'People whose RSVP is `going`' }),
    interestedCount: count.meta({ description: 'People whose RSVP is `interested`' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({
    id: 'Event',
    description: 'A milonga, practica, festival, marathon, encuentro, class or workshop',
    example: {
      id: '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d',
      title: 'Milonga de los Jueves',
      description: 'Classic tandas, live orchestra at midnight.',
      kind: 'milonga',
      city: 'Buenos Aires',
      country: 'Argentina',
      venue: 'Salón Canning',
      startsAt: '2030-11-14T22:00:00.000Z',
      endsAt: '2030-11-15T03:00:00.000Z',
      organizerId: '5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10',
      capacity: 120,
      groupId: null,
      goingCount: 87,
      interestedCount: 45,
      createdAt: '2026-11-20T12:00:00.000Z',
      updatedAt: '2026-11-20T12:00:00.000Z',
    },
  });

const EventFields = z.object({
  title,
  description: description.optional(),
  kind: EventKind,
  city,
  country: country.optional(),
  venue: venue.optional(),
  startsAt: Timestamp,
  endsAt: Timestamp,
  capacity: capacity.optional(),
});

const groupId = Uuid.meta({ description: 'A group whose owner or admin the caller is: the event belongs to it (it cannot move later)' });

const endAfterStart = (e: { startsAt?: string; endsAt?: string }) =>
  !e.startsAt || !e.endsAt || Date.parse(e.endsAt) > Date.parse(e.startsAt);
const endAfterStartIssue = { path: ['endsAt'], message: 'endsAt must be after startsAt' };

export const NewEvent = EventFields.extend({ groupId: groupId.optional() })
  .refine(endAfterStart, endAfterStartIssue)
  .meta({
    id: 'NewEvent',
    example: {
      title: 'Milonga de los Jueves',
      kind: 'milonga',
      city: 'Buenos Aires',
      venue: 'Salón Canning',
      startsAt: '2030-11-14T22:00:00.000Z',
      endsAt: '2030-11-15T03:00:00.000Z',
      capacity: 120,
    },
  });

export const EventPatch = EventFields.extend({
  description: description.optional(),
  country: country.nullable().optional(),
  venue: venue.nullable().optional(),
  capacity: capacity.nullable().optional(),
})
  .partial()
  .refine(endAfterStart, endAfterStartIssue)
  .meta({
    id: 'EventPatch',
    description: 'Fields to change; `null` clears country, venue or capacity',
    example: { venue: 'Salón Canning', capacity: 150 },
  });

const EventParams = z.object({ eventId: Uuid });

export const listEvents = endpoint({
  method: 'GET',
  version: 1,
  path: '/events',
  operationId: 'listEvents',
  summary: 'List events',
  description:
    'Events in creation order, filtered by city, kind and date range, one cursor page at a time. Events of a private group are ' +
    'listed to its members only.',
  tags: ['events'],
  auth: 'optional',
  query: z.object({
    city: city.optional().meta({ description: 'City, case-insensitive', example: 'Buenos Aires' }),
    kind: EventKind.optional(),
    from: Timestamp.optional().meta({ description: 'Only events still running at or after this time' }),
    to: Timestamp.optional().meta({ description: 'Only events starting at or before this time' }),
  }),
  response: paginated(Event),
  cache: { scope: 'private', maxAge: 0 },
});

export const getEvent = endpoint({
  method: 'GET',
  version: 1,
  path: '/events/{eventId}',
  operationId: 'getEvent',
  summary: 'Get one event',
  description: 'An event of a private group is 404 `NOT_FOUND` to anyone but its members, as one that does not exist.',
  tags: ['events'],
  auth: 'optional',
  params: EventParams,
  response: { status: 200, body: Event },
  // Revalidated on every use (what a viewer sees changes with RSVPs): an unchanged event costs a 304.
  cache: { scope: 'private', maxAge: 0 },
  errors: ['NOT_FOUND'],
});

export const createEvent = endpoint({
  method: 'POST',
  version: 1,
  path: '/events',
  operationId: 'createEvent',
  summary: 'Create an event',
  description:
    'The signed-in user becomes the organizer of the new event. With `groupId`, the event belongs to that group: only its owner ' +
    'and admins may do that (403 `FORBIDDEN`; an unknown group is a validation error on `/body/groupId`).',
  tags: ['events'],
  auth: 'user',
  body: NewEvent,
  response: { status: 201, body: Event },
  errors: ['FORBIDDEN'],
  rateLimit: { points: 60, windowSeconds: 3600, key: 'user' },
});

export const updateEvent = endpoint({
  method: 'PATCH',
  version: 1,
  path: '/events/{eventId}',
  operationId: 'updateEvent',
  summary: 'Change an event',
  description:
    'Only the organizer may change an event. A capacity below the number of people already `going` is refused ' +
    'with 409 `CAPACITY_BELOW_GOING`; nobody’s RSVP is dropped. A change of title, place or time is notified to everyone ' +
    'who answered the event. With `If-Match` (the ETag getEvent sent) the change is made only if the event is as read: ' +
    'any change since, an RSVP included (its counts are part of the event), is 412 `PRECONDITION_FAILED`; read it again.',
  tags: ['events'],
  auth: 'user',
  params: EventParams,
  body: EventPatch,
  response: { status: 200, body: Event },
  errors: ['NOT_FOUND', 'FORBIDDEN', 'CAPACITY_BELOW_GOING'],
  // Two organizers editing at once: the second, holding the ETag read before the first change, gets 412.
  // The ETag covers the whole event, counts of RSVPs too: an answer between reading and saving is a 412 (read again).
  ifMatch: true,
});

export const deleteEvent = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/events/{eventId}',
  operationId: 'deleteEvent',
  summary: 'Delete an event',
  description: 'Only the organizer may delete an event. Everyone who had answered it is told it is cancelled.',
  tags: ['events'],
  auth: 'user',
  params: EventParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
});

export const RsvpStatus = z
  .enum(['going', 'interested'])
  .meta({ id: 'RsvpStatus', description: '`going` counts against the capacity; `interested` does not' });

export const RsvpInput = z.object({ status: RsvpStatus }).meta({ id: 'RsvpInput', example: { status: 'going' } });

export const Rsvp = z
  .object({
    eventId: Uuid,
    userId: Uuid,
    status: RsvpStatus,
    respondedAt: Timestamp.meta({ description: 'When this status was chosen; answering the same again keeps it' }),
  })
  .meta({
    id: 'Rsvp',
    description: 'One person’s answer to an event',
    example: {
      eventId: '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d',
      userId: '5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10',
      status: 'going',
      respondedAt: '2026-12-01T18:30:00.000Z',
    },
  });

export const Attendee = z.object({ user: User, status: RsvpStatus, respondedAt: Timestamp }).meta({
  id: 'Attendee',
  description: 'Someone who answered an event, with their public profile',
  example: {
    user: {
      id: '5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10',
      username: 'carlos.gavito',
      displayName: 'Carlos Gavito',
      bio: 'Tango is a feeling that is danced.',
      city: 'Buenos Aires',
      danceRole: 'leader',
      avatarUrl: null,
      avatarMediaId: null,
      createdAt: '2026-11-20T12:00:00.000Z',
    },
    status: 'going',
    respondedAt: '2026-12-01T18:30:00.000Z',
  },
});

const rsvpRules =
  'An event that has ended takes no more RSVPs and keeps its list: 409 `EVENT_ENDED`. 404 when there is no such event, ' +
  'or it belongs to a private group the caller is not a member of.';

export const rsvpToEvent = endpoint({
  method: 'PUT',
  version: 1,
  path: '/events/{eventId}/rsvp',
  operationId: 'rsvpToEvent',
  summary: 'Answer an event: going or interested',
  description:
    'Sets the caller’s answer, replacing the one before; the same answer again changes nothing. `going` past the ' +
    'event’s capacity is refused with 409 `EVENT_FULL` (moving from `interested` to `going` takes a place too; ' +
    'answers sent at the same moment never take more places than there are). ' +
    rsvpRules,
  tags: ['events'],
  auth: 'user',
  params: EventParams,
  body: RsvpInput,
  response: { status: 200, body: Rsvp },
  errors: ['NOT_FOUND', 'EVENT_FULL', 'EVENT_ENDED'],
  rateLimit: { name: 'rsvp', points: 120, windowSeconds: 3600, key: 'user' },
});

export const removeRsvp = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/events/{eventId}/rsvp',
  operationId: 'removeRsvp',
  summary: 'Withdraw my answer to an event',
  description: `Frees the caller’s place; 204 also when there was no answer. ${rsvpRules}`,
  tags: ['events'],
  auth: 'user',
  params: EventParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'EVENT_ENDED'],
});

export const listAttendees = endpoint({
  method: 'GET',
  version: 1,
  path: '/events/{eventId}/attendees',
  operationId: 'listAttendees',
  summary: 'List who answered an event',
  description:
    'Most recent answer first, optionally only `going` or only `interested`; people with a block between them ' +
    'and the caller, either way, are left out. The counts are on the event (`goingCount`, `interestedCount`). ' +
    '404 when there is no such event, or it belongs to a private group the caller is not a member of.',
  tags: ['events'],
  auth: 'user',
  params: EventParams,
  query: z.object({ status: RsvpStatus.optional().meta({ description: 'Only answers with this status' }) }),
  response: paginated(Attendee),
  errors: ['NOT_FOUND'],
});

export const listMyEvents = endpoint({
  method: 'GET',
  version: 1,
  path: '/users/me/events',
  operationId: 'listMyEvents',
  summary: 'List my events',
  description: 'Events the caller organizes or has answered (`going` or `interested`), newest event first.',
  tags: ['events'],
  auth: 'user',
  response: paginated(Event),
});
