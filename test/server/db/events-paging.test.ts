import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import type { PageKey } from '../../../server/db/keyset';
import { events as eventsTable } from '../../../server/db/schema';
import { createEventStore, type EventFilter, type EventRecord, type EventStore, type NewEvent } from '../../../server/services/events';
import { describeEachBackend } from '../../support/database';

const event = (n: number): NewEvent & { groupId?: null } => ({
  organizerId: randomUUID(),
  title: `Practica ${n}`,
  kind: 'practica',
  city: 'Montevideo',
  startsAt: new Date('2030-06-01T20:00:00Z'),
  endsAt: new Date('2030-06-01T23:00:00Z'),
});

const ids = (records: EventRecord[]) => records.map((record) => record.id);

// Events created within one millisecond share created_at, so their id, not the order of the
// create calls, decides which comes first.
const inKeyOrder = (records: EventRecord[]) =>
  [...records].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));

describeEachBackend('event paging', (backend) => {
  let database: Database;
  let events: EventStore;

  const createMany = async (count: number) => {
    const created: EventRecord[] = [];
    for (let n = 0; n < count; n++) created.push(await events.create(event(n)));
    return created;
  };

  /** Follows `next` to the end, running `between` after each page. */
  const readAllPages = async (filter: Omit<EventFilter, 'after'>, between: () => Promise<void> = async () => {}) => {
    const pages: EventRecord[][] = [];
    let after: PageKey | null = null;
    do {
      const page = await events.list({ ...filter, after });
      pages.push(page.items);
      after = page.next;
      if (after) expect(after).toEqual({ createdAt: page.items.at(-1)!.createdAt, id: page.items.at(-1)!.id });
      await between();
    } while (after && pages.length < 10);
    return pages;
  };

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

  it('pages 45 events by 20 into 20, 20 and 5, in (created_at, id) order', async () => {
    const created = await createMany(45);
    const pages = await readAllPages({ limit: 20 });
    expect(pages.map((page) => page.length)).toEqual([20, 20, 5]);
    expect(ids(pages.flat())).toEqual(ids(inKeyOrder(created)));
  });

  it('says there is no next page when the last page is exactly full', async () => {
    await createMany(20);
    const page = await events.list({ limit: 20, after: null });
    expect(page.items).toHaveLength(20);
    expect(page.next).toBeNull();
  });

  it('neither repeats nor skips rows when events are written between page requests', async () => {
    const created = await createMany(45);
    const written: EventRecord[] = [];
    const pages = await readAllPages({ limit: 20 }, async () => {
      if (written.length > 0) return;
      // One event created normally lands after the cursor; one back-dated before it would
      // shift every later row under OFFSET paging, but must not disturb a keyset.
      written.push(await events.create(event(100)));
      await database.db.insert(eventsTable).values({ ...event(101), createdAt: new Date(0), updatedAt: new Date(0) });
    });
    const seen = ids(pages.flat());
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(ids(inKeyOrder([...created, ...written])));
  });

  it('pages rows sharing one created_at by id', async () => {
    const sameInstant = new Date('2030-01-01T00:00:00.789Z');
    await database.db
      .insert(eventsTable)
      .values(Array.from({ length: 45 }, (_, n) => ({ ...event(n), createdAt: sameInstant, updatedAt: sameInstant })));
    const pages = await readAllPages({ limit: 20 });
    expect(pages.map((page) => page.length)).toEqual([20, 20, 5]);
    const seen = ids(pages.flat());
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(45);
  });

  it('keeps filters applied across pages', async () => {
    for (let n = 0; n < 30; n++) await events.create({ ...event(n), city: n % 3 === 0 ? 'Rosario' : 'Montevideo' });
    const pages = await readAllPages({ limit: 4, city: 'rosario' });
    expect(pages.map((page) => page.length)).toEqual([4, 4, 2]);
    expect(pages.flat().every((record) => record.city === 'Rosario')).toBe(true);
  });
});
