import { parseArgs } from 'node:util';
import type { Database } from '../server/db/database';
import { pinToCore0 } from './child-process';
import { measureFanOut, quietLog, type FanOutFigure } from './social/fanout';
import { measureLists, type ListFigure } from './social/lists';
import { startLoad } from './social/load';
import { seed } from './social/seed';
import { dropScratchDatabases, openPglite, openScratchPostgres, reachable } from './social/stores';

/**
 * npx tsx bench/social.ts [--backends pglite,postgres,postgres+redis] [--followers 1000] [--rounds 2]
 *   [--rows 100000] [--iterations 200] [--warmup 20] [--postgres URL] [--redis URL]
 * (npm run bench -- --only social runs it with these defaults.)
 *
 * The social features at scale, on one machine over loopback, on each backend:
 *  1. notification fan-out: a user with `followers` followers, each connected with one Socket.IO
 *     client through the app's real-time server; every follower is told (bench/social/fanout.ts
 *     says how, and why that is not yet a product path). Time from the first notify to the last
 *     socket's `notification:new`. On PGlite and PostgreSQL with one instance; `postgres+redis` is
 *     two instances sharing PostgreSQL and Redis, the sockets split evenly, the notifications made
 *     on the first.
 *  2. list latency at `rows` rows: a user with `rows` followers and `rows` notifications; median and
 *     p95 of the service calls behind the follower and notification lists (bench/social/lists.ts).
 * Data is seeded in bulk SQL (bench/social/seed.ts). PostgreSQL runs on a scratch database created
 * for the run and dropped after it; PostgreSQL and Redis are skipped, saying so, when not reachable.
 *
 * This process (the app, and PGlite) runs on core 0, the sockets' process on core 1 (taskset, when
 * there are two cores); a PostgreSQL or Redis server runs wherever the system puts it. Figures are
 * measurements of this one run, not pass/fail thresholds.
 */
const BACKENDS = ['pglite', 'postgres', 'postgres+redis'] as const;
type Backend = (typeof BACKENDS)[number];

const { values } = parseArgs({
  options: {
    backends: { type: 'string', default: BACKENDS.join(',') },
    followers: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '2' },
    rows: { type: 'string', default: '100000' },
    iterations: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    postgres: { type: 'string', default: process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' },
    redis: { type: 'string', default: process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379' },
  },
});

const positive = (name: string, value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
};
const settings = {
  followers: positive('followers', values.followers),
  rounds: positive('rounds', values.rounds),
  rows: positive('rows', values.rows),
  iterations: positive('iterations', values.iterations),
  warmup: Number(values.warmup),
};
const wanted = values.backends.split(',').map((name) => name.trim()) as Backend[];
for (const name of wanted) if (!BACKENDS.includes(name)) throw new Error(`--backends: unknown "${name}" (known: ${BACKENDS.join(', ')})`);

const redact = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
const command = [
  'npx tsx bench/social.ts',
  `--backends ${wanted.join(',')}`,
  `--followers ${settings.followers}`,
  `--rounds ${settings.rounds}`,
  `--rows ${settings.rows}`,
  `--iterations ${settings.iterations}`,
  `--warmup ${settings.warmup}`,
  ...(values.postgres === 'postgres://postgres@127.0.0.1:5432/test' ? [] : [`--postgres ${redact(values.postgres)}`]),
  ...(values.redis === 'redis://127.0.0.1:6379' ? [] : [`--redis ${redact(values.redis)}`]),
].join(' ');

const began = performance.now();
const say = (line: string) => console.log(line);
const elapsed = () => `${((performance.now() - began) / 1000).toFixed(1)} s`;

// The app here on core 0, the sockets on core 1 (every thread of this process, so that PGlite and the GC stay put too).
const pinnable = pinToCore0();
const load = startLoad(1);

const skipped: string[] = [];
const { log, problems } = quietLog();
const fanOuts: { backend: string; instances: number; figure: FanOutFigure }[] = [];
const lists: { backend: string; figure: ListFigure }[] = [];

// Ctrl-C: the scratch database is dropped and the sockets' process stopped, not left behind.
process.once('SIGINT', () => {
  void Promise.allSettled([dropScratchDatabases(), load.stop()]).then(() => process.exit(130));
});

async function onBackend(name: 'pglite' | 'postgres', open: () => Promise<Database>, withRedis: boolean) {
  say(`${name} [${elapsed()}]:`);
  const started = performance.now();
  const database = await open();
  say(`  opened and migrated in ${(performance.now() - started).toFixed(0)} ms`);
  try {
    const seeded = await seed(database.db, { rows: settings.rows, followers: settings.followers });
    say(
      `  seeded in ${(seeded.ms / 1000).toFixed(1)} s: ${Math.max(settings.rows, settings.followers).toLocaleString('en')} users, ` +
        `${settings.rows.toLocaleString('en')} follows and ${settings.rows.toLocaleString('en')} notifications of one user, ` +
        `${settings.followers.toLocaleString('en')} followers of another`,
    );
    if (wanted.includes(name)) {
      say(`  list latency, ${settings.iterations} calls each after ${settings.warmup} uncounted [${elapsed()}]`);
      for (const figure of await measureLists(database.db, seeded, settings)) lists.push({ backend: name, figure });
      say(`  fan-out, one instance [${elapsed()}]`);
      const figures = await measureFanOut({ database, seeded, load, instances: 1, rounds: settings.rounds, timeoutMs: 30_000, say, log });
      for (const figure of figures) fanOuts.push({ backend: name, instances: 1, figure });
    }
    if (withRedis) {
      say(`  fan-out, two instances sharing PostgreSQL and Redis [${elapsed()}]`);
      const figures = await measureFanOut({
        database,
        seeded,
        load,
        instances: 2,
        redisUrl: values.redis,
        rounds: settings.rounds,
        timeoutMs: 30_000,
        say,
        log,
      });
      for (const figure of figures) fanOuts.push({ backend: 'postgres+redis', instances: 2, figure });
    }
  } finally {
    await database.close();
  }
}

try {
  say(
    `Social at scale: fan-out to ${settings.followers.toLocaleString('en')} connected followers, list latency at ${settings.rows.toLocaleString('en')} rows; ` +
      `Node ${process.version}${pinnable ? ', this process on core 0, the sockets on core 1' : ', not pinned to cores (no taskset or one core)'}`,
  );
  if (wanted.includes('pglite')) await onBackend('pglite', openPglite, false);
  if (wanted.includes('postgres') || wanted.includes('postgres+redis')) {
    const pgProblem = await reachable(values.postgres);
    if (pgProblem) {
      skipped.push(`PostgreSQL at ${redact(values.postgres)} not reachable (${pgProblem}): postgres and postgres+redis skipped`);
    } else {
      let withRedis = wanted.includes('postgres+redis');
      const redisProblem = withRedis ? await reachable(values.redis) : null;
      if (redisProblem) {
        skipped.push(`Redis at ${redact(values.redis)} not reachable (${redisProblem}): postgres+redis skipped`);
        withRedis = false;
      }
      if (wanted.includes('postgres') || withRedis) await onBackend('postgres', () => openScratchPostgres(values.postgres), withRedis);
    }
  }
} finally {
  await dropScratchDatabases();
  await load.stop();
}

const table = (header: string[], rows: string[][], right: boolean[]) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, i) => (right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ')}`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
};
const ms = (value: number) => (Number.isNaN(value) ? 'n/a' : value < 10 ? value.toFixed(2) : value.toFixed(0));

say('');
say(
  `Fan-out: event_changed told to each follower of one user through the NotificationService (as updateEvent tells attendees), ` +
    `one socket per follower; median of ${settings.rounds} round${settings.rounds === 1 ? '' : 's'} (an even count: the mean of the middle two), ` +
    `each column on its own, after a warm-up round to a tenth of them; times from the start (follower query included); ` +
    `"per notif." = to last receipt / followers; CPU = this process (app, and PGlite when it is the store)`,
);
say(
  table(
    [
      'backend',
      'instances',
      'how followers are told',
      'first receipt ms',
      'all stored ms',
      'last receipt ms',
      'per notif. ms',
      'CPU µs/notif.',
      'reached',
    ],
    fanOuts.map(({ backend, instances, figure }) => [
      backend,
      String(instances),
      figure.way,
      ms(figure.median.firstMs),
      ms(figure.median.storedMs),
      ms(figure.median.lastMs),
      (figure.median.lastMs / figure.median.told).toFixed(3),
      figure.median.cpuMicrosPerNotification.toFixed(0),
      `${figure.median.reached}/${figure.sockets}${figure.median.received > figure.median.reached ? ` (+${figure.median.received - figure.median.reached} dup.)` : ''}`,
    ]),
    [false, true, false, true, true, true, true, true, true],
  ),
);
say('');
say(
  `List latency: service calls in this process (no HTTP), page of 20, one user with ${settings.rows.toLocaleString('en')} followers ` +
    `and ${settings.rows.toLocaleString('en')} notifications (a third unread); ${settings.iterations} calls each after ${settings.warmup} uncounted`,
);
say(
  table(
    ['backend', 'list', 'median ms', 'p95 ms', 'items'],
    lists.map(({ backend, figure }) => [backend, figure.list, figure.medianMs.toFixed(2), figure.p95Ms.toFixed(2), String(figure.items)]),
    [false, false, true, true, true],
  ),
);
for (const note of skipped) say(`  skipped: ${note}`);
if (problems.count > 0) say(`  the app logged ${problems.count} warnings or errors meanwhile, first: ${problems.first.join(' | ')}`);
say('');
say(`Whole run: ${elapsed()}. Re-run: ${command}`);
