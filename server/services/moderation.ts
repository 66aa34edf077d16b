import { and, eq, sql } from 'drizzle-orm';
import { ApiError, fieldError } from '../../runtime/server';
import type { Revocations } from '../auth/revocations';
import type { AppDb, Tx } from '../db/database';
import { toPage, type Page } from '../db/keyset';
import { audit } from './admin';
import {
  type ModerationActionKind,
  moderationActions,
  type reportOutcomes,
  reports,
  reportTargets,
  type ReportTargetType,
  users,
} from '../db/schema';
import { isContent, removeContent, setHidden } from './hidden';
import type { SessionStore } from './sessions';

/**
 * The moderators' side of reports: the queue (one entry per reported target with open reports,
 * oldest first), claims, and decisions. A decision resolves every open report of its target and is
 * recorded once (moderation_actions is never updated or deleted).
 */

export interface QueueEntry {
  targetType: ReportTargetType;
  targetId: string;
  authorId: string | null;
  snapshot: Record<string, unknown>;
  firstReportedAt: Date;
  openReports: number;
  reasons: Reason[];
  claimedBy: string | null;
  claimedAt: Date | null;
}

type Reason = (typeof reports.$inferSelect)['reason'];

export type ModerationActionRecord = typeof moderationActions.$inferSelect;

const nothingOpen = () => new ApiError('NOT_FOUND', 'No open report of this target');
const claimed = () => new ApiError('ALREADY_CLAIMED', 'Another moderator handles this target');
const open = (type: ReportTargetType, id: string) =>
  sql`EXISTS (SELECT 1 FROM reports r WHERE r.target_type = ${type} AND r.target_id = ${id} AND r.status = 'open')`;

/**
 * A claim counts while its moderator still is one: a claim of someone whose role was taken away
 * (or whose account is gone) is free for the taking.
 */
const claimHeld = sql`(${reportTargets.claimedBy} IS NOT NULL AND EXISTS (SELECT 1 FROM users u
  WHERE u.id = ${reportTargets.claimedBy} AND u.roles && ARRAY['moderator', 'admin']::text[]))`;

/**
 * Locks a target with open reports that the moderator may handle: 404 without open reports, 409
 * when another holds it or it is the moderator's own. Answers whose it is.
 */
async function lockOpen(tx: Tx, moderatorId: string, type: ReportTargetType, id: string): Promise<{ authorId: string | null }> {
  const [target] = await tx
    .select({
      claimedBy: reportTargets.claimedBy,
      authorId: reportTargets.authorId,
      held: sql<boolean>`${claimHeld}`,
      open: sql<boolean>`${open(type, id)}`,
    })
    .from(reportTargets)
    .where(and(eq(reportTargets.targetType, type), eq(reportTargets.targetId, id)))
    .for('update');
  if (!target?.open) throw nothingOpen();
  if (target.held && target.claimedBy !== moderatorId) throw claimed();
  if (target.authorId === moderatorId)
    throw new ApiError('CONFLICT_OF_INTEREST', 'This is about you or yours: another moderator decides it');
  return { authorId: target.authorId };
}

export interface Decision {
  action: ModerationActionKind;
  reason: string;
  suspensionDays?: number;
}

const outcomes = {
  dismiss: 'dismissed',
  hide: 'hidden',
  remove: 'removed',
  warn: 'warned',
  suspend: 'suspended',
  ban: 'banned',
} as const satisfies Record<ModerationActionKind, (typeof reportOutcomes)[number]>;

/** A decision that does not fit its target, as a field error. */
function checkDecision(type: ReportTargetType, decision: Decision): void {
  if (!isContent(type) && (decision.action === 'hide' || decision.action === 'remove'))
    throw fieldError('/body/action', 'not_applicable', 'A user is dismissed, warned, suspended or banned; content is hidden or removed');
  if ((decision.action === 'suspend') !== (decision.suspensionDays !== undefined))
    throw fieldError('/body/suspensionDays', 'suspend_only', 'suspensionDays goes with suspend, and suspend needs it');
}

/** Suspends or bans the subject; moderators and admins are not, while they hold the role. Answers the end of a suspension. */
async function sanction(tx: Tx, subjectId: string | null, decision: Decision): Promise<Date | null> {
  const [subject] = subjectId ? await tx.select({ roles: users.roles }).from(users).where(eq(users.id, subjectId)).for('update') : [];
  if (!subject) throw fieldError('/body/action', 'no_subject', 'The account is gone: there is nobody to suspend or ban');
  if (subject.roles.some((role) => role !== 'user')) throw new ApiError('STAFF_ACCOUNT', 'Take their moderator or admin role away first');
  if (decision.action === 'ban') {
    await tx.update(users).set({ bannedAt: sql`now()` }).where(eq(users.id, subjectId!));
    return null;
  }
  // The decision's own end; the account's is the latest of the suspensions in force (a shorter one
  // never cuts a longer one short). At the columns' precision (milliseconds), so that the end this
  // answers is the one sign-in and the record of the decision give (PostgreSQL's now() has microseconds).
  const end = sql`(now() + make_interval(days => ${decision.suspensionDays!}))::timestamptz(3)`;
  const [suspended] = await tx
    .update(users)
    .set({ suspendedUntil: sql`greatest(${users.suspendedUntil}, ${end})` })
    .where(eq(users.id, subjectId!))
    .returning({ until: sql<string>`${end}` });
  return new Date(suspended!.until);
}

export function createModerationService(db: AppDb, deps: { sessions: SessionStore; revocations: Revocations }) {
  return {
    async queue(filter: { unclaimed?: boolean }, page: Page) {
      const { rows } = await db.execute<{
        target_type: ReportTargetType;
        target_id: string;
        author_id: string | null;
        snapshot: Record<string, unknown>;
        first_reported_at: string;
        claimed_by: string | null;
        claimed_at: string | null;
        held: boolean;
        open_reports: number;
        reasons: Reason[];
      }>(sql`
        SELECT report_targets.target_type, report_targets.target_id, report_targets.author_id, report_targets.snapshot,
          report_targets.first_reported_at, report_targets.claimed_by, report_targets.claimed_at, ${claimHeld} AS held,
          count(*)::int AS open_reports, array_agg(DISTINCT r.reason ORDER BY r.reason) AS reasons
        FROM report_targets
        JOIN reports r ON r.target_type = report_targets.target_type AND r.target_id = report_targets.target_id AND r.status = 'open'
        WHERE true
          ${filter.unclaimed ? sql`AND NOT ${claimHeld}` : sql``}
          ${page.after ? sql`AND (report_targets.first_reported_at, report_targets.target_id) > (${page.after.createdAt.toISOString()}::timestamptz, ${page.after.id}::uuid)` : sql``}
        GROUP BY report_targets.target_type, report_targets.target_id
        ORDER BY report_targets.first_reported_at, report_targets.target_id
        LIMIT ${page.limit + 1}`);
      const entries = rows.map((row) => ({
        createdAt: new Date(row.first_reported_at),
        id: row.target_id,
        entry: {
          targetType: row.target_type,
          targetId: row.target_id,
          authorId: row.author_id,
          snapshot: row.snapshot,
          firstReportedAt: new Date(row.first_reported_at),
          openReports: row.open_reports,
          reasons: row.reasons,
          // A claim whose moderator is one no longer shows as free.
          claimedBy: row.held ? row.claimed_by : null,
          claimedAt: row.held && row.claimed_at !== null ? new Date(row.claimed_at) : null,
        } satisfies QueueEntry,
      }));
      const { items, next } = toPage(entries, page.limit);
      return { items: items.map((item) => item.entry), next };
    },

    async claim(moderatorId: string, type: ReportTargetType, id: string): Promise<void> {
      await db.transaction(async (tx) => {
        await lockOpen(tx, moderatorId, type, id);
        await tx
          .update(reportTargets)
          .set({ claimedBy: moderatorId, claimedAt: sql`now()` })
          .where(and(eq(reportTargets.targetType, type), eq(reportTargets.targetId, id)));
      });
    },

    /**
     * Decides on a target: every open report of it resolved with the action as outcome, the action
     * applied (content hidden or removed, the subject suspended or banned) and recorded, all in one
     * transaction; then the subject of a suspension or ban is signed out on every instance.
     */
    async resolve(moderatorId: string, type: ReportTargetType, id: string, decision: Decision): Promise<ModerationActionRecord> {
      checkDecision(type, decision);
      let signedOut: string[] = [];
      const action = await db.transaction(async (tx) => {
        const { authorId } = await lockOpen(tx, moderatorId, type, id);
        let until: Date | null = null;
        if (decision.action === 'suspend' || decision.action === 'ban') {
          until = await sanction(tx, authorId, decision);
          // Revoked with the sanction: committed together, whatever happens after.
          signedOut = await deps.sessions.revokeAllIn(tx, authorId!, decision.action === 'ban' ? 'banned' : 'suspended');
        } else if (decision.action === 'hide' && isContent(type)) await setHidden(tx, type, id, true);
        else if (decision.action === 'remove' && isContent(type)) await removeContent(tx, type, id);
        const resolved = await tx
          .update(reports)
          .set({ status: 'resolved', outcome: outcomes[decision.action], resolvedAt: sql`now()` })
          .where(and(eq(reports.targetType, type), eq(reports.targetId, id), eq(reports.status, 'open')))
          .returning({ id: reports.id });
        if (resolved.length === 0) throw nothingOpen();
        await tx
          .update(reportTargets)
          .set({ claimedBy: null, claimedAt: null })
          .where(and(eq(reportTargets.targetType, type), eq(reportTargets.targetId, id)));
        const [recorded] = await tx
          .insert(moderationActions)
          .values({
            moderatorId,
            targetType: type,
            targetId: id,
            subjectId: authorId,
            action: decision.action,
            reason: decision.reason,
            until,
            reportsResolved: resolved.length,
          })
          .returning();
        await audit(tx, {
          actorId: moderatorId,
          kind: 'moderation_decision',
          targetType: type,
          targetId: id,
          details: {
            action: decision.action,
            reason: decision.reason,
            subjectId: authorId,
            reportsResolved: resolved.length,
            ...(until ? { until: until.toISOString() } : {}),
          },
        });
        return recorded!;
      });
      // Every instance drops the sessions at once (each also reloads recent revocations from the
      // database when its Redis subscription comes back).
      await deps.revocations.revoke(signedOut);
      return action;
    },
  };
}

export type ModerationService = ReturnType<typeof createModerationService>;
