/**
 * What the generated client promises at compile time (compiled by `npm run typecheck`): inputs and
 * results are the contract's, and an error's `code` is narrowed to the codes its operation can
 * return. Each `@ts-expect-error` sits on the one line that must fail, and fails the build if that
 * line starts to compile.
 */
import { expectTypeOf } from 'vitest';
import { createClient, type Page } from '../../generated/client';
import type { Event } from '../../contracts/events';
import type { z } from 'zod';

const api = createClient({ baseUrl: 'http://localhost:3000' });
type EventJson = z.output<typeof Event>;

export async function correctCalls(eventId: string): Promise<string> {
  try {
    const event = await api.events.getEvent({ params: { eventId } });
    expectTypeOf(event).toEqualTypeOf<EventJson>();
    for await (const e of api.events.listEvents.items({ query: { city: 'Buenos Aires' } })) expectTypeOf(e).toEqualTypeOf<EventJson>();
    for await (const page of api.events.listEvents.pages({ query: { limit: 10 } })) expectTypeOf(page).toEqualTypeOf<Page<EventJson>>();
    const created = await api.events.createEvent({
      body: {
        title: 'Práctica',
        kind: 'practica',
        city: 'Rosario',
        startsAt: '2026-12-05T20:00:00.000Z',
        endsAt: '2026-12-05T23:00:00.000Z',
      },
    });
    expectTypeOf(await api.events.deleteEvent({ params: { eventId: created.id } })).toBeVoid();
    return event.title;
  } catch (e) {
    // A code the operation declares, and one every call can fail with (the client's own).
    if (api.events.getEvent.isError(e) && e.code === 'NOT_FOUND') return 'gone';
    if (api.events.getEvent.isError(e) && e.code === 'TIMEOUT') return 'slow';
    throw e;
  }
}

// @ts-expect-error eventId is a string
export const wrongInput = api.events.getEvent({ params: { eventId: 42 } });

export const missingBodyField = api.events.createEvent({
  // @ts-expect-error kind is required
  body: { title: 'Práctica', city: 'Rosario', startsAt: '2026-12-05T20:00:00.000Z', endsAt: '2026-12-05T23:00:00.000Z' },
});

export async function wrongResult(eventId: string): Promise<number> {
  const event = await api.events.getEvent({ params: { eventId } });
  // @ts-expect-error the title is a string
  return event.title;
}

export function unknownCode(e: unknown): boolean {
  // @ts-expect-error USERNAME_TAKEN is register's; getEvent cannot return it
  return api.events.getEvent.isError(e) && e.code === 'USERNAME_TAKEN';
}

export function codeOfAnotherOperation(e: unknown): boolean {
  // @ts-expect-error FORBIDDEN is updateEvent's, not getEvent's (a public read)
  return api.events.getEvent.isError(e) && e.code === 'FORBIDDEN';
}
