import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { appOnOwnDatabase } from '../../support/app';
import { dancersOf } from '../../support/dancers';

/** The admins' statistics: rollups a job makes, checked against a count of the rows themselves. */

const { app, database } = appOnOwnDatabase();

const { dancer, as } = dancersOf(app);
const DAY = 86_400_000;
const dayOf = (at: string | Date) => new Date(at).toISOString().slice(0, 10);

/** Rows over the last twelve days, at hours that cross UTC midnight. */
async function seed(ownerId: string, groupIds: string[], conversationId: string) {
  const spread = (i: string) => sql.raw(`now() - (${i} % 12) * interval '1 day' - (${i} % 5) * interval '5 hours'`);
  const { db } = database();
  await db.execute(sql`INSERT INTO users (username, display_name, password_hash, roles, created_at)
    SELECT 'seed-' || i || '-' || gen_random_uuid(), 'Seed', 'x', ARRAY['user'], ${spread('i')} FROM generate_series(1, 40) i`);
  await db.execute(sql`INSERT INTO posts (author_id, body, visibility, group_id, created_at)
    SELECT ${ownerId}, 'p', CASE WHEN i % 3 = 0 THEN 'public' ELSE 'group' END,
      CASE i % 3 WHEN 1 THEN ${groupIds[0]}::uuid WHEN 2 THEN ${groupIds[1]}::uuid END, ${spread('i')}
    FROM generate_series(1, 50) i`);
  await db.execute(sql`INSERT INTO posts (author_id, body, visibility, group_id, created_at)
    SELECT ${ownerId}, 'p', 'group', ${groupIds[2]}::uuid, ${spread('i')} FROM generate_series(1, 7) i`);
  await db.execute(sql`INSERT INTO messages (conversation_id, sender_id, client_key, body, created_at)
    SELECT ${conversationId}, ${ownerId}, 'seed-' || i, 'm', ${spread('i * 7')} FROM generate_series(1, 45) i`);
  await db.execute(sql`INSERT INTO events (organizer_id, title, kind, city, starts_at, ends_at, created_at, updated_at)
    SELECT ${ownerId}, 'e', 'milonga', (ARRAY['Buenos Aires', 'Berlin', 'Tokyo'])[1 + i % 3],
      ${spread('i * 3')}, ${spread('i * 3')} + interval '4 hours', ${spread('i')}, now() FROM generate_series(1, 30) i`);
  await db.execute(sql`INSERT INTO sessions (user_id, created_at, expires_at)
    SELECT u.id, ${spread('i')}, now() + interval '30 days'
    FROM generate_series(1, 25) i CROSS JOIN LATERAL (SELECT id FROM users ORDER BY id OFFSET i % 20 LIMIT 1) u`);
  await db.execute(sql`INSERT INTO refresh_tokens (session_id, token_hash, status, created_at, expires_at)
    SELECT s.id, gen_random_uuid()::text, 'used', s.created_at + (i % 3) * interval '9 hours', now() + interval '30 days'
    FROM generate_series(1, 3) i CROSS JOIN sessions s`);
}

/** The same figures counted from the rows, in this process. */
async function bruteForce(from: string, to: string) {
  const rows = async (query: ReturnType<typeof sql>) => (await database().db.execute<Record<string, string>>(query)).rows;
  const inRange = (day: string) => day >= from && day <= to;
  const perDay = (times: string[]) => {
    const counts = new Map<string, number>();
    for (const day of times.map(dayOf).filter(inRange)) counts.set(day, (counts.get(day) ?? 0) + 1);
    return counts;
  };
  const signups = perDay((await rows(sql`SELECT created_at::text AS at FROM users`)).map((r) => r.at!));
  const posts = perDay((await rows(sql`SELECT created_at::text AS at FROM posts`)).map((r) => r.at!));
  const messages = perDay((await rows(sql`SELECT created_at::text AS at FROM messages`)).map((r) => r.at!));
  const events = perDay((await rows(sql`SELECT created_at::text AS at FROM events`)).map((r) => r.at!));
  const active = new Map<string, Set<string>>();
  for (const r of await rows(sql`SELECT user_id, created_at::text AS at FROM sessions
      UNION ALL SELECT s.user_id, t.created_at::text FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id`)) {
    const day = dayOf(r.at!);
    if (inRange(day)) active.set(day, (active.get(day) ?? new Set()).add(r.user_id!));
  }
  const days = [];
  for (let at = Date.parse(from); at <= Date.parse(to); at += DAY) {
    const day = dayOf(new Date(at));
    days.push({
      day,
      signups: signups.get(day) ?? 0,
      activeUsers: active.get(day)?.size ?? 0,
      posts: posts.get(day) ?? 0,
      messages: messages.get(day) ?? 0,
      events: events.get(day) ?? 0,
    });
  }
  const cities = new Map<string, number>();
  for (const r of await rows(sql`SELECT city, starts_at::text AS at FROM events`))
    if (inRange(dayOf(r.at!))) cities.set(r.city!, (cities.get(r.city!) ?? 0) + 1);
  const groups = new Map<string, number>();
  for (const r of await rows(sql`SELECT group_id, created_at::text AS at FROM posts WHERE group_id IS NOT NULL`))
    if (inRange(dayOf(r.at!))) groups.set(r.group_id!, (groups.get(r.group_id!) ?? 0) + 1);
  const ranked = <T>(m: Map<string, number>, as: (key: string, n: number) => T) =>
    [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([key, n]) => as(key, n));
  return {
    days,
    eventsByCity: ranked(cities, (city, events) => ({ city, events })),
    topGroups: ranked(groups, (groupId, posts) => ({ groupId, posts })),
  };
}

describe('statistics', () => {
  it('equal a count of the rows, day by day, over any range; only for admins', async () => {
    const admin = await dancer(['user', 'admin']);
    const owner = await dancer();
    const groupIds = [];
    for (const name of ['Tango Norte', 'Tango Sur', 'Tango Este'])
      groupIds.push((await as(owner).post('/groups', { name, kind: 'community', visibility: 'public' })).body.data.id as string);
    const chat = (await as(owner).post('/conversations', { kind: 'direct', memberIds: [admin.id] })).body.data;
    await seed(owner.id, groupIds, chat.id);
    // The app's start counted the past days already, before these rows of the past were written
    // (which only a seed does): count them again.
    await database().db.execute(sql`DELETE FROM daily_stats_days`);
    expect(await app().services.statistics.rollup()).toBe(367);

    const today = dayOf(new Date());
    for (const [from, to] of [
      [dayOf(new Date(Date.now() - 10 * DAY)), today],
      [dayOf(new Date(Date.now() - 6 * DAY)), dayOf(new Date(Date.now() - 2 * DAY))],
    ] as const) {
      const res = await as(admin).get('/admin/statistics', { from, to });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const expected = await bruteForce(from, to);
      expect(res.body.data.days).toEqual(expected.days);
      expect(res.body.data.eventsByCity).toEqual(expected.eventsByCity);
      expect(res.body.data.topGroups.map((g: { groupId: string; posts: number }) => ({ groupId: g.groupId, posts: g.posts }))).toEqual(
        expected.topGroups,
      );
      expect(res.body.data.live).toEqual({ sockets: 0, usersOnline: 0 });
    }
    // The seed left figures on most days: a count of zeros would not pass for a match.
    const busy = (await as(admin).get('/admin/statistics')).body.data.days.filter((d: { posts: number }) => d.posts > 0);
    expect(busy.length).toBeGreaterThan(8);

    // A second run counts today only.
    expect(await app().services.statistics.rollup()).toBe(1);

    expect((await as(owner).get('/admin/statistics')).status).toBe(403);
    const tooLong = await as(admin).get('/admin/statistics', { from: '2024-01-01', to: today });
    expect(tooLong.body.errors).toEqual([expect.objectContaining({ path: '/query/from', code: 'range_too_long' })]);
    const reversed = await as(admin).get('/admin/statistics', { from: today, to: '2024-01-01' });
    expect(reversed.status).toBe(400);
    for (const query of [{ from: '0000-01-01', to: '0000-12-31' }, { to: '0001-01-10' }, { to: '1999-12-31' }] as Record<
      string,
      string
    >[]) {
      const res = await as(admin).get('/admin/statistics', query);
      expect(res.status, JSON.stringify(query)).toBe(400);
    }
  });
});
