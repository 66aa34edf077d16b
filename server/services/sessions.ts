import { and, desc, eq, gt, inArray, isNull, ne, sql } from 'drizzle-orm';
import { newOpaqueToken, hashToken } from '../auth/opaque-token';
import type { AppDb } from '../db/database';
import { before, toPage, type PageKey } from '../db/keyset';
import { refreshTokens, sessions } from '../db/schema';

/**
 * Sessions and their rotating refresh tokens (RFC 9700 §4.14.2): every refresh marks the token
 * used and issues its successor; presenting a used token again means it was copied, so the whole
 * session (the token family) is revoked.
 */
export type SessionRecord = typeof sessions.$inferSelect;

export const REFRESH_IDLE_MS = 30 * 24 * 3600 * 1000;
export const SESSION_ABSOLUTE_MS = 90 * 24 * 3600 * 1000;

export type Rotation =
  | { kind: 'rotated'; session: SessionRecord; refreshToken: string }
  | { kind: 'reused'; session: SessionRecord }
  | { kind: 'invalid' };

const now = sql`now()`;
const inFuture = (ms: number) => sql`now() + ${`${ms} milliseconds`}::interval`;

export function createSessionStore(db: AppDb) {
  async function issueToken(tx: Pick<AppDb, 'insert'>, sessionId: string, parentId: string | null): Promise<string> {
    const token = newOpaqueToken();
    await tx.insert(refreshTokens).values({
      sessionId,
      parentId,
      tokenHash: hashToken(token),
      status: 'active',
      expiresAt: inFuture(REFRESH_IDLE_MS),
    });
    return token;
  }

  async function revoke(sessionId: string, reason: string): Promise<boolean> {
    return db.transaction(async (tx) => {
      const revoked = await tx
        .update(sessions)
        .set({ revokedAt: now, revokedReason: reason })
        .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)))
        .returning({ id: sessions.id });
      await tx.update(refreshTokens).set({ status: 'revoked' }).where(and(eq(refreshTokens.sessionId, sessionId), eq(refreshTokens.status, 'active')));
      return revoked.length > 0;
    });
  }

  return {
    async open(input: { userId: string; device?: string; ip?: string }): Promise<{ session: SessionRecord; refreshToken: string }> {
      return db.transaction(async (tx) => {
        const [session] = await tx
          .insert(sessions)
          .values({ userId: input.userId, device: input.device ?? null, ip: input.ip ?? null, expiresAt: inFuture(SESSION_ABSOLUTE_MS) })
          .returning();
        return { session: session!, refreshToken: await issueToken(tx, session!.id, null) };
      });
    },

    /** Exactly one of two concurrent rotations of a token wins: the UPDATE … WHERE status='active' is atomic. */
    async rotate(refreshToken: string): Promise<Rotation> {
      const tokenHash = hashToken(refreshToken);
      const outcome = await db.transaction(async (tx): Promise<Rotation | { kind: 'copied'; sessionId: string }> => {
        const [spent] = await tx
          .update(refreshTokens)
          .set({ status: 'used', usedAt: now })
          .where(and(eq(refreshTokens.tokenHash, tokenHash), eq(refreshTokens.status, 'active'), gt(refreshTokens.expiresAt, now)))
          .returning();
        if (!spent) {
          const [known] = await tx.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash));
          return known?.status === 'used' ? { kind: 'copied', sessionId: known.sessionId } : { kind: 'invalid' };
        }
        const [session] = await tx
          .update(sessions)
          .set({ lastUsedAt: now })
          .where(and(eq(sessions.id, spent.sessionId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
          .returning();
        if (!session) return { kind: 'invalid' };
        return { kind: 'rotated', session, refreshToken: await issueToken(tx, session.id, spent.id) };
      });
      if (outcome.kind !== 'copied') return outcome;
      await revoke(outcome.sessionId, 'refresh token reused');
      const [session] = await db.select().from(sessions).where(eq(sessions.id, outcome.sessionId));
      return { kind: 'reused', session: session! };
    },

    revoke,

    /** Revokes every live session of a user (but `except`), all or none, returning their ids. */
    async revokeAll(userId: string, reason: string, except?: string): Promise<string[]> {
      return db.transaction(async (tx) => {
        const revoked = await tx
          .update(sessions)
          .set({ revokedAt: now, revokedReason: reason })
          .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), except ? ne(sessions.id, except) : undefined))
          .returning({ id: sessions.id });
        const ids = revoked.map((s) => s.id);
        if (ids.length > 0) {
          await tx
            .update(refreshTokens)
            .set({ status: 'revoked' })
            .where(and(inArray(refreshTokens.sessionId, ids), eq(refreshTokens.status, 'active')));
        }
        return ids;
      });
    },

    async get(sessionId: string) {
      return (await db.select().from(sessions).where(eq(sessions.id, sessionId)))[0];
    },

    /** Live sessions of a user, newest first. */
    async list(userId: string, page: { limit: number; after: PageKey | null }) {
      const rows = await db
        .select()
        .from(sessions)
        .where(
          and(
            eq(sessions.userId, userId),
            isNull(sessions.revokedAt),
            gt(sessions.expiresAt, now),
            page.after ? before(sessions.createdAt, sessions.id, page.after) : undefined,
          ),
        )
        .orderBy(desc(sessions.createdAt), desc(sessions.id))
        .limit(page.limit + 1);
      return toPage(rows, page.limit);
    },

    /** Sessions revoked within the last `ms`, by the database's clock (instances' clocks may differ). */
    async revokedWithin(ms: number): Promise<string[]> {
      const rows = await db
        .select({ id: sessions.id })
        .from(sessions)
        .where(gt(sessions.revokedAt, sql`now() - ${`${ms} milliseconds`}::interval`));
      return rows.map((r) => r.id);
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
