import { sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { ExportRecordKindV2 } from '../../contracts/users';
import { ApiError } from '../../runtime/server';
import type { Revocations } from '../auth/revocations';
import type { AppDb, Tx } from '../db/database';
import { sqlState } from '../db/errors';
import { audit } from './admin';
import type { MediaService } from './media';

/**
 * An account's self-service: deleting it (contracts/users.ts `deleteMyAccount` says what goes and
 * what stays) and exporting what the API stores about it.
 */

/** What kind of record an export line holds (the contract's list). */
export type ExportKind = z.infer<typeof ExportRecordKindV2>;

/**
 * What an export reads, kind by kind: the table, the column naming the user, the primary key (the
 * keyset of its batches) and the columns left out (secrets; who moderated). Names are constants.
 */
const SECTIONS: { kind: ExportKind; table: string; owner: string; key: string[]; omit?: string[] }[] = [
  { kind: 'profile', table: 'users', owner: 'id', key: ['id'], omit: ['password_hash', 'mfa_secret', 'mfa_last_step'] },
  { kind: 'session', table: 'sessions', owner: 'user_id', key: ['id'] },
  { kind: 'post', table: 'posts', owner: 'author_id', key: ['id'] },
  { kind: 'comment', table: 'comments', owner: 'author_id', key: ['id'] },
  { kind: 'post_reaction', table: 'post_reactions', owner: 'user_id', key: ['post_id'] },
  { kind: 'comment_reaction', table: 'comment_reactions', owner: 'user_id', key: ['comment_id'] },
  { kind: 'memory', table: 'memories', owner: 'owner_id', key: ['id'] },
  { kind: 'memory_tag', table: 'memory_tags', owner: 'user_id', key: ['memory_id'] },
  { kind: 'story', table: 'stories', owner: 'author_id', key: ['id'] },
  { kind: 'story_view', table: 'story_views', owner: 'viewer_id', key: ['story_id'] },
  { kind: 'media', table: 'media', owner: 'owner_id', key: ['id'] },
  { kind: 'message', table: 'messages', owner: 'sender_id', key: ['id'] },
  { kind: 'conversation_membership', table: 'conversation_members', owner: 'user_id', key: ['conversation_id'] },
  { kind: 'following', table: 'follows', owner: 'follower_id', key: ['followee_id'] },
  { kind: 'follower', table: 'follows', owner: 'followee_id', key: ['follower_id'] },
  { kind: 'friend', table: 'friendships', owner: 'user_id', key: ['friend_id'] },
  { kind: 'friend_request_sent', table: 'friend_requests', owner: 'requester_id', key: ['addressee_id'] },
  { kind: 'friend_request_received', table: 'friend_requests', owner: 'addressee_id', key: ['requester_id'] },
  { kind: 'block', table: 'blocks', owner: 'blocker_id', key: ['blocked_id'] },
  { kind: 'group_membership', table: 'group_members', owner: 'user_id', key: ['group_id'] },
  { kind: 'group_request', table: 'group_requests', owner: 'user_id', key: ['group_id'] },
  { kind: 'event_organized', table: 'events', owner: 'organizer_id', key: ['id'] },
  { kind: 'event_answer', table: 'event_rsvps', owner: 'user_id', key: ['event_id'] },
  { kind: 'notification', table: 'notifications', owner: 'user_id', key: ['id'] },
  { kind: 'report', table: 'reports', owner: 'reporter_id', key: ['id'] },
  { kind: 'decision_about_me', table: 'moderation_actions', owner: 'subject_id', key: ['id'], omit: ['moderator_id'] },
  { kind: 'appeal', table: 'appeals', owner: 'appellant_id', key: ['id'], omit: ['decided_by'] },
  { kind: 'oidc_identity', table: 'oidc_identities', owner: 'user_id', key: ['issuer', 'subject'] },
];

/** Rows read per query of an export. */
const EXPORT_BATCH = 500;

/** The deletion itself, in one transaction; answers what to revoke and remove once it commits. */
async function deleteIn(tx: Tx, userId: string): Promise<{ sessionIds: string[]; files: (string | null)[] }> {
  // The admins' rows, locked as a role change locks them: the last admin stays, even when two
  // delete their accounts at once.
  const { rows: admins } = await tx.execute<{ id: string }>(sql`SELECT id FROM users WHERE 'admin' = ANY(roles) ORDER BY id FOR UPDATE`);
  if (admins.length === 1 && admins[0]!.id === userId) throw new ApiError('LAST_ADMIN', 'This is the last admin: make another one first');
  // Every group the user is in, locked in one order (as a member's leaving locks its group): the
  // heir chosen below cannot leave meanwhile, and two deletions meet in the same order.
  await tx.execute(sql`SELECT id FROM groups WHERE id IN (SELECT group_id FROM group_members WHERE user_id = ${userId})
    ORDER BY id FOR UPDATE`);
  // Each group the user owns passes to its longest-standing admin, else member, never to a banned
  // account and to a suspended one last; with no heir, it goes. (One owner per group, by a unique
  // index: the user steps down first.)
  const { rows: owned } = await tx.execute<{ group_id: string }>(
    sql`UPDATE group_members SET role = 'member' WHERE user_id = ${userId} AND role = 'owner' RETURNING group_id`,
  );
  if (owned.length > 0) {
    const groups = sql.join(
      owned.map((row) => sql`${row.group_id}::uuid`),
      sql`, `,
    );
    await tx.execute(sql`
      UPDATE group_members g SET role = 'owner' FROM (
        SELECT DISTINCT ON (m.group_id) m.group_id, m.user_id FROM group_members m JOIN users u ON u.id = m.user_id
        WHERE m.group_id IN (${groups}) AND m.user_id <> ${userId} AND u.banned_at IS NULL
        ORDER BY m.group_id, coalesce(u.suspended_until > now(), false), (m.role = 'admin') DESC, m.joined_at, m.user_id) h
      WHERE g.group_id = h.group_id AND g.user_id = h.user_id`);
    await tx.execute(sql`DELETE FROM groups g WHERE g.id IN (${groups})
      AND NOT EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = g.id AND m.role = 'owner')`);
  }
  // Events keep no foreign key to their organizer: cancelled here.
  await tx.execute(sql`DELETE FROM events WHERE organizer_id = ${userId}`);
  // What moderators kept of the account's content (snapshots of reports) goes too; their decisions stay.
  await tx.execute(sql`UPDATE report_targets SET snapshot = '{"removed": "with the account"}' WHERE author_id = ${userId}`);
  const { rows: sessions } = await tx.execute<{ id: string }>(
    sql`SELECT id FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL`,
  );
  const { rows: stored } = await tx.execute<{ file_name: string; thumbnail_name: string | null }>(
    sql`SELECT file_name, thumbnail_name FROM media WHERE owner_id = ${userId}`,
  );
  await tx.execute(sql`DELETE FROM users WHERE id = ${userId}`);
  // Nobody to name as its actor: the account is gone.
  await audit(tx, { actorId: null, kind: 'account_deleted', targetType: 'user', targetId: userId, details: {} });
  return { sessionIds: sessions.map((s) => s.id), files: stored.flatMap((m) => [m.file_name, m.thumbnail_name]) };
}

/**
 * Runs a transaction again when PostgreSQL chose it as a deadlock's victim (40P01): deleting an
 * account cascades through rows another deletion may be deleting in another order (a friendship,
 * both ways). Three tries.
 */
async function deadlockRetried<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= 3 || sqlState(error) !== '40P01') throw error;
    }
  }
}

export function createAccountService(db: AppDb, deps: { media: MediaService; revocations: Revocations }) {
  return {
    /**
     * Deletes the account and what is its alone; groups it owns pass on first. Its sessions are
     * revoked on every instance and its files removed once the deletion has committed.
     */
    async delete(userId: string): Promise<void> {
      const { sessionIds, files } = await deadlockRetried(() => db.transaction((tx) => deleteIn(tx, userId)));
      await deps.revocations.revoke(sessionIds);
      await deps.media.removeFiles(files);
    },

    /**
     * What the API stores about the user, of the kinds given (an older version of the export has
     * fewer), kind by kind, a keyset batch at a time as the caller asks.
     */
    async *export<K extends ExportKind>(userId: string, kinds: readonly K[]): AsyncIterable<{ kind: K; record: Record<string, unknown> }> {
      for (const section of SECTIONS) {
        if (!kinds.includes(section.kind as K)) continue;
        const key = sql.raw(section.key.map((column) => `t.${column}`).join(', '));
        const omit = section.omit?.length ? sql.raw(` - ARRAY[${section.omit.map((c) => `'${c}'`).join(', ')}]`) : sql``;
        let after: unknown[] | undefined;
        for (;;) {
          const { rows } = await db.execute<{ record: Record<string, unknown>; position: unknown[] }>(sql`
            SELECT to_jsonb(t)${omit} AS record, jsonb_build_array(${key}) AS position
            FROM ${sql.raw(section.table)} t
            WHERE t.${sql.raw(section.owner)} = ${userId}
              ${
                after
                  ? sql`AND (${key}) > (${sql.join(
                      after.map((value) => sql`${value}`),
                      sql`, `,
                    )})`
                  : sql``
              }
            ORDER BY ${key} LIMIT ${EXPORT_BATCH}`);
          for (const row of rows) yield { kind: section.kind as K, record: row.record };
          if (rows.length < EXPORT_BATCH) break;
          after = rows.at(-1)!.position;
        }
      }
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;
