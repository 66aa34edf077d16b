import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../server/db/database';
import { backends, openSeededPostgres } from '../support/database';
import { describeWith } from '../support/services';

/**
 * The notification lists stay index range scans as they grow: the queries the service runs, planned
 * by PostgreSQL on a table of many users' notifications, read one index range and sort nothing.
 */
const postgres = backends.find((backend) => backend.name === 'postgres')!;

describeWith(postgres.needs, 'notification query plans on postgres', () => {
  let database: Database;
  let userId: string;

  beforeAll(async () => {
    database = await openSeededPostgres(async (database) => {
      await database.db.execute(sql`
        INSERT INTO users (username, display_name, roles, password_hash)
        SELECT 'plan-' || g, 'Plan ' || g, ARRAY['user'], 'not-a-real-hash' FROM generate_series(1, 100) AS g`);
      // A third unread, the rest read; each user's items a second apart.
      await database.db.execute(sql`
        INSERT INTO notifications (user_id, kind, target_type, target_id, actor_ids, read_at, created_at, updated_at)
        SELECT u.id, 'group_invite', 'group', gen_random_uuid(), ARRAY[u.id],
               CASE WHEN g % 3 = 0 THEN NULL ELSE now() END, now() - g * interval '1 second', now() - g * interval '1 second'
        FROM users AS u, generate_series(1, 300) AS g`);
      await database.db.execute(sql`ANALYZE users; ANALYZE notifications`);
    });
    userId = ((await database.db.execute(sql`SELECT id FROM users ORDER BY username LIMIT 1`)).rows[0] as { id: string }).id;
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });

  async function plan(query: SQL): Promise<string> {
    const { rows } = await database.db.execute(sql`EXPLAIN ${query}`);
    return (rows as { 'QUERY PLAN': string }[]).map((row) => row['QUERY PLAN']).join('\n');
  }

  const page = (condition: SQL) => () =>
    sql`SELECT * FROM notifications WHERE user_id = ${userId} AND ${condition} ORDER BY updated_at DESC, id DESC LIMIT 21`;
  const cursor = sql`(updated_at, id) < (now() - interval '100 seconds', '00000000-0000-0000-0000-000000000000'::uuid)`;

  it.each([
    ['the first page', page(sql`true`), 'notifications_user_updated_idx'],
    ['a later page', page(cursor), 'notifications_user_updated_idx'],
    ['the first unread page', page(sql`read_at IS NULL`), 'notifications_user_unread_updated_idx'],
    ['a later unread page', page(sql`read_at IS NULL AND ${cursor}`), 'notifications_user_unread_updated_idx'],
    [
      'the unread count',
      () => sql`SELECT count(*) FROM notifications WHERE user_id = ${userId} AND read_at IS NULL`,
      'notifications_user_unread_updated_idx',
    ],
  ])('%s reads one range of its index', async (_name, query, index) => {
    const text = await plan(query());
    // A count may read its range through a bitmap: still the one range, no sort.
    expect(text).toMatch(new RegExp(`(Index (Only )?Scan (Backward )?using|Bitmap Index Scan on) ${index}\\b`));
    expect(text).not.toMatch(/Seq Scan|Sort/);
  });
});
