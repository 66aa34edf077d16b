import { and, desc, eq, isNull } from 'drizzle-orm';
import { PAGE_LIMIT_DEFAULT } from '../../runtime/contract';
import type { AppDb } from '../../server/db/database';
import { follows, notifications as notificationsTable } from '../../server/db/schema';
import { createNotificationService } from '../../server/services/notifications';
import { noRealtime } from '../../server/services/realtime-port';
import { createSocialService } from '../../server/services/social';
import type { Seeded } from './seed';

/**
 * List latency at scale: the service calls behind GET /users/{id}/followers and GET /notifications,
 * called in this process one after another (no HTTP), each timed alone. The cursor of a deep page
 * is the key of the row 90 % of the way down the list, as a client paging that far would hold.
 */
export interface ListFigure {
  list: string;
  medianMs: number;
  p95Ms: number;
  /** Items on the page (a check that the call did list something). */
  items: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

export async function measureLists(db: AppDb, seeded: Seeded, settings: { iterations: number; warmup: number }): Promise<ListFigure[]> {
  const notifications = createNotificationService({ db, realtime: noRealtime });
  const social = createSocialService(db, notifications);
  const { celebrityId, viewerId, rows } = seeded;
  const deep = Math.floor(rows * 0.9);
  const limit = PAGE_LIMIT_DEFAULT;

  const [followKey] = await db
    .select({ createdAt: follows.createdAt, id: follows.followerId })
    .from(follows)
    .where(eq(follows.followeeId, celebrityId))
    .orderBy(desc(follows.createdAt), desc(follows.followerId))
    .offset(deep)
    .limit(1);
  const [notificationKey] = await db
    .select({ createdAt: notificationsTable.updatedAt, id: notificationsTable.id })
    .from(notificationsTable)
    .where(eq(notificationsTable.userId, celebrityId))
    .orderBy(desc(notificationsTable.updatedAt), desc(notificationsTable.id))
    .offset(deep)
    .limit(1);
  const [unreadKey] = await db
    .select({ createdAt: notificationsTable.updatedAt, id: notificationsTable.id })
    .from(notificationsTable)
    .where(and(eq(notificationsTable.userId, celebrityId), isNull(notificationsTable.readAt)))
    .orderBy(desc(notificationsTable.updatedAt), desc(notificationsTable.id))
    .offset(Math.floor(deep / 3))
    .limit(1);

  const count = (page: { items: unknown[] } | 'hidden') => (page === 'hidden' ? -1 : page.items.length);
  const calls: [string, () => Promise<number>][] = [
    ['social.listFollowers, first page', async () => count(await social.listFollowers(viewerId, celebrityId, { limit, after: null }))],
    [
      `social.listFollowers, deep page (cursor at row ${deep.toLocaleString('en')})`,
      async () => count(await social.listFollowers(viewerId, celebrityId, { limit, after: followKey ?? null })),
    ],
    [
      'notifications.list, first page',
      async () => count(await notifications.list(celebrityId, { unreadOnly: false, page: { limit, after: null } })),
    ],
    [
      'notifications.list, unread only, first page',
      async () => count(await notifications.list(celebrityId, { unreadOnly: true, page: { limit, after: null } })),
    ],
    [
      `notifications.list, deep page (cursor at row ${deep.toLocaleString('en')})`,
      async () => count(await notifications.list(celebrityId, { unreadOnly: false, page: { limit, after: notificationKey ?? null } })),
    ],
    [
      `notifications.list, unread only, deep page (cursor at unread row ${Math.floor(deep / 3).toLocaleString('en')})`,
      async () => count(await notifications.list(celebrityId, { unreadOnly: true, page: { limit, after: unreadKey ?? null } })),
    ],
  ];

  const figures: ListFigure[] = [];
  for (const [list, call] of calls) {
    for (let i = 0; i < settings.warmup; i++) await call();
    const times: number[] = [];
    let items = 0;
    for (let i = 0; i < settings.iterations; i++) {
      const started = performance.now();
      items = await call();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    figures.push({ list, medianMs: percentile(times, 0.5), p95Ms: percentile(times, 0.95), items });
  }
  return figures;
}
