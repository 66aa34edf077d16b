import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { ApiError } from '../../runtime/server';
import type { AppDb } from '../db/database';
import { sqlState } from '../db/errors';
import { after, before, toPage, type PageKey } from '../db/keyset';
import { appeals, moderationActions, users } from '../db/schema';
import { audit } from './admin';
import { isContent, isHidden, setHidden } from './hidden';

/**
 * Appeals: the user a decision is about appeals it once (hidden content while it is hidden, a
 * suspension while it lasts); a moderator other than the one who decided upholds or overturns it.
 * Overturned, the content is shown again or the suspension ends at once.
 */

export type AppealRecord = typeof appeals.$inferSelect;
export type ActionRecord = typeof moderationActions.$inferSelect;

interface Page {
  limit: number;
  after: PageKey | null;
}

type Tx = Parameters<Parameters<AppDb['transaction']>[0]>[0];

const noDecision = () => new ApiError('NOT_FOUND', 'No decision about you has this id');

/** Whether the decision is still in force: the content hidden, the suspension on (this one, not a later one). */
async function inForce(executor: AppDb | Tx, action: ActionRecord): Promise<boolean> {
  if (action.action === 'hide' && isContent(action.targetType)) return isHidden(executor, action.targetType, action.targetId);
  if (action.action !== 'suspend' || !action.subjectId || !action.until) return false;
  const [subject] = await executor.select({ until: users.suspendedUntil }).from(users).where(eq(users.id, action.subjectId));
  return subject?.until?.getTime() === action.until.getTime() && action.until.getTime() > Date.now();
}

export function createAppealService(db: AppDb) {
  async function file(appellantId: string, action: ActionRecord, statement: string): Promise<AppealRecord> {
    if (!(await inForce(db, action)))
      throw new ApiError('NOT_APPEALABLE', 'Only hidden content still hidden, or a suspension still on, is appealed');
    try {
      const [appeal] = await db.insert(appeals).values({ actionId: action.id, appellantId, statement }).returning();
      return appeal!;
    } catch (error) {
      if (sqlState(error) === '23505') throw new ApiError('ALREADY_APPEALED', 'This decision was appealed already');
      throw error;
    }
  }

  return {
    /** Decisions about the user (not dismissals), latest first, each with its appeal and whether it may be appealed now. */
    async aboutMe(userId: string, page: Page) {
      const rows = await db
        .select({ action: moderationActions, appeal: appeals })
        .from(moderationActions)
        .leftJoin(appeals, eq(appeals.actionId, moderationActions.id))
        .where(
          and(
            eq(moderationActions.subjectId, userId),
            sql`${moderationActions.action} <> 'dismiss'`,
            page.after ? before(moderationActions.createdAt, moderationActions.id, page.after) : undefined,
          ),
        )
        .orderBy(desc(moderationActions.createdAt), desc(moderationActions.id))
        .limit(page.limit + 1);
      const { items, next } = toPage(
        rows.map((row) => ({ createdAt: row.action.createdAt, id: row.action.id, row })),
        page.limit,
      );
      const decisions = await Promise.all(
        items.map(async ({ row }) => ({ ...row, appealable: row.appeal === null && (await inForce(db, row.action)) })),
      );
      return { items: decisions, next };
    },

    /** An appeal of a decision about the appellant's content or account. */
    async appeal(appellantId: string, actionId: string, statement: string): Promise<AppealRecord> {
      const [action] = await db
        .select()
        .from(moderationActions)
        .where(and(eq(moderationActions.id, actionId), eq(moderationActions.subjectId, appellantId)));
      if (!action) throw noDecision();
      return file(appellantId, action, statement);
    },

    /** An appeal of the suspension in force (the caller checked the credentials: a suspended user cannot sign in). */
    async appealSuspension(userId: string, statement: string): Promise<AppealRecord> {
      const [action] = await db
        .select()
        .from(moderationActions)
        .where(and(eq(moderationActions.subjectId, userId), eq(moderationActions.action, 'suspend')))
        .orderBy(desc(moderationActions.createdAt))
        .limit(1);
      if (!action) throw new ApiError('NOT_APPEALABLE', 'There is no suspension to appeal');
      return file(userId, action, statement);
    },

    /** Open appeals, oldest first, with the decisions appealed. */
    async open(page: Page) {
      const rows = await db
        .select({ appeal: appeals, action: moderationActions })
        .from(appeals)
        .innerJoin(moderationActions, eq(moderationActions.id, appeals.actionId))
        .where(and(eq(appeals.status, 'open'), page.after ? after(appeals.createdAt, appeals.id, page.after) : undefined))
        .orderBy(asc(appeals.createdAt), asc(appeals.id))
        .limit(page.limit + 1);
      const { items, next } = toPage(
        rows.map((row) => ({ createdAt: row.appeal.createdAt, id: row.appeal.id, row })),
        page.limit,
      );
      return { items: items.map((item) => item.row), next };
    },

    /** Upholds or overturns, once, by a moderator who neither decided nor appealed. */
    async decide(moderatorId: string, appealId: string, outcome: 'upheld' | 'overturned', reason: string): Promise<AppealRecord> {
      return db.transaction(async (tx) => {
        const [found] = await tx
          .select({ appeal: appeals, action: moderationActions })
          .from(appeals)
          .innerJoin(moderationActions, eq(moderationActions.id, appeals.actionId))
          .where(eq(appeals.id, appealId))
          .for('update', { of: appeals });
        if (!found) throw new ApiError('NOT_FOUND', 'No appeal with this id');
        const { appeal, action } = found;
        if (appeal.status !== 'open') throw new ApiError('ALREADY_DECIDED', 'This appeal was answered already');
        if (action.moderatorId === moderatorId || appeal.appellantId === moderatorId)
          throw new ApiError('CONFLICT_OF_INTEREST', 'A moderator other than the one who decided answers the appeal');
        if (outcome === 'overturned') {
          if (action.action === 'hide' && isContent(action.targetType)) await setHidden(tx, action.targetType, action.targetId, false);
          if (action.action === 'suspend' && action.subjectId && action.until)
            await tx
              .update(users)
              .set({ suspendedUntil: null })
              .where(and(eq(users.id, action.subjectId), eq(users.suspendedUntil, action.until)));
        }
        const [decided] = await tx
          .update(appeals)
          .set({ status: outcome, decidedBy: moderatorId, decision: reason, decidedAt: sql`now()` })
          .where(eq(appeals.id, appealId))
          .returning();
        await audit(tx, {
          actorId: moderatorId,
          kind: 'appeal_decision',
          targetType: action.targetType,
          targetId: action.targetId,
          details: { appealId, actionId: action.id, action: action.action, outcome, reason },
        });
        return decided!;
      });
    },
  };
}

export type AppealService = ReturnType<typeof createAppealService>;
