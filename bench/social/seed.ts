import { type SQL, sql } from 'drizzle-orm';
import type { AppDb } from '../../server/db/database';

/**
 * The social benchmark's data, written in bulk with INSERT … SELECT over generate_series (no row
 * goes through the services): max(`rows`, `followers`) fans; a celebrity followed by `rows` of them, with `rows`
 * notifications of their own; a star followed by `followers` of them (the fan-out's actor); and a
 * viewer who reads the celebrity's lists, who has blocked ten of the celebrity's followers and been
 * blocked by ten others, so that the lists' block rule has rows to leave out.
 */
export interface Seeded {
  celebrityId: string;
  starId: string;
  viewerId: string;
  rows: number;
  followers: number;
  ms: number;
}

/** Fan n's id, computed (so that no statement needs a table of them): an md5 of the name, read as a uuid. */
const fan = (n: SQL) => sql`md5('bench-fan-' || ${n})::uuid`;

const int = (n: number) => {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`expected a positive integer, got ${n}`);
  return sql.raw(String(n));
};

async function account(db: AppDb, username: string): Promise<string> {
  const { rows } = await db.execute<{ id: string }>(sql`
    INSERT INTO users (username, display_name, roles, password_hash)
    VALUES (${username}, ${username}, ARRAY['user'], 'not-a-real-hash') RETURNING id`);
  return rows[0]!.id;
}

export async function seed(db: AppDb, options: { rows: number; followers: number }): Promise<Seeded> {
  const started = performance.now();
  const { rows, followers } = options;
  const fans = Math.max(rows, followers);
  await db.execute(sql`
    INSERT INTO users (id, username, display_name, roles, password_hash, created_at, updated_at)
    SELECT ${fan(sql`g`)}, 'bench-fan-' || g, 'Fan ' || g, ARRAY['user'], 'not-a-real-hash', now() - g * interval '1 second', now() - g * interval '1 second'
    FROM generate_series(1, ${int(fans)}) AS g`);
  const celebrityId = await account(db, 'bench-celebrity');
  const starId = await account(db, 'bench-star');
  const viewerId = await account(db, 'bench-viewer');

  // Newest first is fan 1, a second apart: the celebrity's list ends with fan `rows`.
  await db.execute(sql`
    INSERT INTO follows (follower_id, followee_id, created_at)
    SELECT ${fan(sql`g`)}, ${celebrityId}::uuid, now() - g * interval '1 second' FROM generate_series(1, ${int(rows)}) AS g`);
  await db.execute(sql`
    INSERT INTO follows (follower_id, followee_id, created_at)
    SELECT ${fan(sql`g`)}, ${starId}::uuid, now() - g * interval '1 second' FROM generate_series(1, ${int(followers)}) AS g`);
  const step = int(Math.max(1, Math.floor(rows / 10)));
  await db.execute(sql`
    INSERT INTO blocks (blocker_id, blocked_id, listed)
    SELECT ${viewerId}::uuid, ${fan(sql`g`)}, true FROM generate_series(1, ${int(rows)}) AS g WHERE g % ${step} = 1 % ${step}
    UNION ALL SELECT ${fan(sql`g`)}, ${viewerId}::uuid, true FROM generate_series(1, ${int(rows)}) AS g WHERE g % ${step} = 2 % ${step} AND ${step} > 1`);

  // A third unread; kinds and targets vary as real ones do (each unread item has a target of its own,
  // as notifications_unread_item_idx requires); each item names three fans, whose profiles the list reads.
  await db.execute(sql`
    INSERT INTO notifications (user_id, kind, target_type, target_id, actor_ids, actor_count, event_count, read_at, created_at, updated_at)
    SELECT ${celebrityId}::uuid,
      (ARRAY['event_rsvp', 'group_invite', 'event_changed'])[g % 3 + 1],
      (ARRAY['event', 'group', 'event'])[g % 3 + 1],
      gen_random_uuid(),
      ARRAY[${fan(sql`g`)}, ${fan(sql`g % ${int(rows)} + 1`)}, ${fan(sql`(g + 1) % ${int(rows)} + 1`)}], 3 + g % 5, 3 + g % 7,
      CASE WHEN g % 3 = 0 THEN NULL ELSE now() END,
      now() - g * interval '1 second', now() - g * interval '1 second'
    FROM generate_series(1, ${int(rows)}) AS g`);
  await db.execute(sql`ANALYZE users`);
  await db.execute(sql`ANALYZE follows`);
  await db.execute(sql`ANALYZE blocks`);
  await db.execute(sql`ANALYZE notifications`);
  return { celebrityId, starId, viewerId, rows, followers, ms: performance.now() - started };
}
