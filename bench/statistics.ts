import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import type { AppDb, Database } from '../server/db/database';
import { createStatisticsService } from '../server/services/statistics';
import { dropScratchDatabases, openScratchPostgres, reachable } from './social/stores';

/**
 * npx tsx bench/statistics.ts [--posts 1000000] [--iterations 200] [--postgres URL]
 * (npm run bench -- --only statistics runs it with these defaults.)
 *
 * The admins' statistics on PostgreSQL at scale, on a scratch database (migrated, dropped after):
 * `posts` posts over the last 365 days (a fifth in 200 groups), a fifth as many messages, users,
 * sessions and refresh tokens, and a twentieth as many events, seeded in bulk SQL. Measured in this
 * one run: the job's first rollup (every day of the year), a later one (today), and the latency of
 * reading a 30-day and a 365-day range from the rollups (uncached: every call another range), beside
 * the baseline a request would pay without rollups: the same per-day counts aggregated from the
 * tables themselves over the same ranges. Figures are measurements, not pass/fail thresholds.
 */
const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '1000000' },
    iterations: { type: 'string', default: '200' },
    postgres: { type: 'string', default: process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const posts = Number(values.posts);
const iterations = Number(values.iterations);
const say = (line: string) => console.log(line);
const count = (n: number) => n.toLocaleString('en');
const percentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;

const problem = await reachable(values.postgres);
if (problem) {
  say(`Statistics: skipped, PostgreSQL not reachable (${problem})`);
  process.exit(0);
}
process.once('SIGINT', () => void dropScratchDatabases().then(() => process.exit(130)));

/** Rows spread over the last 365 days. */
async function seed(db: AppDb): Promise<Record<string, number>> {
  const users = Math.max(1, Math.floor(posts / 5));
  const spread = sql.raw(`now() - random() * interval '365 days'`);
  await db.execute(sql`INSERT INTO users (username, display_name, password_hash, roles, created_at)
    SELECT 'u' || i, 'U', 'x', ARRAY['user'], ${spread} FROM generate_series(1, ${users}) i`);
  await db.execute(
    sql`INSERT INTO groups (name, kind, visibility) SELECT 'Group ' || i, 'community', 'public' FROM generate_series(1, 200) i`,
  );
  await db.execute(sql`CREATE TEMP TABLE ids AS SELECT row_number() OVER () AS n, id FROM users`);
  await db.execute(sql`CREATE TEMP TABLE gids AS SELECT row_number() OVER () AS n, id FROM groups`);
  await db.execute(sql`INSERT INTO posts (author_id, body, visibility, group_id, created_at)
    SELECT u.id, 'p', CASE WHEN i % 5 = 0 THEN 'group' ELSE 'public' END, CASE WHEN i % 5 = 0 THEN g.id END, ${spread}
    FROM generate_series(1, ${posts}) i JOIN ids u ON u.n = 1 + i % ${users} JOIN gids g ON g.n = 1 + i % 200`);
  await db.execute(sql`INSERT INTO conversations (kind, title, created_by) SELECT 'group', 'c', id FROM ids WHERE n <= 100`);
  await db.execute(sql`INSERT INTO messages (conversation_id, sender_id, client_key, body, created_at)
    SELECT c.id, c.created_by, 'k' || i, 'm', ${spread}
    FROM generate_series(1, ${users}) i JOIN (SELECT row_number() OVER () AS n, id, created_by FROM conversations) c ON c.n = 1 + i % 100`);
  await db.execute(sql`INSERT INTO events (organizer_id, title, kind, city, starts_at, ends_at, updated_at, created_at)
    SELECT u.id, 'e', 'milonga', 'City ' || (i % 50), s, s + interval '4 hours', now(), s - interval '20 days'
    FROM (SELECT i, ${spread} AS s FROM generate_series(1, ${Math.floor(posts / 20)}) i) e JOIN ids u ON u.n = 1 + i % ${users}`);
  await db.execute(sql`INSERT INTO sessions (user_id, created_at, expires_at) SELECT id, ${spread}, now() FROM ids`);
  await db.execute(sql`INSERT INTO refresh_tokens (session_id, token_hash, status, created_at, expires_at)
    SELECT id, md5(id::text), 'used', created_at + interval '2 hours', now() FROM sessions`);
  await db.execute(sql`VACUUM ANALYZE`);
  const rows: Record<string, number> = {};
  for (const table of ['users', 'posts', 'messages', 'events', 'sessions', 'refresh_tokens']) {
    const { rows: n } = await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)}`);
    rows[table] = n[0]!.n;
  }
  return rows;
}

/** What a request would do without rollups: per-day counts from the tables, over the range. */
async function fromTables(db: AppDb, from: string, to: string): Promise<void> {
  const range = (column: string) =>
    sql`${sql.raw(column)} >= ${from}::date::timestamp AT TIME ZONE 'UTC' AND ${sql.raw(column)} < (${to}::date + 1)::timestamp AT TIME ZONE 'UTC'`;
  const day = (column: string) => sql.raw(`(${column} AT TIME ZONE 'UTC')::date`);
  await db.execute(sql`
    SELECT ${day('created_at')}, count(*) FROM users WHERE ${range('created_at')} GROUP BY 1
    UNION ALL SELECT ${day('created_at')}, count(*) FROM posts WHERE ${range('created_at')} GROUP BY 1
    UNION ALL SELECT ${day('created_at')}, count(*) FROM messages WHERE ${range('created_at')} GROUP BY 1
    UNION ALL SELECT ${day('created_at')}, count(*) FROM events WHERE ${range('created_at')} GROUP BY 1`);
  await db.execute(sql`SELECT city, count(*) FROM events WHERE ${range('starts_at')} GROUP BY 1 ORDER BY 2 DESC LIMIT 20`);
  await db.execute(
    sql`SELECT group_id, count(*) FROM posts WHERE group_id IS NOT NULL AND ${range('created_at')} GROUP BY 1 ORDER BY 2 DESC LIMIT 10`,
  );
  await db.execute(sql`SELECT ${day('created_at')}, count(DISTINCT user_id) FROM (
    SELECT created_at, user_id FROM sessions WHERE ${range('created_at')}
    UNION ALL SELECT t.created_at, s.user_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE ${range('t.created_at')}) a GROUP BY 1`);
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const DAY = 86_400_000;

async function time(calls: number, call: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 5; i++) await call(i + calls);
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    await call(i);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

let database: Database | undefined;
try {
  database = await openScratchPostgres(values.postgres);
  const { db } = database;
  const started = performance.now();
  const rows = await seed(db);
  say(
    `Statistics on PostgreSQL: ${Object.entries(rows)
      .map(([table, n]) => `${count(n)} ${table}`)
      .join(', ')} over 365 days, seeded in ${((performance.now() - started) / 1000).toFixed(1)} s; Node ${process.version}`,
  );
  const statistics = createStatisticsService(db);
  let at = performance.now();
  const days = await statistics.rollup();
  say(`  first rollup: ${days} days in ${((performance.now() - at) / 1000).toFixed(2)} s`);
  at = performance.now();
  await statistics.rollup();
  say(`  a later rollup (today only): ${(performance.now() - at).toFixed(1)} ms`);
  const today = Date.now();
  for (const span of [30, 365]) {
    // Each call another range: the 30-second cache never answers.
    const range = (i: number) => [dayOf(today - (span - 1 + (i % 300)) * DAY), dayOf(today - (i % 300) * DAY)] as const;
    const rollups = await time(iterations, (i) => statistics.figures(...range(i)));
    const cached = await time(iterations, () => statistics.figures(...range(0)));
    const tables = await time(Math.min(iterations, 20), (i) => fromTables(db, ...range(i)));
    say(
      `  ${String(span).padStart(3)} days: from rollups p50 ${rollups.p50.toFixed(2)} ms, p99 ${rollups.p99.toFixed(2)} ms; cached p50 ${cached.p50.toFixed(3)} ms; ` +
        `baseline from the tables p50 ${tables.p50.toFixed(0)} ms, p99 ${tables.p99.toFixed(0)} ms → rollups take ${(rollups.p50 / tables.p50).toFixed(3)}× the baseline`,
    );
  }
} finally {
  await database?.close();
  await dropScratchDatabases();
}
