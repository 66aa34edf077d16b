import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import { ApiError } from '../../runtime/server';
import type { AppDb, Tx } from '../db/database';
import { before, toPage, type PageKey, type Page } from '../db/keyset';
import { auditLog, type Role, users } from '../db/schema';

/**
 * Roles and the audit log. A role change is one transaction with its audit entry; the roles a
 * request is judged by are read from the database (server/app.ts hands `currentRoles` to the
 * runtime), so a change applies on the user's next request.
 */

export type AuditRecord = typeof auditLog.$inferSelect;
export type AuditInput = Omit<typeof auditLog.$inferInsert, 'id' | 'createdAt'>;

export interface AuditFilter {
  actorId?: string;
  targetId?: string;
  kind?: AuditRecord['kind'];
  from?: Date;
  to?: Date;
}

/** Entries read per query of an export. */
const EXPORT_BATCH = 500;

/** Writes an audit entry in the caller's transaction, so the event and its record stand or fall together. */
export async function audit(executor: AppDb | Tx, entry: AuditInput): Promise<void> {
  await executor.insert(auditLog).values(entry);
}

/** How long a lockout of one name is remembered, so that the attempts it refuses are audited once: login's window. */
const LOCKOUT_MS = 15 * 60_000;

export function createAdminService(db: AppDb) {
  /** Names whose lockout is in the audit log already, with when that entry's window ends. */
  const lockouts = new Map<string, number>();

  async function change(actorId: string, userId: string, role: Exclude<Role, 'user'>, grant: boolean): Promise<void> {
    await db.transaction(async (tx) => {
      // The admins' rows, locked: two admins demoting each other at once cannot both succeed.
      if (!grant && role === 'admin') {
        const admins = await tx.select({ id: users.id }).from(users).where(sql`'admin' = ANY(${users.roles})`).for('update');
        if (admins.length <= 1 && admins.some((admin) => admin.id === userId)) {
          throw new ApiError('LAST_ADMIN', 'This is the last admin: make another one first');
        }
      }
      const [user] = await tx.select({ roles: users.roles }).from(users).where(eq(users.id, userId)).for('update');
      if (!user) throw new ApiError('NOT_FOUND', 'No user with this id');
      if (user.roles.includes(role) === grant) return;
      const roles = grant ? [...user.roles, role] : user.roles.filter((r) => r !== role);
      await tx.update(users).set({ roles, updatedAt: sql`now()` }).where(eq(users.id, userId));
      await audit(tx, { actorId, kind: grant ? 'role_granted' : 'role_revoked', targetType: 'user', targetId: userId, details: { role } });
    });
  }

  async function auditPage(filter: AuditFilter, page: Page) {
    const rows = await db
      .select()
      .from(auditLog)
      .where(
        and(
          filter.actorId ? eq(auditLog.actorId, filter.actorId) : undefined,
          filter.targetId ? eq(auditLog.targetId, filter.targetId) : undefined,
          filter.kind ? eq(auditLog.kind, filter.kind) : undefined,
          filter.from ? gte(auditLog.createdAt, filter.from) : undefined,
          filter.to ? lt(auditLog.createdAt, filter.to) : undefined,
          page.after ? before(auditLog.createdAt, auditLog.id, page.after) : undefined,
        ),
      )
      .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
      .limit(page.limit + 1);
    return toPage(rows, page.limit);
  }

  return {
    grant: (actorId: string, userId: string, role: Exclude<Role, 'user'>) => change(actorId, userId, role, true),
    revoke: (actorId: string, userId: string, role: Exclude<Role, 'user'>) => change(actorId, userId, role, false),

    /**
     * A sign-in locked for a name by its rate limit: one audit entry per lockout window and name
     * (per instance), for an account that exists; a name of nobody is only logged.
     */
    async signInLocked(username: string, ip: string): Promise<void> {
      const now = Date.now();
      if ((lockouts.get(username) ?? 0) > now) return;
      for (const [name, until] of lockouts) if (until <= now) lockouts.delete(name);
      lockouts.set(username, now + LOCKOUT_MS);
      const [user] = await db.select({ id: users.id }).from(users).where(eq(users.username, username));
      if (user) await audit(db, { actorId: null, kind: 'login_locked', targetType: 'user', targetId: user.id, details: { ip } });
    },

    /** An event of its own (a security event), outside any other write. */
    record: (entry: AuditInput) => audit(db, entry),

    async currentRoles(userId: string): Promise<Role[]> {
      const [user] = await db.select({ roles: users.roles }).from(users).where(eq(users.id, userId));
      return user?.roles ?? [];
    },

    auditLog: auditPage,

    /** Every entry the filter selects, latest first, read a keyset batch at a time as the caller asks. */
    async *exportAuditLog(filter: AuditFilter): AsyncIterable<AuditRecord> {
      let after: PageKey | null = null;
      do {
        const batch = await auditPage(filter, { limit: EXPORT_BATCH, after });
        yield* batch.items;
        after = batch.next;
      } while (after);
    },
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
