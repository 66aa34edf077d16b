import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import type { Database } from '../server/db/database';
import type { PageKey } from '../server/db/keyset';
import { captureFeedQuery, cursorAfter, explain, type ExplainSummary, type Latency, timeFeed } from './feed/measure';
import { BLOCKS, candidates, COMPARISON_FOLLOWING, FRIENDS, GROUPS_JOINED, seed } from './feed/seed';
import { dropScratchDatabases, openScratchPostgres, reachable } from './social/stores';

/**
 * npx tsx bench/feed.ts [--posts 1000000] [--users 20000] [--following 1000] [--iterations 300] [--warmup 20] [--postgres URL]
 * (npm run bench -- --only feed runs it with these defaults.)
 *
 * The home feed (`createPostService(db).feed`, fan-out on read) on PostgreSQL at scale: `posts`
 * posts by `users` users, seeded in bulk SQL (bench/feed/seed.ts says what), on a scratch database
 * created for the run, migrated by the app's openDatabase, and dropped after it (also on Ctrl-C).
 * Latency p50 / p95 / p99 of `iterations` service calls (page of 20) after `warmup` uncounted, for a
 * viewer following `following` accounts with 200 friends in 20 groups, and for one following 100:
 * the first page, and the page after the cursor a client holds 50 pages down. Then EXPLAIN (ANALYZE,
 * BUFFERS) of the statement the service sent for those pages, captured from its own db.execute call.
 * The PostgreSQL server runs wherever the system puts it; figures are measurements of this one run,
 * not pass/fail thresholds.
 */
const DEPTH = 50;
const LIMIT = 20;

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '20000' },
    following: { type: 'string', default: '1000' },
    iterations: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '20' },
    postgres: { type: 'string', default: process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' },
  },
});

const whole = (name: string, value: string, least: number) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < least) throw new Error(`--${name} must be an integer of at least ${least}, got ${value}`);
  return n;
};
const settings = {
  posts: whole('posts', values.posts, 1),
  users: whole('users', values.users, 1),
  following: whole('following', values.following, 1),
  iterations: whole('iterations', values.iterations, 1),
  warmup: whole('warmup', values.warmup, 0),
};

const redact = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
const command = [
  'npx tsx bench/feed.ts',
  ...(['posts', 'users', 'following', 'iterations', 'warmup'] as const).map((name) => `--${name} ${settings[name]}`),
  ...(values.postgres === 'postgres://postgres@127.0.0.1:5432/test' ? [] : [`--postgres ${redact(values.postgres)}`]),
].join(' ');

const began = performance.now();
const say = (line: string) => console.log(line);
const elapsed = () => `${((performance.now() - began) / 1000).toFixed(1)} s`;
const count = (n: number) => n.toLocaleString('en');

// Ctrl-C: the scratch database is dropped, not left behind; the query it cuts short is not reported as a failure.
let interrupted: Promise<unknown> | undefined;
process.once('SIGINT', () => {
  say('Interrupted: dropping the scratch database');
  interrupted = dropScratchDatabases().then(() => process.exit(130));
});

const problem = await reachable(values.postgres);
if (problem) {
  say(`Feed: skipped, PostgreSQL at ${redact(values.postgres)} not reachable (${problem})`);
  process.exit(0);
}

const latencies: { viewer: string; page: string; figure: Latency }[] = [];
const plans: { page: string; statement: string; summary: ExplainSummary }[] = [];
let database: Database | undefined;
try {
  database = await openScratchPostgres(values.postgres);
  const { db } = database;
  const { rows: server } = await db.execute<{ version: string; shared_buffers: string }>(
    sql`SELECT current_setting('server_version') AS version, current_setting('shared_buffers') AS shared_buffers`,
  );
  say(
    `Feed at scale: ${count(settings.posts)} posts by ${count(settings.users)} users; PostgreSQL ${server[0]!.version} ` +
      `(shared_buffers ${server[0]!.shared_buffers}) at ${redact(values.postgres)}, scratch database; Node ${process.version}`,
  );
  say(`  opened and migrated [${elapsed()}]; seeding:`);
  const seeded = await seed(db, settings, (line) => say(`${line} [${elapsed()}]`));
  say(
    `  seeded in ${(seeded.insertMs / 1000).toFixed(1)} s (bulk INSERT … SELECT), then VACUUM (ANALYZE) in ${(seeded.vacuumMs / 1000).toFixed(1)} s: ` +
      Object.entries(seeded.rows)
        .map(([table, n]) => `${count(n)} ${table}`)
        .join(', '),
  );

  const viewers = [
    { name: `follows ${count(settings.following)}`, id: seeded.viewerId },
    { name: `follows ${count(Math.min(COMPARISON_FOLLOWING, settings.following))}`, id: seeded.comparisonId },
  ];
  const deep = new Map<string, PageKey | null>();
  for (const viewer of viewers) {
    const c = await candidates(db, viewer.id);
    deep.set(viewer.id, await cursorAfter(db, viewer.id, LIMIT, DEPTH));
    say(
      `  viewer who ${viewer.name}, ${FRIENDS} friends, ${GROUPS_JOINED} groups, ${BLOCKS} blocks: ${count(c.sources)} sources (self included); ` +
        `feed candidates ${count(c.fromPeople)} posts from people, ${count(c.fromGroups)} from groups`,
    );
  }

  for (const viewer of viewers) {
    for (const [page, after] of [
      ['first page', null],
      [`page ${DEPTH + 1} (cursor after ${DEPTH} pages)`, deep.get(viewer.id) ?? null],
    ] as const) {
      if (page !== 'first page' && !after) {
        say(`  ${viewer.name}: the feed ends before page ${DEPTH + 1}, not timed`);
        continue;
      }
      say(`  timing ${viewer.name}, ${page}: ${settings.iterations} calls after ${settings.warmup} uncounted [${elapsed()}]`);
      latencies.push({ viewer: viewer.name, page, figure: await timeFeed(db, viewer.id, after, { limit: LIMIT, ...settings }) });
    }
  }

  const main = viewers[0]!;
  for (const [page, after] of [
    ['first page', null],
    [`page ${DEPTH + 1}`, deep.get(main.id) ?? null],
  ] as const) {
    if (page !== 'first page' && !after) continue;
    const { query, chars, params } = await captureFeedQuery(db, main.id, { limit: LIMIT, after });
    await explain(db, query); // the second run is reported, as the timed calls ran on a warm cache
    plans.push({
      page: `${main.name}, ${page}`,
      statement: `${count(chars)} characters, ${params} parameters`,
      summary: await explain(db, query),
    });
  }
} catch (error) {
  await interrupted;
  throw error;
} finally {
  await database?.close();
}

const table = (header: string[], rows: string[][], right: boolean[]) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, i) => (right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ')}`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
};
const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

say('');
say(
  `Feed latency: postService.feed(viewer, { limit: ${LIMIT}, after }) in this process (no HTTP; the post views it loads included), ` +
    `${settings.iterations} calls each after ${settings.warmup} uncounted, one at a time; nearest-rank percentiles`,
);
say(
  table(
    ['viewer', 'page', 'p50 ms', 'p95 ms', 'p99 ms', 'items'],
    latencies.map(({ viewer, page, figure }) => [viewer, page, ms(figure.p50), ms(figure.p95), ms(figure.p99), String(figure.items)]),
    [false, false, true, true, true, true],
  ),
);
for (const { page, statement, summary } of plans) {
  say('');
  say(
    `EXPLAIN (ANALYZE, BUFFERS) of the feed's statement (captured from the service's db.execute: ${statement}), ${page}, second run: ` +
      `planning ${summary.planningMs.toFixed(2)} ms, execution ${summary.executionMs.toFixed(2)} ms, ${summary.rows} rows out, ` +
      `shared buffers hit ${count(summary.sharedHit)}, read ${count(summary.sharedRead)}`,
  );
  say(
    table(
      ['relation', 'scan', 'loops', 'rows read', 'removed by filter'],
      summary.scans.map((s) => [s.relation, s.via, count(s.loops), count(s.rows), count(s.removed)]),
      [false, false, true, true, true],
    ),
  );
}
say(
  '  (rows are EXPLAIN’s per-loop averages, which it rounds to whole rows, times the loops: a probe that finds a row in fewer than half its loops shows 0)',
);
say('');
say(`Whole run: ${elapsed()}. Re-run: ${command}`);
