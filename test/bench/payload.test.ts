import { describe, expect, it } from 'vitest';
import { Event, NewEvent } from '../../contracts/events';
import { eventBody, storedEvent } from '../../bench/payload';

// The HTTP bench measures servers answering 201 with what these make: when a contract grows a field,
// this fails here rather than leaving the bench timing 500s.
describe('the HTTP bench payload', () => {
  it('is a valid NewEvent, and the answer every bench server sends is a valid Event', () => {
    const input = NewEvent.parse(JSON.parse(eventBody));
    expect(Event.safeParse(storedEvent(input)).error).toBeUndefined();
  });
});
