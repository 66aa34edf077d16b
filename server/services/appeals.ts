import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import { ApiError } from '../../runtime/server';
import type { AppDb, Tx } from '../db/database';
import { sqlState } from '../db/errors';
import { after, before, toPage, type Page } from '../db/keyset';
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

const noDecision = () => new ApiError('NOT_FOUND', 'No decision about you has this id');

/**
 * Whether a decision (not overturned) is still in force: the content hidden, the suspension not
 * over. An account's suspension ends at the latest end of its suspensions in force.
 */
async function inForce(executor: AppDb | Tx, action: ActionRecord): Promise<boolean> {
  if (action.action === 'hide' && isContent(action.targetType)) return isHidden(executor, action.targetType, action.targetId);
  if (action.action !== 'suspend' || !action.subjectId || !action.until || action.until.getTime() <= Date.now()) return false;
  return suspended(executor, action.subjectId);
}

/** Whether the account's suspension is on (and it is not banned: a ban is not appealed). */
async function suspended(executor: AppDb | Tx, userId: string): Promise<boolean> {
  const [account] = await executor
    .select({ until: users.suspendedUntil, bannedAt: users.bannedAt })
    .from(users)
    .where(eq(users.id, userId));
  return !!account && !account.bannedAt && !!account.until && account.until.getTime() > Date.now();
}

/** The account's suspension, again from its suspensions in force that were not overturned. */
async function resetSuspension(tx: Tx, userId: string): Promise<void> {
  await tx.execute(sql`UPDATE users u SET suspended_until = (
    SELECT max(a.until) FROM moderation_actions a
    WHERE a.subject_id = u.id AND a.action = 'suspend' AND a.until > now()
      AND NOT EXISTS (SELECT 1 FROM appeals p WHERE p.action_id = a.id AND p.status = 'overturned'))
    WHERE u.id = ${userId}`);
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

    /**
     * An appeal of a suspension in force, the one ending last not yet appealed (the caller checked
     * the credentials: a suspended user cannot sign in). A banned account appeals nothing.
     */
    async appealSuspension(userId: string, statement: string): Promise<AppealRecord> {
      if (!(await suspended(db, userId)))
        throw new ApiError('NOT_APPEALABLE', 'There is no suspension in force to appeal (a ban is not appealed)');
      const suspensions = await db
        .select({ action: moderationActions, appealId: appeals.id })
        .from(moderationActions)
        .leftJoin(appeals, eq(appeals.actionId, moderationActions.id))
        .where(
          and(eq(moderationActions.subjectId, userId), eq(moderationActions.action, 'suspend'), gt(moderationActions.until, sql`now()`)),
        )
        .orderBy(desc(moderationActions.until));
      if (suspensions.length === 0) throw new ApiError('NOT_APPEALABLE', 'There is no suspension in force to appeal');
      const open = suspensions.find((row) => row.appealId === null);
      if (!open) throw new ApiError('ALREADY_APPEALED', 'Your suspension was appealed already');
      return file(userId, open.action, statement);
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
        const [decided] = await tx
          .update(appeals)
          .set({ status: outcome, decidedBy: moderatorId, decision: reason, decidedAt: sql`now()` })
          .where(eq(appeals.id, appealId))
          .returning();
        if (outcome === 'overturned') {
          if (action.action === 'hide' && isContent(action.targetType)) await setHidden(tx, action.targetType, action.targetId, false);
          if (action.action === 'suspend' && action.subjectId) await resetSuspension(tx, action.subjectId);
        }
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
