import type { ModerationHandlers } from '../../generated/server';
import type { Services } from '../services';
import type { ActionRecord, AppealRecord } from '../services/appeals';
import type { ReportRecord } from '../services/reports';
import { verifiedUser } from './auth';

function toReport(report: ReportRecord) {
  return {
    id: report.id,
    targetType: report.targetType,
    targetId: report.targetId,
    reason: report.reason,
    details: report.details,
    status: report.status,
    outcome: report.outcome,
    createdAt: report.createdAt.toISOString(),
    resolvedAt: report.resolvedAt?.toISOString() ?? null,
  };
}

function toAction(action: ActionRecord) {
  return { ...action, until: action.until?.toISOString() ?? null, createdAt: action.createdAt.toISOString() };
}

function toAppeal(appeal: AppealRecord) {
  return {
    id: appeal.id,
    actionId: appeal.actionId,
    appellantId: appeal.appellantId,
    statement: appeal.statement,
    status: appeal.status,
    decision: appeal.decision,
    createdAt: appeal.createdAt.toISOString(),
    decidedAt: appeal.decidedAt?.toISOString() ?? null,
  };
}

export const moderation: ModerationHandlers<Services> = {
  async createReport({ body }, { reports, user }) {
    return toReport(await reports.create(user.id, body));
  },

  async listMyReports({ query, page }, { reports, user }) {
    const found = await reports.mine(user.id, query.status, page);
    return { items: found.items.map(toReport), next: found.next };
  },

  async getReport({ params }, { reports, user }) {
    return toReport(await reports.get(user.id, params.reportId));
  },

  async listModerationQueue({ query, page }, { moderation }) {
    const found = await moderation.queue({ unclaimed: query.unclaimed }, page);
    return {
      items: found.items.map((entry) => ({
        ...entry,
        firstReportedAt: entry.firstReportedAt.toISOString(),
        claimedAt: entry.claimedAt?.toISOString() ?? null,
      })),
      next: found.next,
    };
  },

  async claimReportedTarget({ params }, { moderation, user }) {
    await moderation.claim(user.id, params.targetType, params.targetId);
  },

  async resolveReportedTarget({ params, body }, { moderation, user }) {
    return toAction(await moderation.resolve(user.id, params.targetType, params.targetId, body));
  },

  async listDecisionsAboutMe({ page }, { appeals, user }) {
    const found = await appeals.aboutMe(user.id, page);
    return {
      // Who decided is not said.
      items: found.items.map(({ action, appeal, appealable }) => {
        const { moderatorId: _, reportsResolved: __, ...about } = toAction(action);
        return { action: about, appealable, appeal: appeal ? toAppeal(appeal) : null };
      }),
      next: found.next,
    };
  },

  async appealDecision({ params, body }, { appeals, user }) {
    return toAppeal(await appeals.appeal(user.id, params.actionId, body.statement));
  },

  async appealSuspension({ body }, ctx) {
    const user = await verifiedUser(ctx, body.username, body.password);
    return toAppeal(await ctx.appeals.appealSuspension(user.id, body.statement));
  },

  async listAppeals({ page }, { appeals }) {
    const found = await appeals.open(page);
    return { items: found.items.map((item) => ({ appeal: toAppeal(item.appeal), action: toAction(item.action) })), next: found.next };
  },

  async decideAppeal({ params, body }, { appeals, user }) {
    return toAppeal(await appeals.decide(user.id, params.appealId, body.outcome, body.reason));
  },
};
