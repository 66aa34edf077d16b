import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { OidcClient } from '../auth/oidc-client';
import type { AppDb } from '../db/database';
import { oidcFlows, oidcIdentities } from '../db/schema';

/**
 * Sign-in with an OpenID Connect provider: the sign-ins started and not finished (flows), and the
 * provider accounts linked to ours (identities). `client` is the provider, absent when none is
 * configured.
 */
export interface OidcServices {
  client: OidcClient | undefined;
  store: OidcStore;
}

export type OidcFlowRecord = typeof oidcFlows.$inferSelect;
export type OidcIdentityRecord = typeof oidcIdentities.$inferSelect;

export function createOidcServices(db: AppDb, client: OidcClient | undefined): OidcServices {
  return { client, store: createOidcStore(db) };
}

export function createOidcStore(db: AppDb) {
  return {
    /** Records a started sign-in; those whose time is up are deleted on the way (an abandoned sign-in leaves nothing for long). */
    async openFlow(input: {
      stateHash: string;
      flowTokenHash: string;
      nonce: string;
      codeVerifier: string;
      linkUserId?: string;
      ttlMs: number;
    }) {
      await db.delete(oidcFlows).where(lt(oidcFlows.expiresAt, sql`now()`));
      await db.insert(oidcFlows).values({
        stateHash: input.stateHash,
        flowTokenHash: input.flowTokenHash,
        nonce: input.nonce,
        codeVerifier: input.codeVerifier,
        linkUserId: input.linkUserId ?? null,
        expiresAt: sql`now() + ${`${input.ttlMs} milliseconds`}::interval`,
      });
    },

    /**
     * Takes a started sign-in for its finish: once (the row is deleted, so of two finishes at once
     * one gets it), while in time, with its flow token, and a linking one only by the user who
     * started it. Anyone else leaves it be: a stranger holding its state cannot spoil it.
     */
    async takeFlow(stateHash: string, flowTokenHash: string, callerId: string | undefined): Promise<OidcFlowRecord | undefined> {
      const [flow] = await db
        .delete(oidcFlows)
        .where(
          and(
            eq(oidcFlows.stateHash, stateHash),
            eq(oidcFlows.flowTokenHash, flowTokenHash),
            callerId ? or(isNull(oidcFlows.linkUserId), eq(oidcFlows.linkUserId, callerId)) : isNull(oidcFlows.linkUserId),
          ),
        )
        .returning({
          stateHash: oidcFlows.stateHash,
          flowTokenHash: oidcFlows.flowTokenHash,
          nonce: oidcFlows.nonce,
          codeVerifier: oidcFlows.codeVerifier,
          linkUserId: oidcFlows.linkUserId,
          createdAt: oidcFlows.createdAt,
          expiresAt: oidcFlows.expiresAt,
          fresh: sql<boolean>`${oidcFlows.expiresAt} > now()`,
        });
      return flow?.fresh ? flow : undefined;
    },

    async findIdentity(issuer: string, subject: string): Promise<OidcIdentityRecord | undefined> {
      return (
        await db
          .select()
          .from(oidcIdentities)
          .where(and(eq(oidcIdentities.issuer, issuer), eq(oidcIdentities.subject, subject)))
      )[0];
    },

    /**
     * Links a provider account to a user: `linked` (now), `already` (to this user before), or
     * `taken` (linked to another user, which stays as it is). A concurrent link of the same provider
     * account waits for the other to commit and then finds it.
     */
    async link(input: { issuer: string; subject: string; userId: string; email?: string }): Promise<'linked' | 'already' | 'taken'> {
      const [linked] = await db
        .insert(oidcIdentities)
        .values({ issuer: input.issuer, subject: input.subject, userId: input.userId, email: input.email ?? null })
        .onConflictDoNothing()
        .returning({ userId: oidcIdentities.userId });
      if (linked) return 'linked';
      const existing = await this.findIdentity(input.issuer, input.subject);
      return existing?.userId === input.userId ? 'already' : 'taken';
    },

    /** A user's linked provider accounts, oldest first (at most 100). */
    async listFor(userId: string): Promise<OidcIdentityRecord[]> {
      return db
        .select()
        .from(oidcIdentities)
        .where(eq(oidcIdentities.userId, userId))
        .orderBy(oidcIdentities.createdAt, oidcIdentities.issuer, oidcIdentities.subject)
        .limit(100);
    },

    /** Unlinks one of the user's provider accounts; false when it is not (or no longer) theirs. */
    async unlink(userId: string, issuer: string, subject: string): Promise<boolean> {
      const removed = await db
        .delete(oidcIdentities)
        .where(and(eq(oidcIdentities.userId, userId), eq(oidcIdentities.issuer, issuer), eq(oidcIdentities.subject, subject)))
        .returning({ subject: oidcIdentities.subject });
      return removed.length > 0;
    },

    /** Notes a sign-in with a linked provider account. */
    async used(issuer: string, subject: string) {
      await db
        .update(oidcIdentities)
        .set({ lastUsedAt: sql`now()` })
        .where(and(eq(oidcIdentities.issuer, issuer), eq(oidcIdentities.subject, subject)));
    },
  };
}

export type OidcStore = ReturnType<typeof createOidcStore>;
