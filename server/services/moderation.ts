import { and, eq, sql } from 'drizzle-orm';
import { ApiError } from '../../runtime/server';
import type { AppDb } from '../db/database';
import { toPage, type PageKey } from '../db/keyset';
import { audit } from './admin';
import { moderationActions, reports, reportTargets, type ReportTargetType } from '../db/schema';

/**
 * The moderators' side of reports: the queue (one entry per reported target with open reports,
 * oldest first), claims, and decisions. A decision resolves every open report of its target and is
 * recorded once (moderation_actions is never updated or deleted).
 */

interface Page {
  limit: number;
  after: PageKey | null;
}

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

export function createModerationService(db: AppDb) {
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
        open_reports: number;
        reasons: Reason[];
      }>(sql`
        SELECT t.target_type, t.target_id, t.author_id, t.snapshot, t.first_reported_at, t.claimed_by, t.claimed_at,
          count(*)::int AS open_reports, array_agg(DISTINCT r.reason ORDER BY r.reason) AS reasons
        FROM report_targets t
        JOIN reports r ON r.target_type = t.target_type AND r.target_id = t.target_id AND r.status = 'open'
        WHERE true
          ${filter.unclaimed ? sql`AND t.claimed_by IS NULL` : sql``}
          ${page.after ? sql`AND (t.first_reported_at, t.target_id) > (${page.after.createdAt.toISOString()}::timestamptz, ${page.after.id}::uuid)` : sql``}
        GROUP BY t.target_type, t.target_id
        ORDER BY t.first_reported_at, t.target_id
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
          claimedBy: row.claimed_by,
          claimedAt: row.claimed_at === null ? null : new Date(row.claimed_at),
        } satisfies QueueEntry,
      }));
      const { items, next } = toPage(entries, page.limit);
      return { items: items.map((item) => item.entry), next };
    },

    async claim(moderatorId: string, type: ReportTargetType, id: string): Promise<void> {
      const taken = await db
        .update(reportTargets)
        .set({ claimedBy: moderatorId, claimedAt: sql`now()` })
        .where(
          and(
            eq(reportTargets.targetType, type),
            eq(reportTargets.targetId, id),
            open(type, id),
            sql`(${reportTargets.claimedBy} IS NULL OR ${reportTargets.claimedBy} = ${moderatorId})`,
          ),
        )
        .returning({ id: reportTargets.targetId });
      if (taken.length > 0) return;
      const [exists] = await db
        .select({ id: reportTargets.targetId })
        .from(reportTargets)
        .where(and(eq(reportTargets.targetType, type), eq(reportTargets.targetId, id), open(type, id)));
      throw exists ? claimed() : nothingOpen();
    },

    async resolve(
      moderatorId: string,
      type: ReportTargetType,
      id: string,
      decision: { action: 'dismiss'; reason: string },
    ): Promise<ModerationActionRecord> {
      return db.transaction(async (tx) => {
        const [target] = await tx
          .select({ claimedBy: reportTargets.claimedBy })
          .from(reportTargets)
          .where(and(eq(reportTargets.targetType, type), eq(reportTargets.targetId, id)))
          .for('update');
        if (!target) throw nothingOpen();
        if (target.claimedBy !== null && target.claimedBy !== moderatorId) throw claimed();
        const resolved = await tx
          .update(reports)
          .set({ status: 'resolved', outcome: 'dismissed', resolvedAt: sql`now()` })
          .where(and(eq(reports.targetType, type), eq(reports.targetId, id), eq(reports.status, 'open')))
          .returning({ id: reports.id });
        if (resolved.length === 0) throw nothingOpen();
        await tx
          .update(reportTargets)
          .set({ claimedBy: null, claimedAt: null })
          .where(and(eq(reportTargets.targetType, type), eq(reportTargets.targetId, id)));
        const [action] = await tx
          .insert(moderationActions)
          .values({
            moderatorId,
            targetType: type,
            targetId: id,
            action: decision.action,
            reason: decision.reason,
            reportsResolved: resolved.length,
          })
          .returning();
        await audit(tx, {
          actorId: moderatorId,
          kind: 'moderation_decision',
          targetType: type,
          targetId: id,
          details: { action: decision.action, reason: decision.reason, reportsResolved: resolved.length },
        });
        return action!;
      });
    },
  };
}

export type ModerationService = ReturnType<typeof createModerationService>;
