import { and, desc, eq, getTableColumns, gt, inArray, isNull, lt, ne, sql } from 'drizzle-orm';
import { newOpaqueToken, hashToken } from '../auth/opaque-token';
import type { AppDb } from '../db/database';
import { before, toPage, type PageKey } from '../db/keyset';
import { mfaChallenges, refreshTokens, sessions } from '../db/schema';

/**
 * Sessions and their rotating refresh tokens (RFC 9700 §4.14.2): every refresh marks the token
 * used and issues its successor; presenting a used token again means it was copied, so the whole
 * session (the token family) is revoked.
 */
export type SessionRecord = typeof sessions.$inferSelect;

const REFRESH_IDLE_MS = 30 * 24 * 3600 * 1000;
const SESSION_ABSOLUTE_MS = 90 * 24 * 3600 * 1000;

/** Wrong codes one MFA challenge takes before it is dead (the sign-in starts over, password first). */
export const MFA_CHALLENGE_MAX_FAILURES = 5;
/** Wrong codes an account takes, over all its challenges, within MFA_ACCOUNT_WINDOW_MS. */
export const MFA_ACCOUNT_MAX_FAILURES = 10;
export const MFA_ACCOUNT_WINDOW_MS = 15 * 60 * 1000;

export type MfaChallengeRecord = typeof mfaChallenges.$inferSelect;

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

  async function revokeAllIn(tx: Pick<AppDb, 'update'>, userId: string, reason: string, except?: string): Promise<string[]> {
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
  }

  async function revoke(sessionId: string, reason: string): Promise<boolean> {
    return db.transaction(async (tx) => {
      const revoked = await tx
        .update(sessions)
        .set({ revokedAt: now, revokedReason: reason })
        .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)))
        .returning({ id: sessions.id });
      await tx
        .update(refreshTokens)
        .set({ status: 'revoked' })
        .where(and(eq(refreshTokens.sessionId, sessionId), eq(refreshTokens.status, 'active')));
      return revoked.length > 0;
    });
  }

  return {
    /** `reauthenticated`: the person has just signed in again at the provider for it (see sessions.reauthenticatedAt). */
    async open(input: {
      userId: string;
      device?: string;
      ip?: string;
      reauthenticated?: boolean;
    }): Promise<{ session: SessionRecord; refreshToken: string }> {
      return db.transaction(async (tx) => {
        const [session] = await tx
          .insert(sessions)
          .values({
            userId: input.userId,
            device: input.device ?? null,
            ip: input.ip ?? null,
            expiresAt: inFuture(SESSION_ABSOLUTE_MS),
            reauthenticatedAt: input.reauthenticated ? now : null,
          })
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
    revokeAll: (userId: string, reason: string, except?: string): Promise<string[]> =>
      db.transaction((tx) => revokeAllIn(tx, userId, reason, except)),

    /** The same, in the caller's transaction (the revocation commits with what caused it). */
    revokeAllIn,

    async get(sessionId: string) {
      return (await db.select().from(sessions).where(eq(sessions.id, sessionId)))[0];
    },

    /** Whether the session was opened by a sign-in again at the provider within the last `ms` (by the database's clock). */
    async reauthenticatedWithin(sessionId: string, ms: number): Promise<boolean> {
      const [fresh] = await db
        .select({ id: sessions.id })
        .from(sessions)
        .where(
          and(
            eq(sessions.id, sessionId),
            isNull(sessions.revokedAt),
            gt(sessions.reauthenticatedAt, sql`now() - ${`${ms} milliseconds`}::interval`),
          ),
        );
      return fresh !== undefined;
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

    /** A new MFA challenge; this user's challenges too old to count toward its failures are dropped. */
    async openMfaChallenge(input: { userId: string; device?: string; ttlMs: number }): Promise<MfaChallengeRecord> {
      return db.transaction(async (tx) => {
        await tx
          .delete(mfaChallenges)
          .where(
            and(
              eq(mfaChallenges.userId, input.userId),
              lt(mfaChallenges.expiresAt, sql`now() - ${`${MFA_ACCOUNT_WINDOW_MS} milliseconds`}::interval`),
            ),
          );
        const [challenge] = await tx
          .insert(mfaChallenges)
          .values({ userId: input.userId, device: input.device ?? null, expiresAt: inFuture(input.ttlMs) })
          .returning();
        return challenge!;
      });
    },

    /**
     * A challenge, its row held until the transaction ends, and whether it can still be answered
     * (not spent, not expired, fewer than MFA_CHALLENGE_MAX_FAILURES wrong codes).
     */
    async lockMfaChallenge(id: string): Promise<(MfaChallengeRecord & { usable: boolean }) | undefined> {
      const [challenge] = await db
        .select({
          ...getTableColumns(mfaChallenges),
          usable: sql<boolean>`(${mfaChallenges.usedAt} IS NULL AND ${mfaChallenges.failures} < ${MFA_CHALLENGE_MAX_FAILURES} AND ${mfaChallenges.expiresAt} > now())`,
        })
        .from(mfaChallenges)
        .where(eq(mfaChallenges.id, id))
        .for('update');
      return challenge;
    },

    /** Counts a wrong code against a challenge; returns its failures so far. */
    async failMfaChallenge(id: string): Promise<number> {
      const [row] = await db
        .update(mfaChallenges)
        .set({ failures: sql`${mfaChallenges.failures} + 1`, lastFailedAt: now })
        .where(eq(mfaChallenges.id, id))
        .returning({ failures: mfaChallenges.failures });
      return row?.failures ?? MFA_CHALLENGE_MAX_FAILURES;
    },

    /** Marks a challenge answered; true exactly once. */
    async spendMfaChallenge(id: string): Promise<boolean> {
      const spent = await db
        .update(mfaChallenges)
        .set({ usedAt: now })
        .where(and(eq(mfaChallenges.id, id), isNull(mfaChallenges.usedAt)))
        .returning({ id: mfaChallenges.id });
      return spent.length > 0;
    },

    /**
     * Wrong MFA codes of a user within MFA_ACCOUNT_WINDOW_MS (counted per challenge, by its latest
     * failure), and how long until they have all left the window.
     */
    async recentMfaFailures(userId: string): Promise<{ count: number; clearsInMs: number }> {
      const window = sql`${`${MFA_ACCOUNT_WINDOW_MS} milliseconds`}::interval`;
      const [row] = await db
        .select({
          count: sql<number>`coalesce(sum(${mfaChallenges.failures}), 0)::int`,
          clearsInMs: sql<number>`coalesce(ceil(extract(epoch from (max(${mfaChallenges.lastFailedAt}) + ${window} - now())) * 1000), 0)::int`,
        })
        .from(mfaChallenges)
        .where(and(eq(mfaChallenges.userId, userId), gt(mfaChallenges.lastFailedAt, sql`now() - ${window}`)));
      return { count: row?.count ?? 0, clearsInMs: Math.max(0, row?.clearsInMs ?? 0) };
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
