import { and, desc, eq, sql } from 'drizzle-orm';
import { ApiError, fieldError } from '../../runtime/server';
import type { AppDb } from '../db/database';
import { sqlState } from '../db/errors';
import { before, toPage, type Page } from '../db/keyset';
import {
  comments,
  conversationMembers,
  conversations,
  groupMembers,
  messages,
  posts,
  reports,
  reportTargets,
  type ReportTargetType,
} from '../db/schema';
import type { GroupService } from './groups';
import type { MemoryService } from './memories';
import { shownTo } from './hidden';
import { parentShownTo, postVisibleTo, type PostService } from './posts';
import { blockedEitherWay, visibleUser } from './social';
import type { StoryService } from './stories';

/**
 * Reports to the moderators. A user reports what they may see (anything else is a 404, as for
 * what does not exist) and not their own; the content is kept as it was when first reported, so an
 * edit cannot hide it from the moderators. One open report per reporter and target (a unique
 * index settles two at once).
 */

export type ReportRecord = typeof reports.$inferSelect;

interface Target {
  /** Whose it is: the author, the owner, the user reported. */
  authorId: string | null;
  snapshot: Record<string, unknown>;
}

const notFound = () => new ApiError('NOT_FOUND', 'Nothing the caller may see has this id');

export function createReportService(
  db: AppDb,
  domains: { posts: PostService; stories: StoryService; memories: MemoryService; groups: GroupService },
) {
  /** The target as the reporter sees it; 404 when they may not. */
  async function target(viewerId: string, type: ReportTargetType, id: string): Promise<Target> {
    switch (type) {
      case 'post': {
        const { post, media } = await domains.posts.get(viewerId, id);
        return {
          authorId: post.authorId,
          snapshot: { body: post.body, visibility: post.visibility, groupId: post.groupId, mediaIds: media.map((m) => m.id) },
        };
      }
      case 'comment': {
        const [comment] = await db
          .select({ authorId: comments.authorId, body: comments.body, postId: comments.postId, parentId: comments.parentId })
          .from(comments)
          .innerJoin(posts, eq(posts.id, comments.postId))
          .where(
            and(
              eq(comments.id, id),
              postVisibleTo(viewerId),
              sql`NOT ${blockedEitherWay(viewerId, comments.authorId)}`,
              shownTo(viewerId, comments.hiddenAt, comments.authorId),
              parentShownTo(viewerId),
            ),
          );
        if (!comment) throw notFound();
        const { authorId, ...snapshot } = comment;
        return { authorId, snapshot };
      }
      case 'story': {
        const { story } = await domains.stories.get(viewerId, id);
        return { authorId: story.authorId, snapshot: { caption: story.caption, mediaId: story.mediaId } };
      }
      case 'memory': {
        const { memory, media } = await domains.memories.get(viewerId, id);
        return { authorId: memory.ownerId, snapshot: { title: memory.title, body: memory.body, mediaIds: media.map((m) => m.id) } };
      }
      case 'message': {
        const [message] = await db
          .select({ authorId: messages.senderId, body: messages.body, conversationId: messages.conversationId })
          .from(messages)
          .innerJoin(
            conversationMembers,
            and(eq(conversationMembers.conversationId, messages.conversationId), eq(conversationMembers.userId, viewerId)),
          )
          .innerJoin(conversations, eq(conversations.id, messages.conversationId))
          // In a group conversation, what someone across a block wrote is hidden (as messaging hides it).
          .where(
            and(
              eq(messages.id, id),
              sql`NOT (${conversations.kind} = 'group' AND ${blockedEitherWay(viewerId, messages.senderId)})`,
              shownTo(viewerId, messages.hiddenAt, messages.senderId),
            ),
          );
        if (!message) throw notFound();
        const { authorId, ...snapshot } = message;
        return { authorId, snapshot };
      }
      case 'group': {
        const { group } = await domains.groups.get(viewerId, id);
        const [owner] = await db
          .select({ id: groupMembers.userId })
          .from(groupMembers)
          .where(and(eq(groupMembers.groupId, id), eq(groupMembers.role, 'owner')));
        return { authorId: owner?.id ?? null, snapshot: { name: group.name, description: group.description } };
      }
      case 'user': {
        const user = await visibleUser(db, viewerId, id);
        if (!user) throw notFound();
        return { authorId: user.id, snapshot: { username: user.username, displayName: user.displayName, bio: user.bio } };
      }
    }
  }

  return {
    async create(
      reporterId: string,
      input: { targetType: ReportTargetType; targetId: string; reason: ReportRecord['reason']; details?: string },
    ): Promise<ReportRecord> {
      const found = await target(reporterId, input.targetType, input.targetId);
      if (found.authorId === reporterId) throw fieldError('/body/targetId', 'own_content', 'You cannot report yourself or what is yours');
      try {
        return await db.transaction(async (tx) => {
          // The first report of a round keeps the content as it is now; the others of the round leave
          // it as it was. A round ends when the moderators decide: the next report starts another.
          await tx
            .insert(reportTargets)
            .values({ targetType: input.targetType, targetId: input.targetId, authorId: found.authorId, snapshot: found.snapshot })
            .onConflictDoUpdate({
              target: [reportTargets.targetType, reportTargets.targetId],
              set: { authorId: found.authorId, snapshot: found.snapshot, firstReportedAt: sql`now()`, claimedBy: null, claimedAt: null },
              setWhere: sql`NOT EXISTS (SELECT 1 FROM reports r WHERE r.target_type = ${input.targetType}
                AND r.target_id = ${input.targetId} AND r.status = 'open')`,
            });
          const [report] = await tx
            .insert(reports)
            .values({ reporterId, targetType: input.targetType, targetId: input.targetId, reason: input.reason, details: input.details })
            .returning();
          return report!;
        });
      } catch (error) {
        if (sqlState(error) === '23505') throw new ApiError('ALREADY_REPORTED', 'Your report of this is still open');
        throw error;
      }
    },

    async get(reporterId: string, reportId: string): Promise<ReportRecord> {
      const [report] = await db
        .select()
        .from(reports)
        .where(and(eq(reports.id, reportId), eq(reports.reporterId, reporterId)));
      if (!report) throw new ApiError('NOT_FOUND', 'No report of yours has this id');
      return report;
    },

    async mine(reporterId: string, status: 'open' | 'resolved' | undefined, page: Page) {
      const rows = await db
        .select()
        .from(reports)
        .where(
          and(
            eq(reports.reporterId, reporterId),
            status ? eq(reports.status, status) : undefined,
            page.after ? before(reports.createdAt, reports.id, page.after) : undefined,
          ),
        )
        .orderBy(desc(reports.createdAt), desc(reports.id))
        .limit(page.limit + 1);
      return toPage(rows, page.limit);
    },
  };
}

export type ReportService = ReturnType<typeof createReportService>;
