import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import { events as eventsTable } from '../../../server/db/schema';
import { createEventStore, type EventFilter, type EventRecord, type EventStore, type NewEvent } from '../../../server/services/events';
import { describeEachBackend } from '../../support/database';

const organizerId = randomUUID();

const milonga = (overrides: Partial<NewEvent> & { groupId?: null } = {}): NewEvent & { groupId?: null } => ({
  organizerId,
  title: 'Milonga Parakultural',
  kind: 'milonga',
  city: 'Buenos Aires',
  startsAt: new Date('2030-03-01T23:00:00.123Z'),
  endsAt: new Date('2030-03-02T04:00:00.456Z'),
  ...overrides,
});

describeEachBackend('event store', (backend) => {
  let database: Database;
  let events: EventStore;

  // One database per file (opening one per test cost most of this file's time); each test starts
  // with no events.
  beforeAll(async () => {
    database = await backend.open();
    events = createEventStore(database.db);
  });
  beforeEach(async () => {
    await database.db.delete(eventsTable);
  });
  afterAll(() => database.close());

  it('answers a ping', async () => {
    await expect(database.ping()).resolves.toBeUndefined();
    expect(database.kind).toBe(backend.name);
  });

  it('creates an event with defaults and reads it back unchanged', async () => {
    const created = await events.create(milonga());
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      organizerId,
      title: 'Milonga Parakultural',
      description: '',
      kind: 'milonga',
      city: 'Buenos Aires',
      country: null,
      venue: null,
      startsAt: new Date('2030-03-01T23:00:00.123Z'),
      endsAt: new Date('2030-03-02T04:00:00.456Z'),
      capacity: null,
      groupId: null,
      goingCount: 0,
      interestedCount: 0,
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
    });
    expect(created.updatedAt).toEqual(created.createdAt);
    expect(await events.get(created.id)).toEqual(created);
  });

  it('updates only the given fields and moves updatedAt', async () => {
    const created = await events.create(milonga({ country: 'AR', venue: 'Salon Canning' }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const updated = await events.update(created.id, { title: 'Parakultural', venue: null }, created.organizerId);
    expect(updated).toEqual({ ...created, title: 'Parakultural', venue: null, updatedAt: expect.any(Date) });
    expect((updated as EventRecord).updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
    expect(await events.get(created.id)).toEqual(updated);
  });

  it('removes an event once', async () => {
    const created = await events.create(milonga());
    expect(await events.remove(created.id, created.organizerId)).toBe(true);
    expect(await events.get(created.id)).toBeUndefined();
    expect(await events.remove(created.id, created.organizerId)).toBe(false);
  });

  it('reports missing events as absent', async () => {
    const missing = randomUUID();
    expect(await events.get(missing)).toBeUndefined();
    expect(await events.update(missing, { title: 'x' }, missing)).toBeUndefined();
    expect(await events.remove(missing, missing)).toBe(false);
  });

  it('refuses an unknown kind', async () => {
    await expect(events.create(milonga({ kind: 'rave' as NewEvent['kind'] }))).rejects.toThrow();
  });

  it('filters by city ignoring case, by kind, and by date window', async () => {
    const march = await events.create(milonga({ city: 'Buenos Aires' }));
    const april = await events.create(
      milonga({
        city: 'BUENOS AIRES',
        kind: 'festival',
        startsAt: new Date('2030-04-10T18:00:00Z'),
        endsAt: new Date('2030-04-13T06:00:00Z'),
      }),
    );
    const berlin = await events.create(milonga({ city: 'Berlin', kind: 'practica' }));
    // Sorted, because events created in one millisecond are ordered by their random ids.
    const listed = async (filter: EventFilter) => (await events.list(filter)).items.map((event) => event.id).sort();
    const sorted = (...ids: string[]) => ids.sort();
    const page = { limit: 10, after: null };

    expect(await listed({ ...page, city: 'buenos aires' })).toEqual(sorted(march.id, april.id));
    expect(await listed({ ...page, city: 'Buenos' })).toEqual([]);
    expect(await listed({ ...page, kind: 'practica' })).toEqual([berlin.id]);
    expect(await listed({ ...page, city: 'Buenos Aires', kind: 'festival' })).toEqual([april.id]);
    // An event still running at `from` counts: april ends on the 13th.
    expect(await listed({ ...page, from: new Date('2030-04-12T00:00:00Z') })).toEqual([april.id]);
    expect(await listed({ ...page, to: new Date('2030-03-31T00:00:00Z') })).toEqual(sorted(march.id, berlin.id));
    expect(await listed({ ...page, from: new Date('2030-03-02T04:00:00.456Z'), to: new Date('2030-04-10T18:00:00Z') })).toEqual(
      sorted(march.id, april.id, berlin.id),
    );
    expect(await listed({ ...page, from: new Date('2030-03-02T04:00:00.457Z'), to: new Date('2030-04-10T17:59:59.999Z') })).toEqual([]);
  });
});
