import { type SQL, sql } from 'drizzle-orm';
import type { AppDb } from '../../server/db/database';

/**
 * The feed benchmark's data, written in bulk with INSERT … SELECT over generate_series (no row goes
 * through the services), deterministic from the sizes (no random()):
 *  - `users` dancers, numbered 1…users, who write the `posts` posts over the last year, one every
 *    year / posts; post 1 is the newest, and the oldest is written first, as the app appends them,
 *    so that the heap holds an author's posts scattered over the table as a real one does. Authorship is skewed as on a real network: post g is dancer
 *    1 + ⌊users · r²⌋ with r = frac(g · φ) (an even spread over [0, 1)), so dancer 1 writes ~3,500 of
 *    1M posts and dancer 20,000 ~25 (the mean is posts / users). Visibility by g mod 20: 0 → group
 *    (5 %), 1–3 → friends (15 %), the rest public (80 %); a group post goes to its author's group.
 *    One post in ten mentions a dancer, one in seven has a hashtag.
 *  - users / 40 groups (at least 20); dancer n is a member of group n mod groups.
 *  - a background graph, so that the planner's statistics look like a network's and not like the
 *    viewers' alone: each dancer follows 25 others and has friendships with 5 others (both rows),
 *    inserted in key order (the same rows, written in about half the time).
 *  - two viewers, accounts of their own with 50 posts each (public and friends): the viewer follows
 *    `following` dancers spread evenly over 1…users (popular and quiet ones alike), has 200 friends
 *    (spread too; some also followed) and is a member of 20 groups; the comparison viewer is the
 *    same but follows every (following / 100)-th of those, 100 in all. Both are across a block with
 *    20 members of their groups (they block 10, 10 block them): as the app does on a block, none
 *    of the 20 is followed or a friend, so the block rule's work is leaving out their group posts.
 */
export const FRIENDS = 200;
export const GROUPS_JOINED = 20;
export const BLOCKS = 20;
export const COMPARISON_FOLLOWING = 100;
const BACKGROUND_FOLLOWS = 25;
const BACKGROUND_FRIENDS = 5;
const OWN_POSTS = 50;

export interface FeedSeed {
  viewerId: string;
  comparisonId: string;
  groups: number;
  /** Rows written, by table. */
  rows: Record<string, number>;
  insertMs: number;
  vacuumMs: number;
}

const int = (n: number) => {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`expected a non-negative integer, got ${n}`);
  return sql.raw(String(n));
};
/** Dancer n's id, and group k's, computed (so that no statement needs a table of them): an md5 read as a uuid. */
const dancer = (n: SQL) => sql`md5('bench-feed-' || ${n})::uuid`;
const group = (k: SQL) => sql`md5('bench-feed-group-' || ${k})::uuid`;

async function account(db: AppDb, username: string): Promise<string> {
  const { rows } = await db.execute<{ id: string }>(sql`
    INSERT INTO users (username, display_name, roles, password_hash)
    VALUES (${username}, ${username}, ARRAY['user'], 'not-a-real-hash') RETURNING id`);
  return rows[0]!.id;
}

export async function seed(
  db: AppDb,
  options: { posts: number; users: number; following: number },
  say: (line: string) => void,
): Promise<FeedSeed> {
  const { posts, users, following } = options;
  if (users < following + FRIENDS + BLOCKS) throw new RangeError(`--users must be at least following + ${FRIENDS + BLOCKS}`);
  const comparison = Math.min(COMPARISON_FOLLOWING, following);
  const groups = Math.max(GROUPS_JOINED, Math.floor(users / 40));
  const U = int(users);
  const G = int(groups);
  const rows: Record<string, number> = {};
  const count = async (table: string, statement: SQL) => {
    const started = performance.now();
    const { rowCount } = (await db.execute(statement)) as { rowCount?: number | null };
    rows[table] = (rows[table] ?? 0) + (rowCount ?? 0);
    return performance.now() - started;
  };
  const started = performance.now();

  await count(
    'users',
    sql`
    INSERT INTO users (id, username, display_name, roles, password_hash, created_at, updated_at)
    SELECT ${dancer(sql`n`)}, 'bench-feed-' || n, 'Dancer ' || n, ARRAY['user'], 'not-a-real-hash',
      now() - n * interval '1 minute', now() - n * interval '1 minute'
    FROM generate_series(1, ${U}) AS n`,
  );
  const viewerId = await account(db, 'bench-feed-viewer');
  const comparisonId = await account(db, 'bench-feed-viewer-100');
  rows.users! += 2;
  const viewers = sql`(VALUES (${viewerId}::uuid), (${comparisonId}::uuid)) AS v (id)`;

  await count(
    'groups',
    sql`
    INSERT INTO groups (id, name, kind, visibility, city)
    SELECT ${group(sql`k`)}, 'Group ' || k, (ARRAY['community', 'school', 'orchestra', 'city'])[k % 4 + 1],
      CASE WHEN k % 3 = 0 THEN 'private' ELSE 'public' END, (ARRAY['Buenos Aires', 'Berlin', 'Paris', 'Istanbul', 'Tokyo'])[k % 5 + 1]
    FROM generate_series(0, ${G} - 1) AS k`,
  );
  // Dancers 1…groups own one group each; the viewers join 20 spread over all of them.
  await count(
    'group_members',
    sql`
    INSERT INTO group_members (group_id, user_id, role)
    SELECT ${group(sql`n % ${G}`)}, ${dancer(sql`n`)}, CASE WHEN n <= ${G} THEN 'owner' ELSE 'member' END
    FROM generate_series(1, ${U}) AS n`,
  );
  await count(
    'group_members',
    sql`
    INSERT INTO group_members (group_id, user_id, role)
    SELECT ${group(sql`k * (${G} / ${int(GROUPS_JOINED)})`)}, v.id, 'member' FROM ${viewers}, generate_series(0, ${int(GROUPS_JOINED - 1)}) AS k`,
  );

  const followsMs = await count(
    'follows',
    sql`
    INSERT INTO follows (follower_id, followee_id, created_at)
    SELECT ${dancer(sql`n`)}, ${dancer(sql`1 + (n + k * 7919) % ${U}`)}, now() - (n + k) * interval '1 minute'
    FROM generate_series(1, ${U}) AS n, generate_series(1, ${int(BACKGROUND_FOLLOWS)}) AS k
    WHERE 1 + (n + k * 7919) % ${U} <> n
    ORDER BY 1, 2
    ON CONFLICT DO NOTHING`,
  );
  // The viewer's i-th followee is dancer 1 + ⌊i · users / following⌋; the comparison viewer follows every (following / 100)-th of them.
  await count(
    'follows',
    sql`
    INSERT INTO follows (follower_id, followee_id, created_at)
    SELECT ${viewerId}::uuid, ${dancer(sql`1 + i::bigint * ${U} / ${int(following)}`)}, now() - i * interval '1 hour'
    FROM generate_series(0, ${int(following - 1)}) AS i
    UNION ALL
    SELECT ${comparisonId}::uuid, ${dancer(sql`1 + (i::bigint * (${int(following)} / ${int(comparison)})) * ${U} / ${int(following)}`)}, now() - i * interval '1 hour'
    FROM generate_series(0, ${int(comparison - 1)}) AS i`,
  );
  say(
    `    users, groups, members, ${rows.follows!.toLocaleString('en')} follows (${(followsMs / 1000).toFixed(1)} s for the background ones)`,
  );

  // A friendship is two mirrored rows.
  await count(
    'friendships',
    sql`
    INSERT INTO friendships (user_id, friend_id)
    SELECT a, b FROM (
      SELECT ${dancer(sql`n`)} AS a, ${dancer(sql`1 + (n + k * 4099) % ${U}`)} AS b
      FROM generate_series(1, ${U}) AS n, generate_series(1, ${int(BACKGROUND_FRIENDS)}) AS k WHERE 1 + (n + k * 4099) % ${U} <> n
    ) pairs, LATERAL (VALUES (a, b), (b, a)) AS both_ways (x, y)
    ORDER BY 1, 2
    ON CONFLICT DO NOTHING`,
  );
  await count(
    'friendships',
    sql`
    INSERT INTO friendships (user_id, friend_id)
    SELECT x, y FROM ${viewers}, generate_series(0, ${int(FRIENDS - 1)}) AS i,
      LATERAL (VALUES (v.id, ${dancer(sql`1 + (2 * i + 1) * ${U} / ${int(2 * FRIENDS)}`)}), (${dancer(sql`1 + (2 * i + 1) * ${U} / ${int(2 * FRIENDS)}`)}, v.id)) AS both_ways (x, y)`,
  );

  const msPerPost = Math.max(1, Math.floor((365 * 24 * 3600 * 1000) / posts));
  const postsMs = await count(
    'posts',
    sql`
    INSERT INTO posts (author_id, body, mention_ids, hashtags, visibility, group_id, created_at)
    SELECT ${dancer(sql`n`)},
      'Post ' || g || ': ' || repeat('tango ', 3 + g % 30),
      CASE WHEN g % 10 = 5 THEN ARRAY[${dancer(sql`1 + (g::bigint * 31) % ${U}`)}] ELSE '{}' END,
      CASE WHEN g % 7 = 0 THEN ARRAY['milonga'] ELSE '{}' END,
      CASE WHEN g % 20 = 0 THEN 'group' WHEN g % 20 <= 3 THEN 'friends' ELSE 'public' END,
      CASE WHEN g % 20 = 0 THEN ${group(sql`n % ${G}`)} END,
      now() - g * (${int(msPerPost)} * interval '1 millisecond')
    FROM (
      SELECT g, 1 + floor(${U} * power(g * 0.6180339887498949::float8 - floor(g * 0.6180339887498949::float8), 2))::int AS n
      FROM generate_series(${int(posts)}, 1, -1) AS g
    ) AS numbered`,
  );
  say(`    ${rows.posts!.toLocaleString('en')} posts in ${(postsMs / 1000).toFixed(1)} s`);
  await count(
    'posts',
    sql`
    INSERT INTO posts (author_id, body, visibility, created_at)
    SELECT v.id, 'My post ' || g, CASE WHEN g % 4 = 0 THEN 'friends' ELSE 'public' END, now() - g * interval '7 days'
    FROM ${viewers}, generate_series(1, ${int(OWN_POSTS)}) AS g`,
  );

  // The 20 lowest-numbered (so the busiest) members of the viewers' groups that neither viewer follows or is friends with.
  await count(
    'blocks',
    sql`
    WITH picked AS (
      SELECT u.id, row_number() OVER (ORDER BY u.created_at DESC) AS rank
      FROM group_members gm JOIN users u ON u.id = gm.user_id
      WHERE gm.group_id IN (SELECT group_id FROM group_members WHERE user_id = ${viewerId})
        AND u.id NOT IN (${viewerId}, ${comparisonId})
        AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.follower_id IN (${viewerId}, ${comparisonId}) AND f.followee_id = u.id)
        AND NOT EXISTS (SELECT 1 FROM friendships f WHERE f.user_id IN (${viewerId}, ${comparisonId}) AND f.friend_id = u.id)
      ORDER BY u.created_at DESC LIMIT ${int(BLOCKS)}
    )
    INSERT INTO blocks (blocker_id, blocked_id, listed)
    SELECT CASE WHEN p.rank % 2 = 1 THEN v.id ELSE p.id END, CASE WHEN p.rank % 2 = 1 THEN p.id ELSE v.id END, true
    FROM picked p, ${viewers}`,
  );
  const insertMs = performance.now() - started;

  // As autovacuum would leave them (and so that it does not start in the middle of the timings).
  const vacuumStarted = performance.now();
  for (const table of ['users', 'groups', 'group_members', 'follows', 'friendships', 'blocks', 'posts']) {
    await db.execute(sql.raw(`VACUUM (ANALYZE) ${table}`));
  }
  return { viewerId, comparisonId, groups, rows, insertMs, vacuumMs: performance.now() - vacuumStarted };
}

/** What the viewer's feed has to choose from: the posts of their sources they may see, and their groups' posts not across a block. */
export async function candidates(db: AppDb, viewerId: string): Promise<{ fromPeople: number; fromGroups: number; sources: number }> {
  const { rows } = await db.execute<{ from_people: string; from_groups: string; sources: string }>(sql`
    WITH sources AS (
      SELECT followee_id AS author FROM follows WHERE follower_id = ${viewerId}
      UNION SELECT friend_id FROM friendships WHERE user_id = ${viewerId}
      UNION SELECT ${viewerId}::uuid
    )
    SELECT
      (SELECT count(*) FROM sources) AS sources,
      (SELECT count(*) FROM sources s JOIN posts p ON p.author_id = s.author AND p.group_id IS NULL
        WHERE p.visibility = 'public' OR s.author = ${viewerId}
          OR EXISTS (SELECT 1 FROM friendships x WHERE x.user_id = ${viewerId} AND x.friend_id = s.author)) AS from_people,
      (SELECT count(*) FROM group_members gm JOIN posts p ON p.group_id = gm.group_id
        WHERE gm.user_id = ${viewerId} AND NOT EXISTS (SELECT 1 FROM blocks b
          WHERE (b.blocker_id = ${viewerId} AND b.blocked_id = p.author_id) OR (b.blocker_id = p.author_id AND b.blocked_id = ${viewerId}))) AS from_groups`);
  const row = rows[0]!;
  return { fromPeople: Number(row.from_people), fromGroups: Number(row.from_groups), sources: Number(row.sources) };
}
