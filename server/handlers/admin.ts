import type { AdminHandlers } from '../../generated/server';
import { fieldError } from '../../runtime/server';
import type { Services } from '../services';
import { MAX_DAYS } from '../services/statistics';

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export const admin: AdminHandlers<Services> = {
  async getStatistics({ query }, { statistics, realtime }) {
    const to = query.to ?? dayOf(Date.now());
    const from = query.from ?? dayOf(Date.parse(to) - 29 * DAY_MS);
    const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
    if (days < 1) throw fieldError('/query/from', 'after_to', '`from` is after `to`');
    if (days > MAX_DAYS) throw fieldError('/query/from', 'range_too_long', `At most ${MAX_DAYS} days at once`);
    const [figures, live] = await Promise.all([statistics.figures(from, to), realtime.liveCounts()]);
    return { from, to, ...figures, live: { sockets: live.sockets, usersOnline: live.users } };
  },

  async grantRole({ params }, { admin, user }) {
    await admin.grant(user.id, params.userId, params.role);
  },

  async revokeRole({ params }, { admin, user }) {
    await admin.revoke(user.id, params.userId, params.role);
  },

  async listAuditLog({ query, page }, { admin }) {
    const found = await admin.auditLog(
      { ...query, from: query.from ? new Date(query.from) : undefined, to: query.to ? new Date(query.to) : undefined },
      page,
    );
    return { items: found.items.map((entry) => ({ ...entry, createdAt: entry.createdAt.toISOString() })), next: found.next };
  },
};
