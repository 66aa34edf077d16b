import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../server/db/database';
import { backends, openSeededPostgres } from '../support/database';
import { describeWith } from '../support/services';

/**
 * The RSVP lists stay index range scans as they grow: the queries the RSVP service runs
 * (server/services/rsvps.ts), planned by PostgreSQL on many events' answers.
 */
const postgres = backends.find((backend) => backend.name === 'postgres')!;

describeWith(postgres.needs, 'RSVP query plans on postgres', () => {
  let database: Database;
  let eventId: string;
  let userId: string;
  let viewerId: string;

  beforeAll(async () => {
    database = await openSeededPostgres(async (database) => {
      await database.db.execute(sql`
        INSERT INTO users (username, display_name, roles, password_hash)
        SELECT 'plan-' || g, 'Plan ' || g, ARRAY['user'], 'not-a-real-hash' FROM generate_series(1, 1000) AS g`);
      await database.db.execute(sql`
        INSERT INTO events (organizer_id, title, kind, city, starts_at, ends_at, updated_at, created_at)
        SELECT u.id, 'Milonga ' || g, 'milonga', 'Buenos Aires', now() + interval '1 day', now() + interval '2 days', now(),
               now() - g * interval '1 minute'
        FROM (SELECT id, row_number() OVER (ORDER BY username) AS n FROM users) AS u, generate_series(1, 5) AS g
        WHERE u.n <= 200`);
      // Every user answers 40 of the 1000 events: 40,000 answers, half going.
      await database.db.execute(sql`
        INSERT INTO event_rsvps (event_id, user_id, status, responded_at)
        SELECT e.id, u.id, CASE WHEN (e.n + u.n) % 2 = 0 THEN 'going' ELSE 'interested' END, now() - (e.n + u.n) * interval '1 second'
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM events) AS e,
             (SELECT id, row_number() OVER (ORDER BY username) AS n FROM users) AS u
        WHERE (e.n + u.n) % 25 = 0`);
      // And a festival every one of them answered: the list whose paging matters.
      await database.db.execute(sql`
        INSERT INTO events (organizer_id, title, kind, city, starts_at, ends_at, updated_at)
        SELECT id, 'Festival', 'festival', 'Buenos Aires', now() + interval '1 day', now() + interval '4 days', now()
        FROM users ORDER BY username LIMIT 1`);
      await database.db.execute(sql`
        INSERT INTO event_rsvps (event_id, user_id, status, responded_at)
        SELECT (SELECT id FROM events WHERE title = 'Festival'), id, CASE WHEN random() < 0.5 THEN 'going' ELSE 'interested' END, now() - random() * interval '1 day'
        FROM users`);
      // Some blocks, as the attendee list leaves out people blocked either way.
      await database.db.execute(sql`
        INSERT INTO blocks (blocker_id, blocked_id, listed)
        SELECT a.id, b.id, true FROM users AS a, users AS b WHERE a.username < b.username AND random() < 0.002`);
      await database.db.execute(sql`ANALYZE users; ANALYZE events; ANALYZE event_rsvps; ANALYZE blocks`);
    });
    eventId = ((await database.db.execute(sql`SELECT id FROM events WHERE title = 'Festival'`)).rows[0] as { id: string }).id;
    userId = ((await database.db.execute(sql`SELECT id FROM users ORDER BY username LIMIT 1`)).rows[0] as { id: string }).id;
    viewerId = ((await database.db.execute(sql`SELECT id FROM users ORDER BY username DESC LIMIT 1`)).rows[0] as { id: string }).id;
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });

  async function plan(query: SQL): Promise<string> {
    const { rows } = await database.db.execute(sql`EXPLAIN ${query}`);
    return (rows as { 'QUERY PLAN': string }[]).map((row) => row['QUERY PLAN']).join('\n');
  }

  const attendees = (condition: SQL) => () =>
    sql`
    SELECT * FROM event_rsvps JOIN users ON users.id = event_rsvps.user_id
    WHERE event_rsvps.event_id = ${eventId} AND ${condition} AND NOT EXISTS (SELECT 1 FROM blocks
      WHERE (blocker_id = ${viewerId} AND blocked_id = event_rsvps.user_id) OR (blocker_id = event_rsvps.user_id AND blocked_id = ${viewerId}))
    ORDER BY event_rsvps.responded_at DESC, event_rsvps.user_id DESC LIMIT 21`;
  const cursor = sql`(event_rsvps.responded_at, event_rsvps.user_id) < (now() - interval '100 seconds', '00000000-0000-0000-0000-000000000000'::uuid)`;

  it.each([
    ['the first attendee page', attendees(sql`true`), 'event_rsvps_event_responded_idx'],
    ['a later attendee page', attendees(cursor), 'event_rsvps_event_responded_idx'],
    ['the first page of one status', attendees(sql`event_rsvps.status = 'going'`), 'event_rsvps_event_status_responded_idx'],
    ['a later page of one status', attendees(sql`event_rsvps.status = 'going' AND ${cursor}`), 'event_rsvps_event_status_responded_idx'],
  ])('%s reads one range of its index and sorts nothing', async (_name, query, index) => {
    const text = await plan(query());
    expect(text).toMatch(new RegExp(`Index (Only )?Scan (Backward )?using ${index}\\b`));
    expect(text).not.toMatch(/Seq Scan|Sort/);
  });

  it('my events reads the organizer range and the answer range, and no whole table', async () => {
    const text = await plan(sql`
      SELECT * FROM events WHERE id IN (
        SELECT id FROM events WHERE organizer_id = ${userId}
        UNION SELECT event_id FROM event_rsvps WHERE user_id = ${userId})
      ORDER BY created_at DESC, id DESC LIMIT 21`);
    expect(text).toMatch(
      /Index (Only )?Scan using events_organizer_created_at_id_idx|Bitmap Index Scan on events_organizer_created_at_id_idx/,
    );
    expect(text).toMatch(/Index (Only )?Scan using event_rsvps_user_idx|Bitmap Index Scan on event_rsvps_user_idx/);
    // The sort is over this user's events only (tens), not over the table.
    expect(text).not.toMatch(/Seq Scan/);
  });
});
