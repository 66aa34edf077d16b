import type { ModerationHandlers } from '../../generated/server';
import type { Services } from '../services';
import type { ReportRecord } from '../services/reports';

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
    const action = await moderation.resolve(user.id, params.targetType, params.targetId, body);
    return { ...action, createdAt: action.createdAt.toISOString() };
  },
};
