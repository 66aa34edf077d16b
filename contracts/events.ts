import { z } from 'zod';
import { endpoint, paginated, Timestamp, Uuid } from '../runtime/contract';

export const EventKind = z
  .enum(['milonga', 'practica', 'festival', 'marathon', 'encuentro', 'class', 'workshop'])
  .meta({ id: 'EventKind', description: 'What kind of tango event this is' });

const title = z.string().max(200).trim().min(1);
const description = z.string().max(5000);
const city = z.string().max(100).trim().min(1);
const country = z.string().max(100).trim().min(2);
const venue = z.string().max(200).trim().min(1);

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
      startsAt: '2026-12-03T22:00:00.000Z',
      endsAt: '2026-12-04T03:00:00.000Z',
      organizerId: '5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10',
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
});

const endAfterStart = (e: { startsAt?: string; endsAt?: string }) =>
  !e.startsAt || !e.endsAt || Date.parse(e.endsAt) > Date.parse(e.startsAt);
const endAfterStartIssue = { path: ['endsAt'], message: 'endsAt must be after startsAt' };

export const NewEvent = EventFields.refine(endAfterStart, endAfterStartIssue).meta({
  id: 'NewEvent',
  example: {
    title: 'Milonga de los Jueves',
    kind: 'milonga',
    city: 'Buenos Aires',
    venue: 'Salón Canning',
    startsAt: '2026-12-03T22:00:00.000Z',
    endsAt: '2026-12-04T03:00:00.000Z',
  },
});

export const EventPatch = EventFields.extend({
  description: description.optional(),
  country: country.nullable().optional(),
  venue: venue.nullable().optional(),
})
  .partial()
  .refine(endAfterStart, endAfterStartIssue)
  .meta({ id: 'EventPatch', description: 'Fields to change; `null` clears country or venue' });

const EventParams = z.object({ eventId: Uuid });

export const listEvents = endpoint({
  method: 'GET',
  version: 1,
  path: '/events',
  operationId: 'listEvents',
  summary: 'List events',
  description: 'Events in creation order, filtered by city, kind and date range, one cursor page at a time.',
  tags: ['events'],
  auth: 'public',
  query: z.object({
    city: city.optional().meta({ description: 'City, case-insensitive', example: 'Buenos Aires' }),
    kind: EventKind.optional(),
    from: Timestamp.optional().meta({ description: 'Only events still running at or after this time' }),
    to: Timestamp.optional().meta({ description: 'Only events starting at or before this time' }),
  }),
  response: paginated(Event),
});

export const getEvent = endpoint({
  method: 'GET',
  version: 1,
  path: '/events/{eventId}',
  operationId: 'getEvent',
  summary: 'Get one event',
  tags: ['events'],
  auth: 'public',
  params: EventParams,
  response: { status: 200, body: Event },
  errors: ['NOT_FOUND'],
});

export const createEvent = endpoint({
  method: 'POST',
  version: 1,
  path: '/events',
  operationId: 'createEvent',
  summary: 'Create an event',
  description: 'The signed-in user becomes the organizer of the new event.',
  tags: ['events'],
  auth: 'user',
  body: NewEvent,
  response: { status: 201, body: Event },
  rateLimit: { points: 60, windowSeconds: 3600, key: 'user' },
});

export const updateEvent = endpoint({
  method: 'PATCH',
  version: 1,
  path: '/events/{eventId}',
  operationId: 'updateEvent',
  summary: 'Change an event',
  description: 'Only the organizer may change an event.',
  tags: ['events'],
  auth: 'user',
  params: EventParams,
  body: EventPatch,
  response: { status: 200, body: Event },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
});

export const deleteEvent = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/events/{eventId}',
  operationId: 'deleteEvent',
  summary: 'Delete an event',
  description: 'Only the organizer may delete an event.',
  tags: ['events'],
  auth: 'user',
  params: EventParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
});
