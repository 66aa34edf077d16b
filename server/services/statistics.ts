import { and, asc, desc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import type { AppDb } from '../db/database';
import { dailyStats, groups } from '../db/schema';

/**
 * Statistics for the admins. A job (`rollup`, every few minutes and at start) counts, per UTC day,
 * sign-ups, active users (who signed in or renewed a session that day), posts, messages and events
 * created, events taking place by city, and posts by group, from indexed ranges of the tables'
 * times, into daily_stats; a finished day is counted once, today again on each run. Requests read
 * daily_stats only, over at most MAX_DAYS days, and keep an answer for CACHE_MS.
 */

export const MAX_DAYS = 366;
const CACHE_MS = 30_000;
const TOP_CITIES = 20;
const TOP_GROUPS = 10;
/** A lock only one instance's job holds at a time. */
const ROLLUP_LOCK = 0x5717_0019;

export interface DayFigures {
  day: string;
  signups: number;
  activeUsers: number;
  posts: number;
  messages: number;
  events: number;
}

export interface Statistics {
  days: DayFigures[];
  eventsByCity: { city: string; events: number }[];
  topGroups: { groupId: string; name: string; posts: number }[];
}

const PER_DAY = { signups: 'signups', active_users: 'activeUsers', posts: 'posts', messages: 'messages', events: 'events' } as const;

/** The day of a time, in UTC. */
const utcDay = (column: string) => sql.raw(`(${column} AT TIME ZONE 'UTC')::date`);

export function createStatisticsService(db: AppDb) {
  const cache = new Map<string, { at: number; value: Promise<Statistics> }>();

  async function read(from: string, to: string): Promise<Statistics> {
    const inRange = and(gte(dailyStats.day, from), lte(dailyStats.day, to));
    const total = sql<number>`sum(${dailyStats.value})::int`;
    const [perDay, cities, topGroups] = await Promise.all([
      db
        .select()
        .from(dailyStats)
        .where(and(inArray(dailyStats.metric, Object.keys(PER_DAY)), inRange)),
      db
        .select({ city: dailyStats.key, events: total })
        .from(dailyStats)
        .where(and(eq(dailyStats.metric, 'events_by_city'), inRange))
        .groupBy(dailyStats.key)
        .orderBy(desc(total), asc(dailyStats.key))
        .limit(TOP_CITIES),
      // A group deleted since is left out.
      db
        .select({ groupId: groups.id, name: groups.name, posts: total })
        .from(dailyStats)
        .innerJoin(groups, sql`${groups.id}::text = ${dailyStats.key}`)
        .where(and(eq(dailyStats.metric, 'group_posts'), inRange))
        .groupBy(groups.id, groups.name)
        .orderBy(desc(total), asc(groups.id))
        .limit(TOP_GROUPS),
    ]);
    const days = new Map<string, DayFigures>();
    for (let day = new Date(`${from}T00:00:00Z`); day <= new Date(`${to}T00:00:00Z`); day.setUTCDate(day.getUTCDate() + 1)) {
      const key = day.toISOString().slice(0, 10);
      days.set(key, { day: key, signups: 0, activeUsers: 0, posts: 0, messages: 0, events: 0 });
    }
    for (const row of perDay) days.get(row.day)![PER_DAY[row.metric as keyof typeof PER_DAY]] = row.value;
    return { days: [...days.values()], eventsByCity: cities, topGroups };
  }

  return {
    /** Figures for the UTC days from `from` to `to`, both included (the caller bounds the range). */
    figures(from: string, to: string): Promise<Statistics> {
      const key = `${from}/${to}`;
      const hit = cache.get(key);
      if (hit && Date.now() - hit.at < CACHE_MS) return hit.value;
      const value = read(from, to);
      value.catch(() => cache.delete(key));
      if (cache.size > 100) cache.clear();
      cache.set(key, { at: Date.now(), value });
      return value;
    },

    /**
     * Counts every day of the last MAX_DAYS not counted for good, and today, in one transaction
     * under a lock (another instance running it meanwhile skips). Answers the days counted.
     */
    async rollup(): Promise<number> {
      return db.transaction(async (tx) => {
        const { rows: locked } = await tx.execute<{ ok: boolean }>(sql`SELECT pg_try_advisory_xact_lock(${ROLLUP_LOCK}) AS ok`);
        if (!locked[0]?.ok) return 0;
        const { rows } = await tx.execute<{ first: string; today: string }>(sql`
          SELECT coalesce(min(d)::date::text, (now() AT TIME ZONE 'UTC')::date::text) AS first, (now() AT TIME ZONE 'UTC')::date::text AS today
          FROM generate_series(date_trunc('day', now() AT TIME ZONE 'UTC') - make_interval(days => ${MAX_DAYS}), date_trunc('day', now() AT TIME ZONE 'UTC'), interval '1 day') AS d
          WHERE NOT EXISTS (SELECT 1 FROM daily_stats_days s WHERE s.day = d::date)`);
        const { first, today } = rows[0]!;
        // [from, to) as times: the first day not final, to the end of today.
        const from = sql`(${first}::date::timestamp AT TIME ZONE 'UTC')`;
        const to = sql`((${today}::date + 1)::timestamp AT TIME ZONE 'UTC')`;
        const range = (column: string) => sql`${sql.raw(column)} >= ${from} AND ${sql.raw(column)} < ${to}`;
        await tx.execute(sql`DELETE FROM daily_stats WHERE day >= ${first}::date`);
        await tx.execute(sql`
          INSERT INTO daily_stats (metric, day, key, value)
          SELECT 'signups', ${utcDay('created_at')}, '', count(*) FROM users WHERE ${range('created_at')} GROUP BY 2
          UNION ALL
          SELECT 'posts', ${utcDay('created_at')}, '', count(*) FROM posts WHERE ${range('created_at')} GROUP BY 2
          UNION ALL
          SELECT 'messages', ${utcDay('created_at')}, '', count(*) FROM messages WHERE ${range('created_at')} GROUP BY 2
          UNION ALL
          SELECT 'events', ${utcDay('created_at')}, '', count(*) FROM events WHERE ${range('created_at')} GROUP BY 2
          UNION ALL
          SELECT 'events_by_city', ${utcDay('starts_at')}, city, count(*) FROM events WHERE ${range('starts_at')} GROUP BY 2, 3
          UNION ALL
          SELECT 'group_posts', ${utcDay('created_at')}, group_id::text, count(*) FROM posts
            WHERE group_id IS NOT NULL AND ${range('created_at')} GROUP BY 2, 3
          UNION ALL
          SELECT 'active_users', day, '', count(DISTINCT user_id) FROM (
            SELECT ${utcDay('created_at')} AS day, user_id FROM sessions WHERE ${range('created_at')}
            UNION ALL
            SELECT ${utcDay('t.created_at')}, s.user_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
              WHERE ${range('t.created_at')}
          ) active GROUP BY day`);
        await tx.execute(sql`
          INSERT INTO daily_stats_days (day)
          SELECT d::date FROM generate_series(${first}::date::timestamp, ${today}::date::timestamp - interval '1 day', interval '1 day') AS d
          ON CONFLICT DO NOTHING`);
        cache.clear();
        return (Date.parse(today) - Date.parse(first)) / 86_400_000 + 1;
      });
    },
  };
}

export type StatisticsService = ReturnType<typeof createStatisticsService>;
