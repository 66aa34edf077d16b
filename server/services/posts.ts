import { and, asc, desc, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { ApiError, fieldError } from '../../runtime/server';
import type { AppDb, Tx } from '../db/database';
import { after, before, toPage, type PageKey, type Page } from '../db/keyset';
import {
  commentReactions,
  comments,
  events,
  groupMembers,
  postReactions,
  postMedia,
  posts,
  users,
  type PostVisibility,
  type ReactionKind,
} from '../db/schema';
import { eventVisibleTo } from './groups';
import type { MediaService, WireMedia } from './media';
import { type NotificationService, type NotifyInput, withNotifications } from './notifications';
import { parsePostText } from './post-text';
import type { RealtimePort } from './realtime-port';
import { groupShown, shownTo } from './hidden';
import { blockedEitherWay, blockPartners } from './social';
import { toUser } from './user-views';
import type { UserRecord } from './users';

/**
 * Posts, comments and reactions, and the one visibility rule (`postVisibleTo`) every read goes
 * through: a post is seen by nobody across a block with its author; `public` by anyone, `friends`
 * by the author and their accepted friends, `group` by the members of its group. What a caller may
 * not see is NOT_FOUND, as if it did not exist; lists and the feed leave it out.
 *
 * Counts (comments, replies, reactions by kind) are kept on the rows by triggers (0010_posts.sql)
 * and count everyone. Notifications: mentions (to mentioned users who may see the post), comments
 * (to the post's author), replies (to the comment's author), reactions (to the author), collapsed
 * per post. Live: `post:comment` and `post:reactions` to the `post:{id}` room, a new comment never
 * to anyone across a block with its author.
 */

export type PostRecord = typeof posts.$inferSelect;
export type CommentRecord = typeof comments.$inferSelect;

export interface PostView {
  post: PostRecord;
  author: UserRecord;
  mentions: { userId: string; username: string }[];
  myReaction: ReactionKind | null;
  media: WireMedia[];
}

export interface CommentView {
  comment: CommentRecord;
  author: UserRecord;
  myReaction: ReactionKind | null;
}

export type ReactionCounts = Record<ReactionKind, number>;

const notFound = () => new ApiError('NOT_FOUND', 'No post with this id');
const noComment = () => new ApiError('NOT_FOUND', 'No comment with this id');

/** True when a comment's parent (if it is a reply) is not hidden from the viewer: replies go with a hidden comment. */
export function parentShownTo(viewerId: string | null): SQL {
  return sql`(${comments.parentId} IS NULL OR EXISTS (SELECT 1 FROM comments pc WHERE pc.id = ${comments.parentId}
    AND ${shownTo(viewerId, sql`pc.hidden_at`, sql`pc.author_id`)}))`;
}

/** True when the viewer (null: signed out) may see the post in `posts`. */
export function postVisibleTo(viewerId: string | null): SQL {
  if (viewerId === null) return sql`(${posts.visibility} = 'public' AND ${shownTo(null, posts.hiddenAt, posts.authorId)})`;
  return sql`(NOT ${blockedEitherWay(viewerId, posts.authorId)} AND ${shownTo(viewerId, posts.hiddenAt, posts.authorId)} AND (
    ${posts.visibility} = 'public'
    OR ${posts.authorId} = ${viewerId}
    OR (${posts.visibility} = 'friends' AND EXISTS (SELECT 1 FROM friendships f WHERE f.user_id = ${viewerId} AND f.friend_id = ${posts.authorId}))
    OR (${posts.visibility} = 'group' AND EXISTS (SELECT 1 FROM ${groupMembers} WHERE ${groupMembers.groupId} = ${posts.groupId} AND ${groupMembers.userId} = ${viewerId})
      AND ${groupShown(viewerId, posts.groupId)})))`;
}

export function countsOf(row: {
  likeCount: number;
  loveCount: number;
  tangoCount: number;
  laughCount: number;
  sadCount: number;
}): ReactionCounts {
  return { like: row.likeCount, love: row.loveCount, tango: row.tangoCount, laugh: row.laughCount, sad: row.sadCount };
}

export function createPostService(db: AppDb, media: MediaService, notifications?: NotificationService, realtime?: RealtimePort) {
  /** Posts with their authors and the viewer's reactions, in the order of `ids`. */
  async function views(executor: AppDb | Tx, viewerId: string | null, ids: string[]): Promise<PostView[]> {
    if (ids.length === 0) return [];
    const myReaction =
      viewerId === null
        ? sql<ReactionKind | null>`NULL`
        : sql<ReactionKind | null>`(SELECT r.kind FROM post_reactions r WHERE r.post_id = "posts"."id" AND r.user_id = ${viewerId})`;
    const rows = await executor
      .select({ post: posts, author: users, myReaction })
      .from(posts)
      .innerJoin(users, eq(users.id, posts.authorId))
      .where(inArray(posts.id, ids));
    const mentioned = [...new Set(rows.flatMap((row) => row.post.mentionIds))];
    const names = new Map(
      mentioned.length === 0
        ? []
        : (
            await executor
              .select({ id: users.id, username: users.username })
              .from(users)
              .where(and(inArray(users.id, mentioned), viewerId === null ? undefined : sql`NOT ${blockedEitherWay(viewerId, users.id)}`))
          ).map((user) => [user.id, user.username]),
    );
    const [hidden, shown] = await Promise.all([hiddenCounts(executor, viewerId, 'posts', ids), media.of('posts', ids, executor)]);
    const byId = new Map(rows.map((row) => [row.post.id, row]));
    return ids.flatMap((id) => {
      const row = byId.get(id);
      if (!row) return [];
      const mentions = row.post.mentionIds.flatMap((userId) => (names.has(userId) ? [{ userId, username: names.get(userId)! }] : []));
      const post = withoutHidden(row.post, hidden.get(id), 'commentCount');
      return [{ post, author: row.author, mentions, myReaction: row.myReaction, media: shown.get(id) ?? [] }];
    });
  }

  /**
   * What the viewer does not see in the counts of these posts (or comments): the reactions by kind
   * and the comments (or replies) of the people across a block, and the comments a moderator hid
   * (but from their author). Subtracted, the counts agree with the lists the viewer sees.
   */
  async function hiddenCounts(executor: AppDb | Tx, viewerId: string | null, of: 'posts' | 'comments', ids: string[]) {
    const hidden = new Map<string, { reactions: Partial<ReactionCounts>; children: number }>();
    if (ids.length === 0) return hidden;
    const partners = viewerId === null ? undefined : blockPartners(viewerId);
    // Comments (or replies) not shown: across a block, or hidden by a moderator from all but their
    // author, with the replies under them.
    const hiddenFrom = (table: string) =>
      viewerId === null
        ? sql.raw(`${table}.hidden_at IS NOT NULL`)
        : sql`(${sql.raw(`${table}.hidden_at`)} IS NOT NULL AND ${sql.raw(`${table}.author_id`)} <> ${viewerId})`;
    const unseenChild = sql`(${partners ? sql`c.author_id IN ${partners} OR ` : sql``}${hiddenFrom('c')}
      OR EXISTS (SELECT 1 FROM comments pc WHERE pc.id = c.parent_id AND ${hiddenFrom('pc')}))`;
    const list = sql.join(
      ids.map((id) => sql`${id}::uuid`),
      sql`, `,
    );
    const [reactionTable, reactionKey, childKey] =
      of === 'posts' ? [sql`post_reactions`, sql`post_id`, sql`post_id`] : [sql`comment_reactions`, sql`comment_id`, sql`parent_id`];
    const { rows } = await executor.execute<{ id: string; kind: ReactionKind | null; n: number }>(sql`
      SELECT ${reactionKey} AS id, kind, count(*)::int AS n FROM ${reactionTable}
        WHERE ${reactionKey} IN (${list}) AND ${partners ? sql`user_id IN ${partners}` : sql`false`} GROUP BY 1, 2
      UNION ALL
      SELECT c.${childKey} AS id, NULL AS kind, count(*)::int AS n FROM comments c
        WHERE c.${childKey} IN (${list}) AND ${unseenChild} GROUP BY 1`);
    for (const row of rows) {
      const entry = hidden.get(row.id) ?? { reactions: {}, children: 0 };
      if (row.kind === null) entry.children += Number(row.n);
      else entry.reactions[row.kind] = Number(row.n);
      hidden.set(row.id, entry);
    }
    return hidden;
  }

  /** A row with the hidden counts taken off. */
  function withoutHidden<
    T extends { id: string; likeCount: number; loveCount: number; tangoCount: number; laughCount: number; sadCount: number },
  >(row: T, hidden: { reactions: Partial<ReactionCounts>; children: number } | undefined, children: 'commentCount' | 'replyCount'): T {
    if (!hidden) return row;
    const r = hidden.reactions;
    return {
      ...row,
      likeCount: row.likeCount - (r.like ?? 0),
      loveCount: row.loveCount - (r.love ?? 0),
      tangoCount: row.tangoCount - (r.tango ?? 0),
      laughCount: row.laughCount - (r.laugh ?? 0),
      sadCount: row.sadCount - (r.sad ?? 0),
      [children]: (row as unknown as Record<string, number>)[children]! - hidden.children,
    };
  }

  /** The post if the viewer may see it, else NOT_FOUND. */
  async function visiblePost(executor: AppDb | Tx, viewerId: string | null, postId: string): Promise<PostRecord> {
    const [post] = await executor
      .select()
      .from(posts)
      .where(and(eq(posts.id, postId), postVisibleTo(viewerId)));
    if (!post) throw notFound();
    return post;
  }

  /**
   * The post, if the viewer may see it and it is not hidden, else NOT_FOUND: a hidden post is
   * frozen (no comment or reaction, its author's neither) until an appeal overturns it.
   */
  async function openPost(executor: AppDb | Tx, viewerId: string, postId: string): Promise<PostRecord> {
    const post = await visiblePost(executor, viewerId, postId);
    if (post.hiddenAt !== null) throw notFound();
    return post;
  }

  /** The comment and its post, if the viewer may see the post, else NOT_FOUND. */
  async function visibleComment(executor: AppDb | Tx, viewerId: string, commentId: string) {
    const [row] = await executor
      .select({ comment: comments, post: posts })
      .from(comments)
      .innerJoin(posts, eq(posts.id, comments.postId))
      .where(
        and(
          eq(comments.id, commentId),
          postVisibleTo(viewerId),
          sql`NOT ${blockedEitherWay(viewerId, comments.authorId)}`,
          shownTo(viewerId, comments.hiddenAt, comments.authorId),
          parentShownTo(viewerId),
        ),
      );
    if (!row) throw noComment();
    return row;
  }

  /** Mentioned users (not across a block with the author), resolved from the text. */
  async function resolveMentions(executor: AppDb | Tx, authorId: string, text: string) {
    const { usernames, hashtags } = parsePostText(text);
    if (usernames.length === 0) return { mentionIds: [] as string[], hashtags };
    const found = await executor
      .select({ id: users.id, username: users.username })
      .from(users)
      .where(and(inArray(users.username, usernames), sql`NOT ${blockedEitherWay(authorId, users.id)}`));
    const ids = new Map(found.map((user) => [user.username, user.id]));
    return { mentionIds: usernames.flatMap((name) => (ids.has(name) ? [ids.get(name)!] : [])), hashtags };
  }

  /** Notifications for the mentioned users who may see the post. */
  async function mentionNotices(tx: Tx, post: PostRecord, userIds: readonly string[]): Promise<NotifyInput[]> {
    const notices: NotifyInput[] = [];
    for (const userId of userIds) {
      const [seen] = await tx
        .select({ id: posts.id })
        .from(posts)
        .where(and(eq(posts.id, post.id), postVisibleTo(userId)));
      if (seen) notices.push({ userId, actorId: post.authorId, kind: 'post_mention', target: { type: 'post', id: post.id } });
    }
    return notices;
  }

  async function commentViews(executor: AppDb | Tx, viewerId: string | null, where: SQL | undefined, order: 'asc', limit: number) {
    const myReaction =
      viewerId === null
        ? sql<ReactionKind | null>`NULL`
        : sql<ReactionKind | null>`(SELECT r.kind FROM comment_reactions r WHERE r.comment_id = "comments"."id" AND r.user_id = ${viewerId})`;
    const rows = await executor
      .select({ comment: comments, author: users, myReaction })
      .from(comments)
      .innerJoin(users, eq(users.id, comments.authorId))
      .where(where)
      .orderBy(order === 'asc' ? asc(comments.createdAt) : desc(comments.createdAt), asc(comments.id))
      .limit(limit);
    const hidden = await hiddenCounts(
      executor,
      viewerId,
      'comments',
      rows.map((row) => row.comment.id),
    );
    return rows.map((row) => ({ ...row, comment: withoutHidden(row.comment, hidden.get(row.comment.id), 'replyCount') }));
  }

  /** Who is across a block with the user: a comment of theirs is never pushed to them. */
  async function blockPartnerIds(userId: string): Promise<string[]> {
    const { rows } = await db.execute<{ other: string }>(sql`SELECT other FROM ${blockPartners(userId)} AS partners`);
    return rows.map((row) => row.other);
  }

  /** A post's reaction counts, everyone's: what the post's room hears. */
  /** Whether the user is a moderator or an admin now (the roles in their token may be older). */
  async function moderates(userId: string): Promise<boolean> {
    const [row] = await db
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.id, userId), sql`${users.roles} && ARRAY['moderator', 'admin']::text[]`));
    return row !== undefined;
  }

  async function attachMedia(tx: Tx, authorId: string, postId: string, ids: readonly string[]): Promise<void> {
    await media.requireOwn(tx, authorId, ids, 'mediaIds');
    if (ids.length > 0) await tx.insert(postMedia).values(ids.map((mediaId, position) => ({ postId, position, mediaId })));
  }

  async function reactionCounts(postId: string): Promise<ReactionCounts> {
    const [row] = await db
      .select({
        likeCount: posts.likeCount,
        loveCount: posts.loveCount,
        tangoCount: posts.tangoCount,
        laughCount: posts.laughCount,
        sadCount: posts.sadCount,
      })
      .from(posts)
      .where(eq(posts.id, postId));
    return countsOf(row!);
  }

  return {
    async create(
      authorId: string,
      input: { body: string; visibility: PostVisibility; groupId?: string; eventId?: string; city?: string; mediaIds?: string[] },
    ): Promise<PostView> {
      if (input.groupId !== undefined) {
        const [member] = await db
          .select({ role: groupMembers.role })
          .from(groupMembers)
          .where(and(eq(groupMembers.groupId, input.groupId), eq(groupMembers.userId, authorId)));
        // A hidden group takes no posts (not even its owner's): as unknown as one that does not exist.
        const [group] = await db
          .execute<{ id: string }>(sql`SELECT id FROM groups WHERE id = ${input.groupId} AND hidden_at IS NULL`)
          .then((r) => r.rows);
        if (!group) throw fieldError('/body/groupId', 'unknown_group', 'No group with this id');
        if (!member) throw new ApiError('FORBIDDEN', 'Only members post in a group');
      }
      if (input.eventId !== undefined) {
        const [event] = await db
          .select({ id: events.id })
          .from(events)
          .where(and(eq(events.id, input.eventId), eventVisibleTo(authorId)));
        if (!event) throw fieldError('/body/eventId', 'unknown_event', 'No event with this id');
      }
      const id = await withNotifications(db, notifications, async (tx, tell) => {
        const { mentionIds, hashtags } = await resolveMentions(tx, authorId, input.body);
        const [post] = await tx
          .insert(posts)
          .values({
            authorId,
            body: input.body,
            mentionIds,
            hashtags,
            visibility: input.visibility,
            groupId: input.groupId,
            eventId: input.eventId,
            city: input.city,
          })
          .returning();
        await attachMedia(tx, authorId, post!.id, input.mediaIds ?? []);
        await tell(await mentionNotices(tx, post!, mentionIds));
        return post!.id;
      });
      return (await views(db, authorId, [id]))[0]!;
    },

    async get(viewerId: string | null, postId: string): Promise<PostView> {
      await visiblePost(db, viewerId, postId);
      return (await views(db, viewerId, [postId]))[0]!;
    },

    /** `precondition` sees the post as its author reads it, under the write's lock, and may throw to stop the change. */
    async update(
      actorId: string,
      postId: string,
      patch: { body?: string; city?: string | null; mediaIds?: string[] },
      precondition?: (current: PostView) => void,
    ): Promise<PostView> {
      await withNotifications(db, notifications, async (tx, tell) => {
        const post = await visiblePost(tx, actorId, postId);
        if (post.authorId !== actorId) throw new ApiError('FORBIDDEN', 'Only its author may edit a post');
        if (precondition) {
          await tx.select({ id: posts.id }).from(posts).where(eq(posts.id, postId)).for('update');
          const seen = (await views(tx, actorId, [postId]))[0];
          // Deleted since it was read above.
          if (!seen) throw notFound();
          precondition(seen);
        }
        const text = patch.body === undefined ? undefined : await resolveMentions(tx, actorId, patch.body);
        const [updated] = await tx
          .update(posts)
          .set({ body: patch.body, city: patch.city, mentionIds: text?.mentionIds, hashtags: text?.hashtags, editedAt: sql`now()` })
          .where(eq(posts.id, postId))
          .returning();
        if (patch.mediaIds !== undefined) {
          await tx.delete(postMedia).where(eq(postMedia.postId, postId));
          await attachMedia(tx, actorId, postId, patch.mediaIds);
        }
        const added = (text?.mentionIds ?? []).filter((id) => !post.mentionIds.includes(id));
        await tell(await mentionNotices(tx, updated!, added));
      });
      const updated = (await views(db, actorId, [postId]))[0];
      if (!updated) throw notFound();
      return updated;
    },

    /** The author, the group's owner and admins, and moderators. */
    async remove(actor: { id: string }, postId: string): Promise<void> {
      const post = await visiblePost(db, actor.id, postId);
      let allowed = post.authorId === actor.id || (await moderates(actor.id));
      if (!allowed && post.groupId) {
        const [member] = await db
          .select({ role: groupMembers.role })
          .from(groupMembers)
          .where(and(eq(groupMembers.groupId, post.groupId), eq(groupMembers.userId, actor.id)));
        allowed = member?.role === 'owner' || member?.role === 'admin';
      }
      if (!allowed) throw new ApiError('FORBIDDEN', 'Only the author, the group’s admins and moderators may delete a post');
      await db.delete(posts).where(eq(posts.id, postId));
    },

    /** A user's posts the viewer may see, newest first: one range of posts_author_created_idx. */
    async timeline(viewerId: string | null, userId: string, page: Page): Promise<{ items: PostView[]; next: PageKey | null } | 'hidden'> {
      const [author] = await db
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.id, userId), viewerId === null ? undefined : sql`NOT ${blockedEitherWay(viewerId, users.id)}`));
      if (!author) return 'hidden';
      const rows = await db
        .select({ id: posts.id, createdAt: posts.createdAt })
        .from(posts)
        .where(
          and(eq(posts.authorId, userId), postVisibleTo(viewerId), page.after ? before(posts.createdAt, posts.id, page.after) : undefined),
        )
        .orderBy(desc(posts.createdAt), desc(posts.id))
        .limit(page.limit + 1);
      const { items, next } = toPage(rows, page.limit);
      return {
        items: await views(
          db,
          viewerId,
          items.map((item) => item.id),
        ),
        next,
      };
    },

    /**
     * The home feed, fan-out on read: for each source (whom I follow, my friends, me; my groups) the
     * newest posts past the cursor I may see, read from one index range per source, merged newest
     * first. Two passes: first each source's newest post (one probe each), whose page-th newest is a
     * floor no post of the page is older than (at least a page of posts reach it); then each source's
     * posts down to that floor only. A page reads about one row per source plus the page itself,
     * rather than a page per source.
     */
    async feed(userId: string, page: Page): Promise<{ items: PostView[]; next: PageKey | null }> {
      const limit = page.limit + 1;
      const cursor = page.after
        ? sql`AND (p.created_at, p.id) < (${page.after.createdAt.toISOString()}::timestamptz, ${page.after.id}::uuid)`
        : sql``;
      // What a source's posts must satisfy to be in my feed (past the cursor).
      const shown = sql`(p.hidden_at IS NULL OR p.author_id = ${userId})`;
      const ofPerson = sql`p.author_id = s.author AND p.group_id IS NULL AND ${shown}
        AND (p.visibility = 'public' OR (p.visibility = 'friends' AND s.friend)) ${cursor}`;
      const ofGroup = sql`p.group_id = g.group_id AND ${shown} ${cursor}
        AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = ${userId} AND b.blocked_id = p.author_id)
          OR (b.blocker_id = p.author_id AND b.blocked_id = ${userId}))`;
      const newestFirst = sql`ORDER BY p.created_at DESC, p.id DESC`;
      const { rows } = await db.execute<{ id: string; created_at: string }>(sql`
        WITH sources AS (
          SELECT f.followee_id AS author FROM follows f WHERE f.follower_id = ${userId}
          UNION SELECT fr.friend_id FROM friendships fr WHERE fr.user_id = ${userId}
          UNION SELECT ${userId}::uuid
        ), readable AS (
          SELECT s.author, (s.author = ${userId}::uuid OR EXISTS (
              SELECT 1 FROM friendships x WHERE x.user_id = ${userId} AND x.friend_id = s.author)) AS friend
          FROM sources s
          WHERE NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = ${userId} AND b.blocked_id = s.author)
            OR (b.blocker_id = s.author AND b.blocked_id = ${userId}))
        ), groups_of AS (
          SELECT gm.group_id FROM group_members gm WHERE gm.user_id = ${userId} AND ${groupShown(userId, sql`gm.group_id`)}
        ), heads AS (
          -- Each source's newest post (one index probe each).
          SELECT h.created_at FROM readable s CROSS JOIN LATERAL (SELECT p.created_at FROM posts p WHERE ${ofPerson} ${newestFirst} LIMIT 1) h
          UNION ALL
          SELECT h.created_at FROM groups_of g CROSS JOIN LATERAL (SELECT p.created_at FROM posts p WHERE ${ofGroup} ${newestFirst} LIMIT 1) h
        ), floor AS (
          -- With at least a page of sources, the page's newest posts are no older than the page-th newest head.
          SELECT coalesce((SELECT created_at FROM heads ORDER BY created_at DESC OFFSET ${limit - 1} LIMIT 1), '-infinity') AS at
        )
        SELECT id, created_at FROM (
          SELECT p.id, p.created_at FROM readable s CROSS JOIN LATERAL (
            SELECT p.id, p.created_at FROM posts p WHERE ${ofPerson} AND p.created_at >= (SELECT at FROM floor) ${newestFirst} LIMIT ${limit}
          ) p
          UNION ALL
          SELECT p.id, p.created_at FROM groups_of g CROSS JOIN LATERAL (
            SELECT p.id, p.created_at FROM posts p WHERE ${ofGroup} AND p.created_at >= (SELECT at FROM floor) ${newestFirst} LIMIT ${limit}
          ) p
        ) feed
        ORDER BY created_at DESC, id DESC LIMIT ${limit}`);
      const { items, next } = toPage(
        rows.map((row) => ({ id: row.id, createdAt: new Date(row.created_at) })),
        page.limit,
      );
      return {
        items: await views(
          db,
          userId,
          items.map((item) => item.id),
        ),
        next,
      };
    },

    /** Top-level comments, or one comment's replies, oldest first; comments across a block left out. */
    async comments(viewerId: string | null, postId: string, parentId: string | undefined, page: Page) {
      await visiblePost(db, viewerId, postId);
      const conditions: (SQL | undefined)[] = [
        eq(comments.postId, postId),
        parentId === undefined ? isNull(comments.parentId) : eq(comments.parentId, parentId),
        viewerId === null ? undefined : sql`NOT ${blockedEitherWay(viewerId, comments.authorId)}`,
        shownTo(viewerId, comments.hiddenAt, comments.authorId),
        // The replies of a comment a moderator hid go with it (but for its author).
        parentId === undefined
          ? undefined
          : sql`EXISTS (SELECT 1 FROM comments pc WHERE pc.id = ${parentId} AND ${shownTo(viewerId, sql`pc.hidden_at`, sql`pc.author_id`)})`,
        page.after ? after(comments.createdAt, comments.id, page.after) : undefined,
      ];
      const rows = await commentViews(db, viewerId, and(...conditions), 'asc', page.limit + 1);
      const { items, next } = toPage(
        rows.map((row) => ({ createdAt: row.comment.createdAt, id: row.comment.id, row })),
        page.limit,
      );
      return { items: items.map((item) => item.row as CommentView), next };
    },

    async comment(authorId: string, postId: string, input: { body: string; parentId?: string }): Promise<CommentView> {
      const { comment, post } = await withNotifications(db, notifications, async (tx, tell) => {
        const post = await openPost(tx, authorId, postId);
        let parent: CommentRecord | undefined;
        if (input.parentId !== undefined) {
          [parent] = await tx
            .select()
            .from(comments)
            .where(
              and(
                eq(comments.id, input.parentId),
                eq(comments.postId, postId),
                isNull(comments.parentId),
                sql`NOT ${blockedEitherWay(authorId, comments.authorId)}`,
                // A hidden comment takes no replies, its author's neither.
                isNull(comments.hiddenAt),
              ),
            );
          if (!parent) throw fieldError('/body/parentId', 'unknown_comment', 'No comment of this post to reply to with this id');
        }
        const [comment] = await tx.insert(comments).values({ postId, authorId, body: input.body, parentId: input.parentId }).returning();
        const target = { type: 'post', id: postId } as const;
        const notices: NotifyInput[] = [{ userId: post.authorId, actorId: authorId, kind: 'post_comment', target }];
        if (parent && parent.authorId !== post.authorId)
          notices.push({ userId: parent.authorId, actorId: authorId, kind: 'comment_reply', target });
        await tell(notices);
        return { comment: comment!, post };
      });
      const [view] = await commentViews(db, authorId, eq(comments.id, comment.id), 'asc', 1);
      realtime?.toRoom(`post:${post.id}`, 'post:comment', toWireComment({ ...view!, myReaction: null }), await blockPartnerIds(authorId));
      return view as CommentView;
    },

    async updateComment(actorId: string, commentId: string, body: string): Promise<CommentView> {
      const { comment } = await visibleComment(db, actorId, commentId);
      if (comment.authorId !== actorId) throw new ApiError('FORBIDDEN', 'Only its author may edit a comment');
      await db.update(comments).set({ body, editedAt: sql`now()` }).where(eq(comments.id, commentId));
      return (await commentViews(db, actorId, eq(comments.id, commentId), 'asc', 1))[0] as CommentView;
    },

    /** Its author, the post's author, and moderators. */
    async removeComment(actor: { id: string }, commentId: string): Promise<void> {
      const { comment, post } = await visibleComment(db, actor.id, commentId);
      const allowed = comment.authorId === actor.id || post.authorId === actor.id || (await moderates(actor.id));
      if (!allowed) throw new ApiError('FORBIDDEN', 'Only its author, the post’s author and moderators may delete a comment');
      await db.delete(comments).where(eq(comments.id, commentId));
    },

    /** Sets (or with null removes) the user's reaction to a post; answers the counts. */
    async reactToPost(userId: string, postId: string, kind: ReactionKind | null): Promise<ReactionCounts> {
      await withNotifications(db, notifications, async (tx, tell) => {
        const post = await openPost(tx, userId, postId);
        const mine = and(eq(postReactions.postId, postId), eq(postReactions.userId, userId));
        if (kind === null) {
          await tx.delete(postReactions).where(mine);
          return;
        }
        const [before] = await tx.select({ kind: postReactions.kind }).from(postReactions).where(mine);
        if (before?.kind === kind) return;
        await tx
          .insert(postReactions)
          .values({ postId, userId, kind })
          .onConflictDoUpdate({ target: [postReactions.postId, postReactions.userId], set: { kind, createdAt: sql`now()` } });
        if (!before) await tell({ userId: post.authorId, actorId: userId, kind: 'post_reaction', target: { type: 'post', id: postId } });
      });
      // The room hears the counts of everyone; the caller, as the post reads to them.
      realtime?.toRoom(`post:${postId}`, 'post:reactions', { postId, reactions: await reactionCounts(postId) });
      return countsOf((await views(db, userId, [postId]))[0]!.post);
    },

    async reactToComment(userId: string, commentId: string, kind: ReactionKind | null): Promise<ReactionCounts> {
      const { comment, post } = await visibleComment(db, userId, commentId);
      if (comment.hiddenAt !== null || post.hiddenAt !== null) throw noComment();
      const mine = and(eq(commentReactions.commentId, commentId), eq(commentReactions.userId, userId));
      if (kind === null) await db.delete(commentReactions).where(mine);
      else {
        await db
          .insert(commentReactions)
          .values({ commentId, userId, kind })
          .onConflictDoUpdate({
            target: [commentReactions.commentId, commentReactions.userId],
            set: { kind, createdAt: sql`now()` },
            setWhere: sql`${commentReactions.kind} <> ${kind}`,
          });
      }
      return countsOf((await commentViews(db, userId, eq(comments.id, commentId), 'asc', 1))[0]!.comment);
    },

    /** Who reacted, latest first; people across a block left out. */
    async reactions(viewerId: string | null, postId: string, kind: ReactionKind | undefined, page: Page) {
      await visiblePost(db, viewerId, postId);
      const conditions: (SQL | undefined)[] = [
        eq(postReactions.postId, postId),
        kind ? eq(postReactions.kind, kind) : undefined,
        viewerId === null ? undefined : sql`NOT ${blockedEitherWay(viewerId, postReactions.userId)}`,
        page.after ? before(postReactions.createdAt, postReactions.userId, page.after) : undefined,
      ];
      const rows = await db
        .select({ user: users, kind: postReactions.kind, reactedAt: postReactions.createdAt })
        .from(postReactions)
        .innerJoin(users, eq(users.id, postReactions.userId))
        .where(and(...conditions))
        .orderBy(desc(postReactions.createdAt), desc(postReactions.userId))
        .limit(page.limit + 1);
      const { items, next } = toPage(
        rows.map((row) => ({ createdAt: row.reactedAt, id: row.user.id, row })),
        page.limit,
      );
      return { items: items.map((item) => item.row), next };
    },

    /** Whether the user may see the post: the `post:{id}` room's rule. */
    async isVisible(postId: string, userId: string): Promise<boolean> {
      const [post] = await db
        .select({ id: posts.id })
        .from(posts)
        .where(and(eq(posts.id, postId), postVisibleTo(userId)));
      return post !== undefined;
    },
  };
}

/** A comment in its wire form (also what `post:comment` carries). */
export function toWireComment(view: CommentView) {
  const { comment } = view;
  return {
    id: comment.id,
    postId: comment.postId,
    parentId: comment.parentId,
    author: toUser(view.author),
    body: comment.body,
    reactions: countsOf(comment),
    myReaction: view.myReaction,
    replyCount: comment.replyCount,
    hidden: comment.hiddenAt !== null,
    createdAt: comment.createdAt.toISOString(),
    editedAt: comment.editedAt?.toISOString() ?? null,
  };
}

export type PostService = ReturnType<typeof createPostService>;
