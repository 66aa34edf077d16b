import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../server/db/database';
import { presenceCircleQuery } from '../../server/services/presence';
import { backends, openSeededPostgres } from '../support/database';
import { describeWith } from '../support/services';

/**
 * The presence rule's one query (server/services/presence.ts) stays a handful of index reads as the
 * graph grows: planned by PostgreSQL on thousands of friendships, conversation members, messages
 * and blocks, it reads the user's friendships and memberships by index, each conversation and its
 * members by key, probes whether each of the two wrote in it by (conversation, sender), never
 * reading a conversation's messages through, and probes blocks by key per member, never reading a
 * table whole.
 */
const postgres = backends.find((backend) => backend.name === 'postgres')!;

describeWith(postgres.needs, 'presence query plans on postgres', () => {
  let database: Database;
  let userId: string;
  let strangers: string[];

  beforeAll(async () => {
    database = await openSeededPostgres(async (database) => {
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
      // 100 groups of the groups domain, whose conversations have 30 members each (the 16th to the 45th, …).
      await run(sql`
        CREATE TABLE communities AS SELECT gen_random_uuid() AS group_id, gen_random_uuid() AS conversation_id, g FROM generate_series(0, 99) AS g`);
      await run(
        sql`INSERT INTO groups (id, name, kind, visibility) SELECT group_id, 'Comunidad ' || g, 'community', 'public' FROM communities`,
      );
      await run(sql`
        INSERT INTO conversations (id, kind, title, group_id) SELECT conversation_id, 'group', 'Comunidad ' || g, group_id FROM communities`);
      await run(sql`
        INSERT INTO conversation_members (conversation_id, user_id)
        SELECT s.conversation_id, u.id FROM communities AS s JOIN numbered AS u ON u.n BETWEEN s.g * 30 + 16 AND s.g * 30 + 45`);
      // Who wrote where, 2 messages each: in a direct conversation its first member, and the second
      // when the first's number is a multiple of 40; in the seeded groups the members whose number is
      // not a multiple of 3; in the groups' conversations everyone.
      await run(sql`
        INSERT INTO messages (conversation_id, sender_id, client_key, body, created_at)
        SELECT writer.conversation_id, writer.sender_id, gen_random_uuid()::text, 'Hola', now() - k * interval '1 minute'
        FROM (
          SELECT p.conversation_id, p.a AS sender_id FROM pairs AS p
          UNION ALL
          SELECT p.conversation_id, p.b FROM pairs AS p JOIN numbered AS u ON u.id = p.a WHERE u.n % 40 = 0
          UNION ALL
          SELECT m.conversation_id, m.user_id FROM conversation_members AS m JOIN numbered AS u ON u.id = m.user_id
            JOIN groups_seeded AS s ON s.conversation_id = m.conversation_id WHERE u.n % 3 <> 0
          UNION ALL
          SELECT m.conversation_id, m.user_id FROM conversation_members AS m JOIN communities AS s ON s.conversation_id = m.conversation_id
        ) AS writer, generate_series(1, 2) AS k`);
      await run(
        sql`ANALYZE users; ANALYZE friendships; ANALYZE blocks; ANALYZE groups; ANALYZE conversations; ANALYZE conversation_members; ANALYZE messages`,
      );
    });
    const id = async (n: number) => ((await database.db.execute(sql`SELECT id FROM numbered WHERE n = ${n}`)).rows[0] as { id: string }).id;
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
    expect(text).toMatch(/conversations_pkey/);
    expect(text).toMatch(/friendships_(pkey|user_idx)/);
    expect(text).toMatch(/blocks_pkey|blocks_blocked_idx/);
    expect(text).not.toMatch(/Seq Scan/);
    writersProbedByKey(text);
  });

  it('whom a user sees among some (queries, room lists) reads indexes only', async () => {
    const text = await plan(presenceCircleQuery(userId, strangers));
    expect(text).not.toMatch(/Seq Scan/);
    writersProbedByKey(text);
  });

  /**
   * Whether each member wrote is a key lookup on (conversation_id, sender_id), and whether the user
   * did either that or a read of their own messages by sender: never a walk through a
   * conversation's messages.
   */
  function writersProbedByKey(text: string) {
    expect(text.match(/ on messages (written|answered)\b/g)).toHaveLength(2);
    expect(text).toMatch(/Index (Only )?Scan using messages_conversation_sender_idx on messages answered\b/);
    const byKey = '(messages_conversation_sender_idx|messages_sender_client_key_idx)';
    expect(text).toMatch(
      new RegExp(`using ${byKey} on messages written\\b|Bitmap Heap Scan on messages written\\b[^]*?Bitmap Index Scan on ${byKey}`),
    );
    expect(text).not.toMatch(/messages_conversation_created_at_id_idx/);
  }

  it("answers the rule on this graph: friends and co-members who both wrote, less groups' conversations and blocks", async () => {
    const { rows } = await database.db.execute(presenceCircleQuery(userId));
    const circle = new Set((rows as { id: string }[]).map((row) => row.id));
    // Friends (10 each way); of the direct partners (the 20th each way) the 1020th, with whom both
    // wrote (the 980th wrote to user 1000, who did not answer); of the co-members of the seeded
    // group of 991–1020 (user 1000 wrote there) those who wrote too; none of the group's
    // conversation of 976–1005 (everyone wrote there); overlapping, less the two across a block
    // (the 5th before and after).
    const expected = await database.db.execute(sql`
      SELECT DISTINCT u.id FROM numbered AS u, numbered AS me WHERE me.id = ${userId} AND u.id <> me.id AND (
        abs(u.n - me.n) BETWEEN 1 AND 10 OR u.n = me.n + 20 OR ((u.n - 1) / 30 = (me.n - 1) / 30 AND u.n % 3 <> 0)
      ) AND abs(u.n - me.n) <> 5`);
    expect([...circle].sort()).toEqual((expected.rows as { id: string }[]).map((row) => row.id).sort());
  });
});
