import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const eventKinds = ['milonga', 'practica', 'festival', 'marathon', 'encuentro', 'class', 'workshop'] as const;
export type EventKind = (typeof eventKinds)[number];

// Millisecond precision everywhere: a keyset cursor is built from a JS Date, which holds
// milliseconds, so a microsecond column would never compare equal to its own cursor.
const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

export const events = pgTable(
  'events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizerId: uuid('organizer_id').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    kind: text('kind', { enum: eventKinds }).notNull(),
    city: text('city').notNull(),
    country: text('country'),
    venue: text('venue'),
    startsAt: instant('starts_at').notNull(),
    endsAt: instant('ends_at').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull(),
  },
  (table) => [
    index('events_created_at_id_idx').on(table.createdAt, table.id),
    index('events_city_lower_idx').on(sql`lower(${table.city})`),
    index('events_starts_at_idx').on(table.startsAt),
    check('events_kind_check', sql`${table.kind} in (${sql.raw(eventKinds.map((kind) => `'${kind}'`).join(', '))})`),
  ],
);
