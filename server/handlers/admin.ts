import type { AdminHandlers } from '../../generated/server';
import type { Services } from '../services';

export const admin: AdminHandlers<Services> = {
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
