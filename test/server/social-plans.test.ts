import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../server/db/database';
import { backends, openSeededPostgres } from '../support/database';
import { describeWith } from '../support/services';

/**
 * The social lists stay index range scans as they grow: the queries of server/services/social.ts,
 * planned by PostgreSQL on 100,000 follows, read one range of the list's index, sort nothing, and
 * check the block rule per row through the blocks indexes, never by reading the blocks table whole.
 */
const postgres = backends.find((backend) => backend.name === 'postgres')!;

describeWith(postgres.needs, 'social graph query plans on postgres', () => {
  let database: Database;
  let userId: string;
  let ordinaryId: string;

  beforeAll(async () => {
    database = await openSeededPostgres(async (database) => {
      await database.db.execute(sql`
        INSERT INTO users (username, display_name, roles, password_hash)
        SELECT 'plan-' || g, 'Plan ' || g, ARRAY['user'], 'not-a-real-hash' FROM generate_series(1, 2000) AS g`);
      await database.db.execute(sql`CREATE TEMP TABLE numbered AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM users`);
      // Each user follows the 50 after them, befriends the 10 after them, asks the next 5 and blocks one.
      const pairs = (from: number, to: number) =>
        sql.raw(`
        SELECT a.id AS a, b.id AS b, now() - (a.n * 100 + k) * interval '1 second' AS at
        FROM numbered AS a, generate_series(${from}, ${to}) AS k, numbered AS b WHERE b.n = (a.n + k - 1) % 2000 + 1`);
      await database.db.execute(
        sql`INSERT INTO follows (follower_id, followee_id, created_at) SELECT a, b, at FROM (${pairs(1, 50)}) AS p`,
      );
      await database.db.execute(
        sql`INSERT INTO friendships (user_id, friend_id, created_at) SELECT a, b, at FROM (${pairs(51, 60)}) AS p
            UNION ALL SELECT b, a, at FROM (${pairs(51, 60)}) AS p`,
      );
      await database.db.execute(
        sql`INSERT INTO friend_requests (requester_id, addressee_id, created_at) SELECT a, b, at FROM (${pairs(61, 65)}) AS p`,
      );
      await database.db.execute(
        sql`INSERT INTO blocks (blocker_id, blocked_id, created_at, listed) SELECT a, b, at, true FROM (${pairs(100, 100)}) AS p`,
      );
      // User 1000 is well connected: every list of theirs holds hundreds to thousands of rows.
      const star = sql.raw(`SELECT s.id AS s, o.id AS o, o.n, now() - o.n * interval '1 minute' AS at
        FROM numbered AS s, numbered AS o WHERE s.n = 1000 AND o.n <> 1000`);
      await database.db.execute(sql`
        INSERT INTO follows (follower_id, followee_id, created_at)
        SELECT o, s, at FROM (${star}) AS p UNION ALL SELECT s, o, at FROM (${star}) AS p ON CONFLICT DO NOTHING`);
      await database.db.execute(sql`
        INSERT INTO friendships (user_id, friend_id, created_at)
        SELECT o, s, at FROM (${star}) AS p UNION ALL SELECT s, o, at FROM (${star}) AS p ON CONFLICT DO NOTHING`);
      await database.db.execute(
        sql`DELETE FROM friend_requests WHERE ${sql.raw(`(SELECT id FROM numbered WHERE n = 1000)`)} IN (requester_id, addressee_id)`,
      );
      await database.db.execute(sql`
        INSERT INTO friend_requests (requester_id, addressee_id, created_at)
        SELECT CASE WHEN n % 2 = 0 THEN o ELSE s END, CASE WHEN n % 2 = 0 THEN s ELSE o END, at FROM (${star}) AS p`);
      await database.db.execute(sql`
        INSERT INTO blocks (blocker_id, blocked_id, created_at, listed)
        SELECT s, o, at, true FROM (${star}) AS p WHERE n % 4 = 0 ON CONFLICT DO NOTHING`);
      await database.db.execute(sql`ANALYZE users; ANALYZE follows; ANALYZE friendships; ANALYZE friend_requests; ANALYZE blocks`);
    });
    userId = ((await database.db.execute(sql`SELECT id FROM users ORDER BY id OFFSET 999 LIMIT 1`)).rows[0] as { id: string }).id;
    ordinaryId = ((await database.db.execute(sql`SELECT id FROM users ORDER BY id LIMIT 1`)).rows[0] as { id: string }).id;
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });

  async function plan(query: SQL): Promise<string> {
    const { rows } = await database.db.execute(sql`EXPLAIN ${query}`);
    return (rows as { 'QUERY PLAN': string }[]).map((row) => row['QUERY PLAN']).join('\n');
  }

  const hidden = (other: string) =>
    `EXISTS (SELECT 1 FROM blocks WHERE (blocks.blocker_id = $viewer AND blocks.blocked_id = ${other})
      OR (blocks.blocker_id = ${other} AND blocks.blocked_id = $viewer))`;
  const cursor = (createdAt: string, other: string) =>
    `(${createdAt}, ${other}) < (now() - interval '1 day', '00000000-0000-0000-0000-000000000000'::uuid)`;
  const asViewer = (text: string) => sql.raw(text.replaceAll('$viewer', `'${userId}'::uuid`));

  /** A page as the service asks for it: one owner's links joined to users, newest first, one row over. */
  const page =
    (table: string, owner: string, other: string, options: { filter?: boolean; later?: boolean } = {}) =>
    () => {
      const conditions = [`${table}.${owner} = $viewer`];
      if (options.filter) conditions.push(`NOT ${hidden(`${table}.${other}`)}`);
      if (options.later) conditions.push(cursor(`${table}.created_at`, `${table}.${other}`));
      return asViewer(
        `SELECT users.*, ${table}.created_at FROM ${table} INNER JOIN users ON users.id = ${table}.${other}
       WHERE ${conditions.join(' AND ')} ORDER BY ${table}.created_at DESC, ${table}.${other} DESC LIMIT 21`,
      );
    };

  it.each([
    ['followers, first page', page('follows', 'followee_id', 'follower_id', { filter: true }), 'follows_followee_idx'],
    ['followers, later page', page('follows', 'followee_id', 'follower_id', { filter: true, later: true }), 'follows_followee_idx'],
    ['following, later page', page('follows', 'follower_id', 'followee_id', { filter: true, later: true }), 'follows_follower_idx'],
    ['friends, later page', page('friendships', 'user_id', 'friend_id', { filter: true, later: true }), 'friendships_user_idx'],
    ['incoming requests', page('friend_requests', 'addressee_id', 'requester_id', { later: true }), 'friend_requests_incoming_idx'],
    ['outgoing requests', page('friend_requests', 'requester_id', 'addressee_id', { later: true }), 'friend_requests_outgoing_idx'],
    ['my blocks', page('blocks', 'blocker_id', 'blocked_id', { later: true }), 'blocks_blocker_idx'],
  ])('%s reads one range of its index', async (_name, query, index) => {
    const text = await plan(query());
    expect(text).toMatch(new RegExp(`Index (Only )?Scan Backward using ${index}\\b`));
    expect(text).not.toMatch(/Seq Scan|Sort/);
  });

  it('the follower count reads the followee index range once and probes followers behind blocks by key', async () => {
    // An ordinary viewer (one block each way) looks at the well-connected user's profile.
    const asOrdinary = (text: string) =>
      sql.raw(text.replaceAll('$viewer', `'${ordinaryId}'::uuid`).replaceAll('$user', `'${userId}'::uuid`));
    const partners = `(SELECT blocked_id AS other FROM blocks WHERE blocker_id = $viewer
      UNION SELECT blocker_id FROM blocks WHERE blocked_id = $viewer) AS partners`;
    const total = await plan(asOrdinary('SELECT count(*) FROM follows WHERE followee_id = $user'));
    const behindBlocks = await plan(
      asOrdinary(`SELECT count(*) FROM ${partners} JOIN follows ON follows.follower_id = partners.other AND follows.followee_id = $user`),
    );
    expect(total).toMatch(/follows_followee_idx/);
    expect(behindBlocks).toMatch(/follows_pkey/);
    for (const text of [total, behindBlocks]) expect(text).not.toMatch(/Seq Scan/);
  });
});
