/**
 * What the generated handler interfaces promise at compile time (compiled by `npm run typecheck`):
 * a complete, correctly typed set of handlers compiles; a missing handler, a result of the wrong
 * shape or a path parameter the contract does not declare does not. Each `@ts-expect-error` sits
 * on the one line that must fail, and fails the build if that line starts to compile.
 */
import { expectTypeOf } from 'vitest';
import type { EventsHandlers, Handlers, HealthHandlers } from '../../generated/server';
import { ApiError, type AuthUser } from '../../runtime/server';

interface Services {
  now: () => Date;
}

const sample = {
  id: '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d',
  title: 'Milonga de los Jueves',
  description: '',
  kind: 'milonga' as const,
  city: 'Buenos Aires',
  country: null,
  venue: null,
  startsAt: '2026-12-03T22:00:00.000Z',
  endsAt: '2026-12-04T03:00:00.000Z',
  organizerId: '5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10',
  capacity: null,
  groupId: null,
  goingCount: 0,
  interestedCount: 0,
  createdAt: '2026-11-20T12:00:00.000Z',
  updatedAt: '2026-11-20T12:00:00.000Z',
};

type Events = EventsHandlers<Services>;

const listEvents: Events['listEvents'] = async ({ query, page }) => {
  const items = query.city ? [sample] : [];
  return { items: items.slice(0, page.limit), next: null };
};
const getEvent: Events['getEvent'] = async ({ params }) => {
  if (params.eventId !== sample.id) throw new ApiError('NOT_FOUND', 'No event with this id');
  return sample;
};
const createEvent: Events['createEvent'] = async ({ body }, { user, now }) => {
  const at = now().toISOString();
  return {
    ...sample,
    ...body,
    description: body.description ?? '',
    country: body.country ?? null,
    venue: body.venue ?? null,
    organizerId: user.id,
    createdAt: at,
    updatedAt: at,
  };
};
const updateEvent: Events['updateEvent'] = async ({ params, body }) => ({
  ...sample,
  id: params.eventId,
  title: body.title ?? sample.title,
});
const deleteEvent: Events['deleteEvent'] = async () => {};
const rsvps: Pick<Events, 'rsvpToEvent' | 'removeRsvp' | 'listAttendees' | 'listMyEvents'> = {
  rsvpToEvent: async ({ params, body }, { user, now }) => ({
    eventId: params.eventId,
    userId: user.id,
    status: body.status,
    respondedAt: now().toISOString(),
  }),
  removeRsvp: async () => {},
  listAttendees: async () => ({ items: [], next: null }),
  listMyEvents: async () => ({ items: [sample], next: null }),
};

// Two tags are enough to show the checks; Pick keeps this file valid as the API grows.
export const handlers: Pick<Handlers<Services>, 'events' | 'health'> = {
  events: { listEvents, getEvent, createEvent, updateEvent, deleteEvent, ...rsvps },
  health: { getHealth: () => ({ status: 'ok', database: 'reachable', version: '1.0.0', uptimeSeconds: 1 }) },
};

// @ts-expect-error deleteEvent is missing
export const missingHandler: Events = { listEvents, getEvent, createEvent, updateEvent };

// @ts-expect-error title is a string, not a number
export const wrongFieldType: Events['getEvent'] = async () => ({ ...sample, title: 42 });

// @ts-expect-error the result lacks city
export const missingField: Events['getEvent'] = async () => {
  const { city: _city, ...withoutCity } = sample;
  return withoutCity;
};

// @ts-expect-error a list handler returns a page ({ items, next }), not an array
export const pageAsArray: Events['listEvents'] = async ({ page }) => [sample].slice(0, page.limit);

export const undeclaredParam: Events['getEvent'] = async ({ params }) => {
  // @ts-expect-error getEvent's path has {eventId}, not {id}
  if (params.id !== sample.id) throw new ApiError('NOT_FOUND');
  return sample;
};

// A public operation may be called signed out; one that needs a user always has one.
expectTypeOf<Parameters<Events['getEvent']>[1]['user']>().toEqualTypeOf<AuthUser | null>();
expectTypeOf<Parameters<Events['createEvent']>[1]['user']>().toEqualTypeOf<AuthUser>();
expectTypeOf<Parameters<Events['deleteEvent']>[0]['body']>().toEqualTypeOf<undefined>();

// The shape `npm run generate -- --scaffold` writes: every handler throws until implemented.
export const scaffolded: HealthHandlers<Services> = {
  getHealth() {
    throw new ApiError('NOT_IMPLEMENTED', 'getHealth is not implemented yet');
  },
};
