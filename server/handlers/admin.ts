import type { AdminHandlers } from '../../generated/server';
import { fieldError } from '../../runtime/server';
import type { Services } from '../services';
import type { AuditFilter, AuditRecord } from '../services/admin';
import { MAX_DAYS } from '../services/statistics';

const auditFilter = (query: { from?: string; to?: string } & Omit<AuditFilter, 'from' | 'to'>): AuditFilter => ({
  ...query,
  from: query.from ? new Date(query.from) : undefined,
  to: query.to ? new Date(query.to) : undefined,
});
const toEntry = (entry: AuditRecord) => ({ ...entry, createdAt: entry.createdAt.toISOString() });

async function* map<T, U>(items: AsyncIterable<T>, as: (item: T) => U): AsyncIterable<U> {
  for await (const item of items) yield as(item);
}

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
    const found = await admin.auditLog(auditFilter(query), page);
    return { items: found.items.map(toEntry), next: found.next };
  },

  async exportAuditLog({ query }, { admin }) {
    return map(admin.exportAuditLog(auditFilter(query)), toEntry);
  },
};
