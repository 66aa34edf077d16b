import { and, asc, desc, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { ApiError } from '../../runtime/server';
import type { AppDb } from '../db/database';
import { before, toPage, type PageKey, type Page } from '../db/keyset';
import { stories, storyViews, users } from '../db/schema';
import { blockedEitherWay } from './social';
import type { MediaService, WireMedia } from './media';
import type { UserRecord } from './users';

/**
 * Stories: posts that are gone 24 hours after posting. The database writes `expires_at` and every
 * read compares it with the database's `now()`, so however far the clocks of the instances drift,
 * none serves a story past its expiry. Who sees a story: its author, and their followers and
 * friends, never across a block. A periodic job (`deleteExpired`) removes expired rows in batches,
 * `FOR UPDATE SKIP LOCKED`, so several instances may run it at once without waiting on each other
 * or deleting a row twice.
 */

export type StoryRecord = typeof stories.$inferSelect;

export interface StoryView {
  story: StoryRecord;
  seen: boolean;
  media: WireMedia | null;
}

const gone = () => new ApiError('NOT_FOUND', 'No story with this id');
export const live = sql`${stories.expiresAt} > now()`;

/** True when the viewer may see the story in `stories` (live or not: combine with `live`). */
export function storyVisibleTo(viewerId: string): SQL {
  return sql`(${stories.authorId} = ${viewerId} OR (${stories.hiddenAt} IS NULL AND NOT ${blockedEitherWay(viewerId, stories.authorId)} AND (
    EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ${viewerId} AND f.followee_id = ${stories.authorId})
    OR EXISTS (SELECT 1 FROM friendships fr WHERE fr.user_id = ${viewerId} AND fr.friend_id = ${stories.authorId}))))`;
}

export function createStoryService(db: AppDb, media: MediaService) {
  async function seenBy(viewerId: string, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await db
      .select({ id: storyViews.storyId })
      .from(storyViews)
      .where(and(eq(storyViews.viewerId, viewerId), inArray(storyViews.storyId, ids)));
    return new Set(rows.map((row) => row.id));
  }

  /** The stories' media (a story shows at most one). */
  async function withMedia(views: Omit<StoryView, 'media'>[]): Promise<StoryView[]> {
    const ids = views.flatMap((view) => (view.story.mediaId ? [view.story.mediaId] : []));
    const found = new Map((await media.byIds(ids)).map((item) => [item.id, item]));
    return views.map((view) => ({ ...view, media: view.story.mediaId ? (found.get(view.story.mediaId) ?? null) : null }));
  }

  async function visible(viewerId: string, storyId: string): Promise<StoryRecord> {
    const [story] = await db
      .select()
      .from(stories)
      .where(and(eq(stories.id, storyId), live, storyVisibleTo(viewerId)));
    if (!story) throw gone();
    return story;
  }

  return {
    async create(authorId: string, input: { caption: string; mediaId?: string }): Promise<StoryView> {
      const story = await db.transaction(async (tx) => {
        if (input.mediaId) await media.requireOwn(tx, authorId, [input.mediaId], 'mediaId');
        const [inserted] = await tx.insert(stories).values({ authorId, caption: input.caption, mediaId: input.mediaId }).returning();
        return inserted!;
      });
      return (await withMedia([{ story, seen: false }]))[0]!;
    },

    async get(viewerId: string, storyId: string): Promise<StoryView> {
      const story = await visible(viewerId, storyId);
      return (await withMedia([{ story, seen: (await seenBy(viewerId, [story.id])).has(story.id) }]))[0]!;
    },

    async markSeen(viewerId: string, storyId: string): Promise<void> {
      const story = await visible(viewerId, storyId);
      // The author's own looks are not views.
      if (story.authorId !== viewerId) await db.insert(storyViews).values({ storyId, viewerId }).onConflictDoNothing();
    },

    async remove(userId: string, storyId: string): Promise<void> {
      const story = await visible(userId, storyId);
      if (story.authorId !== userId) throw new ApiError('FORBIDDEN', 'Only its author may delete a story');
      await db.delete(stories).where(eq(stories.id, storyId));
    },

    /** Who saw it, latest first; the author only. */
    async viewers(userId: string, storyId: string, page: Page) {
      const story = await visible(userId, storyId);
      if (story.authorId !== userId) throw new ApiError('FORBIDDEN', 'Only its author sees who saw a story');
      const rows = await db
        .select({ user: users, seenAt: storyViews.seenAt })
        .from(storyViews)
        .innerJoin(users, eq(users.id, storyViews.viewerId))
        .where(
          and(
            eq(storyViews.storyId, storyId),
            sql`NOT ${blockedEitherWay(userId, storyViews.viewerId)}`,
            page.after ? before(storyViews.seenAt, storyViews.viewerId, page.after) : undefined,
          ),
        )
        .orderBy(desc(storyViews.seenAt), desc(storyViews.viewerId))
        .limit(page.limit + 1);
      const { items, next } = toPage(
        rows.map((row) => ({ createdAt: row.seenAt, id: row.user.id, row })),
        page.limit,
      );
      return { items: items.map((item) => item.row), next };
    },

    /**
     * One reel per author I follow or am friends with who has live stories, the latest poster first
     * (keyset on their newest story's time and their id); the stories of each, oldest first.
     */
    async reels(viewerId: string, page: Page): Promise<{ items: { author: UserRecord; stories: StoryView[] }[]; next: PageKey | null }> {
      const { rows } = await db.execute<{ author_id: string; latest: string }>(sql`
        SELECT s.author_id, max(s.created_at) AS latest FROM stories s
        WHERE s.expires_at > now() AND s.hidden_at IS NULL AND s.author_id <> ${viewerId}
          AND s.author_id IN (SELECT followee_id FROM follows WHERE follower_id = ${viewerId}
            UNION SELECT friend_id FROM friendships WHERE user_id = ${viewerId})
          AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = ${viewerId} AND b.blocked_id = s.author_id)
            OR (b.blocker_id = s.author_id AND b.blocked_id = ${viewerId}))
        GROUP BY s.author_id
        ${page.after ? sql`HAVING (max(s.created_at), s.author_id) < (${page.after.createdAt.toISOString()}::timestamptz, ${page.after.id}::uuid)` : sql``}
        ORDER BY latest DESC, s.author_id DESC
        LIMIT ${page.limit + 1}`);
      const { items, next } = toPage(
        rows.map((row) => ({ createdAt: new Date(row.latest), id: row.author_id })),
        page.limit,
      );
      const authorIds = items.map((item) => item.id);
      if (authorIds.length === 0) return { items: [], next: null };
      const [authors, live_] = await Promise.all([
        db.select().from(users).where(inArray(users.id, authorIds)),
        db
          .select()
          .from(stories)
          .where(and(inArray(stories.authorId, authorIds), live, isNull(stories.hiddenAt)))
          .orderBy(asc(stories.createdAt), asc(stories.id)),
      ]);
      const seen = await seenBy(
        viewerId,
        live_.map((story) => story.id),
      );
      const views = await withMedia(live_.map((story) => ({ story, seen: seen.has(story.id) })));
      const byId = new Map(authors.map((author) => [author.id, author]));
      return {
        items: authorIds.map((id) => ({ author: byId.get(id)!, stories: views.filter((view) => view.story.authorId === id) })),
        next,
      };
    },

    /** Deletes up to `batch` expired stories; answers how many. Safe to run on several instances at once. */
    async deleteExpired(batch = 1000): Promise<number> {
      const { rows } = await db.execute<{ id: string }>(sql`
        DELETE FROM stories WHERE id IN (
          SELECT id FROM stories WHERE expires_at <= now() ORDER BY expires_at LIMIT ${batch} FOR UPDATE SKIP LOCKED)
        RETURNING id`);
      return rows.length;
    },
  };
}

export type StoryService = ReturnType<typeof createStoryService>;
