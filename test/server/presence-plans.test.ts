import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../server/db/database';
import { presenceCircleQuery } from '../../server/services/presence';
import { backends } from '../support/database';
import { describeWith } from '../support/services';

/**
 * The presence rule's one query (server/services/presence.ts) stays a handful of index reads as the
 * graph grows: planned by PostgreSQL on thousands of friendships, conversation members and blocks,
 * it reads the user's friendships and memberships by index, each conversation's members by key,
 * and probes blocks by key per member, never reading a table whole.
 */
const postgres = backends.find((backend) => backend.name === 'postgres')!;

describeWith(postgres.needs, 'presence query plans on postgres', () => {
  let database: Database;
  let userId: string;
  let strangers: string[];

  beforeAll(async () => {
    database = await postgres.open();
    const run = (query: SQL) => database.db.execute(query);
    await run(sql`
      INSERT INTO users (username, display_name, roles, password_hash)
      SELECT 'presence-' || g, 'Presence ' || g, ARRAY['user'], 'not-a-real-hash' FROM generate_series(1, 30000) AS g`);
    // The first 3,000 (in id order) make the graph; the rest are the many users of a real site.
    await run(sql`CREATE TABLE numbered AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM users`);
    await run(sql`DELETE FROM numbered WHERE n > 3000`);
    // Each user befriends the 10 after them (both rows of each friendship) and blocks the 5th after them.
    await run(sql`
      INSERT INTO friendships (user_id, friend_id)
      SELECT a.id, b.id FROM numbered AS a, generate_series(1, 10) AS k, numbered AS b WHERE b.n = (a.n + k - 1) % 3000 + 1
      UNION ALL
      SELECT b.id, a.id FROM numbered AS a, generate_series(1, 10) AS k, numbered AS b WHERE b.n = (a.n + k - 1) % 3000 + 1`);
    await run(sql`
      INSERT INTO blocks (blocker_id, blocked_id, listed)
      SELECT a.id, b.id, true FROM numbered AS a JOIN numbered AS b ON b.n = (a.n + 4) % 3000 + 1`);
    // A direct conversation with the 20th after, and 100 groups of 30 members each (the 1st to the 30th, …).
    await run(sql`
      CREATE TABLE pairs AS SELECT gen_random_uuid() AS conversation_id, a.id AS a, b.id AS b
      FROM numbered AS a JOIN numbered AS b ON b.n = (a.n + 19) % 3000 + 1`);
    await run(sql`
      INSERT INTO conversations (id, kind, direct_key)
      SELECT conversation_id, 'direct', least(a::text, b::text) || ':' || greatest(a::text, b::text) FROM pairs`);
    await run(sql`
      INSERT INTO conversation_members (conversation_id, user_id)
      SELECT conversation_id, a FROM pairs UNION ALL SELECT conversation_id, b FROM pairs`);
    await run(sql`
      CREATE TABLE groups_seeded AS SELECT gen_random_uuid() AS conversation_id, g FROM generate_series(0, 99) AS g`);
    await run(sql`INSERT INTO conversations (id, kind, title) SELECT conversation_id, 'group', 'Grupo ' || g FROM groups_seeded`);
    await run(sql`
      INSERT INTO conversation_members (conversation_id, user_id)
      SELECT s.conversation_id, u.id FROM groups_seeded AS s JOIN numbered AS u ON u.n BETWEEN s.g * 30 + 1 AND s.g * 30 + 30`);
    await run(sql`ANALYZE users; ANALYZE friendships; ANALYZE blocks; ANALYZE conversations; ANALYZE conversation_members`);
    const id = async (n: number) => ((await run(sql`SELECT id FROM numbered WHERE n = ${n}`)).rows[0] as { id: string }).id;
    userId = await id(1000);
    strangers = await Promise.all([1500, 2000, 2500].map(id));
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });

  async function plan(query: SQL): Promise<string> {
    const { rows } = await database.db.execute(sql`EXPLAIN ${query}`);
    return (rows as { 'QUERY PLAN': string }[]).map((row) => row['QUERY PLAN']).join('\n');
  }

  it('the audience of a user (pushes) reads indexes only', async () => {
    const text = await plan(presenceCircleQuery(userId));
    expect(text).toMatch(/conversation_members_user_idx/);
    expect(text).toMatch(/conversation_members_pkey/);
    expect(text).toMatch(/friendships_(pkey|user_idx)/);
    expect(text).toMatch(/blocks_pkey|blocks_blocked_idx/);
    expect(text).not.toMatch(/Seq Scan/);
  });

  it('whom a user sees among some (queries, room lists) reads indexes only', async () => {
    const text = await plan(presenceCircleQuery(userId, strangers));
    expect(text).not.toMatch(/Seq Scan/);
  });

  it('answers the rule on this graph: friends and co-members, less blocks either way', async () => {
    const { rows } = await database.db.execute(presenceCircleQuery(userId));
    const circle = new Set((rows as { id: string }[]).map((row) => row.id));
    // Friends (10 each way), direct partners (the 20th each way), group co-members (user 1000 is in
    // the group of 991–1020), overlapping, less the two across a block (the 5th before and after).
    const expected = await database.db.execute(sql`
      SELECT DISTINCT u.id FROM numbered AS u, numbered AS me WHERE me.id = ${userId} AND u.id <> me.id AND (
        abs(u.n - me.n) BETWEEN 1 AND 10 OR abs(u.n - me.n) = 20 OR (u.n - 1) / 30 = (me.n - 1) / 30
      ) AND abs(u.n - me.n) <> 5`);
    expect([...circle].sort()).toEqual((expected.rows as { id: string }[]).map((row) => row.id).sort());
  });
});
