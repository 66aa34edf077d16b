import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../server/db/database';
import { backends, openSeededPostgres } from '../support/database';
import { describeWith } from '../support/services';

/**
 * The group lists stay index range scans as they grow: the queries of server/services/groups.ts,
 * planned by PostgreSQL on 2,000 users in 300 groups (one with every user in it), read one range
 * of the list's index and sort nothing.
 */
const postgres = backends.find((backend) => backend.name === 'postgres')!;

describeWith(postgres.needs, 'group query plans on postgres', () => {
  let database: Database;
  let userId: string;
  let bigGroupId: string;

  beforeAll(async () => {
    database = await openSeededPostgres(async (database) => {
      await database.db.execute(sql`
        INSERT INTO users (username, display_name, roles, password_hash)
        SELECT 'plan-' || g, 'Plan ' || g, ARRAY['user'], 'not-a-real-hash' FROM generate_series(1, 2000) AS g`);
      await database.db.execute(sql`
        INSERT INTO groups (name, kind, city, visibility, created_at)
        SELECT 'Group ' || g, 'community', CASE WHEN g % 3 = 0 THEN 'Berlin' ELSE 'Paris' END,
          CASE WHEN g % 2 = 0 THEN 'private' ELSE 'public' END, now() - g * interval '1 minute'
        FROM generate_series(1, 300) AS g`);
      await database.db.execute(sql`CREATE TEMP TABLE nu AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM users`);
      await database.db.execute(sql`CREATE TEMP TABLE ng AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM groups`);
      // Group 1 holds everyone; every other group about 50; user 1 is in all.
      await database.db.execute(sql`
        INSERT INTO group_members (group_id, user_id, role, joined_at)
        SELECT g.id, u.id, CASE WHEN u.n = 1 THEN 'owner' ELSE 'member' END, now() - u.n * interval '1 second'
        FROM ng AS g, nu AS u WHERE g.n = 1
        UNION ALL
        SELECT g.id, u.id, 'member', now() - (u.n + g.n) * interval '1 second'
        FROM ng AS g, nu AS u WHERE g.n > 1 AND u.n % 300 BETWEEN g.n - 7 AND g.n
        ON CONFLICT DO NOTHING`);
      await database.db.execute(sql`
        INSERT INTO group_members (group_id, user_id, role) SELECT g.id, u.id, 'member' FROM ng AS g, nu AS u WHERE u.n = 1
        ON CONFLICT DO NOTHING`);
      await database.db.execute(sql`
        INSERT INTO group_requests (group_id, user_id, kind, created_at)
        SELECT g.id, u.id, 'join', now() - u.n * interval '1 second' FROM ng AS g, nu AS u
        WHERE g.n = 2 AND NOT EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = g.id AND m.user_id = u.id)`);
      await database.db.execute(sql`
        INSERT INTO events (organizer_id, title, kind, city, starts_at, ends_at, updated_at, group_id, created_at)
        SELECT u.id, 'Event ' || k, 'milonga', 'Paris', now(), now() + interval '1 hour', now(), g.id, now() - k * interval '1 minute'
        FROM ng AS g, nu AS u, generate_series(1, 20) AS k WHERE u.n = 1`);
      await database.db.execute(sql`ANALYZE users; ANALYZE groups; ANALYZE group_members; ANALYZE group_requests; ANALYZE events`);
    });
    userId = ((await database.db.execute(sql`SELECT id FROM users ORDER BY id LIMIT 1`)).rows[0] as { id: string }).id;
    bigGroupId = ((await database.db.execute(sql`SELECT id FROM groups ORDER BY id LIMIT 1`)).rows[0] as { id: string }).id;
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });

  async function plan(query: SQL): Promise<string> {
    const { rows } = await database.db.execute(sql`EXPLAIN ${query}`);
    return (rows as { 'QUERY PLAN': string }[]).map((row) => row['QUERY PLAN']).join('\n');
  }

  const filled = (text: string) =>
    sql.raw(
      text
        .replaceAll('$viewer', `'${userId}'::uuid`)
        .replaceAll('$group', `'${bigGroupId}'::uuid`)
        .replaceAll('$cursor', `(now() - interval '10 minutes', '00000000-0000-0000-0000-000000000000'::uuid)`),
    );
  const hidden = (other: string) =>
    `EXISTS (SELECT 1 FROM blocks WHERE (blocks.blocker_id = $viewer AND blocks.blocked_id = ${other})
      OR (blocks.blocker_id = ${other} AND blocks.blocked_id = $viewer))`;

  it.each([
    [
      'members, later page',
      `SELECT users.*, m.role, m.joined_at FROM group_members m INNER JOIN users ON users.id = m.user_id
       WHERE m.group_id = $group AND NOT ${hidden('m.user_id')} AND (m.joined_at, m.user_id) < $cursor
       ORDER BY m.joined_at DESC, m.user_id DESC LIMIT 21`,
      'group_members_group_joined_idx',
    ],
    [
      'my groups, later page',
      `SELECT groups.*, m.joined_at FROM group_members m INNER JOIN groups ON groups.id = m.group_id
       WHERE m.user_id = $viewer AND (m.joined_at, m.group_id) < $cursor ORDER BY m.joined_at DESC, m.group_id DESC LIMIT 21`,
      'group_members_user_joined_idx',
    ],
    [
      'join requests',
      `SELECT users.*, r.created_at FROM group_requests r INNER JOIN users ON users.id = r.user_id
       WHERE r.group_id = (SELECT id FROM groups ORDER BY id OFFSET 1 LIMIT 1) AND r.kind = 'join' AND NOT ${hidden('r.user_id')}
       ORDER BY r.created_at DESC, r.user_id DESC LIMIT 21`,
      'group_requests_group_idx',
    ],
    [
      'a group’s events, later page',
      `SELECT * FROM events WHERE events.group_id = $group AND (events.created_at, events.id) < $cursor
       ORDER BY events.created_at DESC, events.id DESC LIMIT 21`,
      'events_group_created_idx',
    ],
    [
      'groups of a city, later page',
      `SELECT * FROM groups WHERE lower(groups.city) = lower('Berlin') AND (groups.created_at, groups.id) < $cursor
       ORDER BY groups.created_at DESC, groups.id DESC LIMIT 21`,
      'groups_city_created_idx',
    ],
  ])('%s reads one range of its index', async (_name, text, index) => {
    const explained = await plan(filled(text));
    expect(explained).toMatch(new RegExp(`Index (Only )?Scan Backward using ${index}\\b`));
    expect(explained).not.toMatch(/Seq Scan on (group_members|groups|events|group_requests)|Sort/);
  });

  it('a group’s view counts the members behind the viewer’s blocks by key, not by reading the group', async () => {
    const explained = await plan(
      filled(`SELECT (SELECT count(*)::int FROM group_members h WHERE h.group_id = $group AND h.user_id IN
        (SELECT blocked_id FROM blocks WHERE blocker_id = $viewer UNION ALL SELECT blocker_id FROM blocks WHERE blocked_id = $viewer))`),
    );
    expect(explained).toMatch(/group_members_pkey/);
    expect(explained).not.toMatch(/Seq Scan on group_members/);
  });
});
