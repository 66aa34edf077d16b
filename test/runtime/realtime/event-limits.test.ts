import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { api } from '../../../contracts';
import { clientEvent, DEFAULT_EVENT_RATE_LIMIT, listEvents, rateLimitsOf } from '../../../runtime/contract';

/** No client event goes unthrottled: one without a limit of its own gets the default, per user. */
describe('client event rate limits', () => {
  it('an event that states no limit gets the default per-user limit; one that does keeps its own', () => {
    const plain = clientEvent({ name: 'thing:ping', summary: 'Ping', payload: z.object({}), ack: z.object({}) });
    expect(rateLimitsOf(plain)).toEqual([DEFAULT_EVENT_RATE_LIMIT]);
    expect(DEFAULT_EVENT_RATE_LIMIT).toMatchObject({ key: 'user' });
    expect(DEFAULT_EVENT_RATE_LIMIT.name).toBeUndefined();

    const own = { points: 5, windowSeconds: 10, key: 'user' } as const;
    const limited = clientEvent({ name: 'thing:poke', summary: 'Poke', payload: z.object({}), ack: z.object({}), rateLimit: own });
    expect(rateLimitsOf(limited)).toEqual([own]);
  });

  it('every client event of the contracts has a limit counted per user', () => {
    const clientEvents = listEvents(api).filter((e) => e.event.kind === 'client-event');
    expect(clientEvents.length).toBeGreaterThan(0);
    for (const { event } of clientEvents) {
      const limits = rateLimitsOf(event as Parameters<typeof rateLimitsOf>[0]);
      expect(limits.length, event.name).toBeGreaterThan(0);
      expect(
        limits.some((l) => l.key === 'user' || (Array.isArray(l.key) && l.key.includes('user'))),
        event.name,
      ).toBe(true);
    }
  });
});
