import { and, desc, eq, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { AppDb, Tx } from '../db/database';
import { before, toPage, type PageKey } from '../db/keyset';
import { recoveryCodes, users, type Role } from '../db/schema';
import { blockedEitherWay } from './social';

export type UserRecord = typeof users.$inferSelect;

export interface NewUser {
  username: string;
  displayName: string;
  passwordHash: string;
  roles?: Role[];
}

export type ProfileChanges = Partial<
  Pick<UserRecord, 'displayName' | 'bio' | 'city' | 'danceRole' | 'avatarUrl' | 'avatarMediaId' | 'showPresence'>
>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createUserStore(db: AppDb) {
  const byId = async (id: string) => (await db.select().from(users).where(eq(users.id, id)))[0];
  const touch = { updatedAt: sql`now()` };

  return {
    /** The new user, or 'taken' when the (normalized) username exists. */
    async create(input: NewUser): Promise<UserRecord | 'taken'> {
      // ON CONFLICT rather than catching the error: a failed statement would abort the
      // transaction the account is created in, and a concurrent sign-up of the name waits for
      // the other to commit and then finds it taken.
      const [created] = await db
        .insert(users)
        .values({
          username: input.username,
          displayName: input.displayName,
          passwordHash: input.passwordHash,
          roles: input.roles ?? ['user'],
        })
        .onConflictDoNothing({ target: users.username })
        .returning();
      return created ?? 'taken';
    },

    get: byId,

    /** Reads a user and holds its row until the transaction ends (so its checks and writes are not interleaved with another's). */
    async lock(id: string) {
      return (await db.select().from(users).where(eq(users.id, id)).for('update'))[0];
    },

    async findByUsername(username: string) {
      return (await db.select().from(users).where(eq(users.username, username)))[0];
    },

    async findByIdOrUsername(value: string, normalize: (username: string) => string) {
      return UUID.test(value) ? byId(value) : this.findByUsername(normalize(value));
    },

    /**
     * The user as changed, and whether `showPresence` changed (compared under the row's lock, so of
     * two requests changing it at once, the second compares with what the first left).
     */
    async update(
      id: string,
      changes: ProfileChanges,
      /** A check of the changes inside the transaction (the avatar is one of the user's images). */
      check?: (tx: Tx) => Promise<void>,
    ): Promise<{ user: UserRecord; showPresenceChanged: boolean } | undefined> {
      return db.transaction(async (tx) => {
        const [before] = await tx.select({ showPresence: users.showPresence }).from(users).where(eq(users.id, id)).for('update');
        if (!before) return undefined;
        await check?.(tx);
        const [user] = await tx
          .update(users)
          .set({ ...changes, ...touch })
          .where(eq(users.id, id))
          .returning();
        return user && { user, showPresenceChanged: user.showPresence !== before.showPresence };
      });
    },

    /**
     * Stores a new password hash (a changed password, or a stronger hash of the same one), unless the
     * password was changed meanwhile: false then.
     */
    async replacePasswordHash(id: string, verifiedHash: string, passwordHash: string): Promise<boolean> {
      const replaced = await db
        .update(users)
        .set({ passwordHash, ...touch })
        .where(and(eq(users.id, id), eq(users.passwordHash, verifiedHash)))
        .returning({ id: users.id });
      return replaced.length > 0;
    },

    async setRoles(id: string, roles: Role[]) {
      await db
        .update(users)
        .set({ roles, ...touch })
        .where(eq(users.id, id));
    },

    /** Newest members first, by part of the display name or username, and by city; leaving out those a block hides from the viewer. */
    async search(filter: { q?: string; city?: string; viewerId: string; limit: number; after: PageKey | null }) {
      const conditions: SQL[] = [sql`NOT ${blockedEitherWay(filter.viewerId, users.id)}`];
      if (filter.q) {
        const pattern = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`).toLowerCase()}%`;
        conditions.push(or(sql`lower(${users.displayName}) LIKE ${pattern}`, sql`${users.username} LIKE ${pattern}`)!);
      }
      if (filter.city) conditions.push(sql`lower(${users.city}) = lower(${filter.city})`);
      if (filter.after) conditions.push(before(users.createdAt, users.id, filter.after));
      const rows = await db
        .select()
        .from(users)
        .where(and(...conditions))
        .orderBy(desc(users.createdAt), desc(users.id))
        .limit(filter.limit + 1);
      return toPage(rows, filter.limit);
    },

    async setMfaSecret(id: string, secret: string) {
      await db
        .update(users)
        .set({ mfaSecret: secret, mfaEnabled: false, mfaLastStep: null, ...touch })
        .where(eq(users.id, id));
    },

    /** Turns MFA on and replaces the recovery codes, in one transaction. */
    async enableMfa(id: string, step: number, codeHashes: string[]) {
      await db.transaction(async (tx) => {
        await tx
          .update(users)
          .set({ mfaEnabled: true, mfaLastStep: step, ...touch })
          .where(eq(users.id, id));
        await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, id));
        await tx.insert(recoveryCodes).values(codeHashes.map((codeHash) => ({ userId: id, codeHash })));
      });
    },

    async disableMfa(id: string) {
      await db.transaction(async (tx) => {
        await tx
          .update(users)
          .set({ mfaEnabled: false, mfaSecret: null, mfaLastStep: null, ...touch })
          .where(eq(users.id, id));
        await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, id));
      });
    },

    /** Records a TOTP step as used; false when it (or a later one) was used already: no replays. */
    async claimTotpStep(id: string, step: number): Promise<boolean> {
      const claimed = await db
        .update(users)
        .set({ mfaLastStep: step })
        .where(and(eq(users.id, id), or(isNull(users.mfaLastStep), sql`${users.mfaLastStep} < ${step}`)))
        .returning({ id: users.id });
      return claimed.length > 0;
    },

    /** Spends a recovery code; true exactly once per code. */
    async useRecoveryCode(userId: string, codeHash: string): Promise<boolean> {
      const used = await db
        .update(recoveryCodes)
        .set({ usedAt: sql`now()` })
        .where(and(eq(recoveryCodes.userId, userId), eq(recoveryCodes.codeHash, codeHash), isNull(recoveryCodes.usedAt)))
        .returning({ id: recoveryCodes.id });
      return used.length > 0;
    },
  };
}

export type UserStore = ReturnType<typeof createUserStore>;
