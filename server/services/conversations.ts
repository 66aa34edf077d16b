import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { alias, type PgColumn } from 'drizzle-orm/pg-core';
import type { AppDb } from '../db/database';
import { before, type PageKey } from '../db/keyset';
import { blocks, conversationMembers, conversations, messages, users, type ConversationKind } from '../db/schema';
import type { MessageRecord } from './messages';
import { groupShown, shownTo } from './hidden';
import { blockedEitherWay } from './social';

/**
 * Conversations, their members and the members' read markers: storage, and how one member sees a
 * conversation. In a group conversation a member does not see the members across a block with
 * them (whoever blocked), nor those members' messages: not in `memberIds`, the last message or the
 * unread count (direct conversations keep both members and their history; a block makes them
 * read-only instead).
 */
export type ConversationRecord = typeof conversations.$inferSelect;

/** In a conversation of `kind`, whether `viewerId` does not see `other` (a member, or a message's sender). */
function hiddenInConversation(kind: PgColumn, viewerId: string, other: PgColumn): SQL {
  return sql`(${kind} = 'group' AND ${blockedEitherWay(viewerId, other)})`;
}

/** A conversation as one member sees it. */
export interface ConversationView {
  conversation: ConversationRecord;
  /** Less, in a group conversation, the members across a block with the viewer. */
  memberIds: string[];
  /** The newest message the viewer sees. */
  lastMessage: MessageRecord | null;
  /** Messages of others after the viewer's read marker, of those the viewer sees. */
  unreadCount: number;
  /** A direct conversation with a block between its two members. */
  readOnly: boolean;
}

export interface ReadMarker {
  conversationId: string;
  userId: string;
  messageId: string;
  readAt: Date;
}

export type Access = { is: 'member'; kind: ConversationKind } | { is: 'not-member' } | { is: 'missing' };

/** One conversation per pair of people, whichever of them starts it. */
export function directKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

export function createConversationStore(db: AppDb) {
  const unread = alias(messages, 'unread');
  const partner = alias(conversationMembers, 'partner');

  /** Every view query starts from the caller's membership rows, so it only ever sees their conversations. */
  async function views(userId: string, condition: SQL | undefined, limit: number): Promise<ConversationView[]> {
    // Newest first through messages_conversation_created_at_id_idx, to the first the caller sees.
    const lastMessage = db
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.conversationId, conversations.id),
          sql`NOT ${hiddenInConversation(conversations.kind, userId, messages.senderId)}`,
          shownTo(userId, messages.hiddenAt, messages.senderId),
        ),
      )
      .orderBy(desc(messages.createdAt), desc(messages.id))
      .limit(1)
      .as('last_message');
    const rows = await db
      .select({
        conversation: conversations,
        lastMessage: {
          id: lastMessage.id,
          conversationId: lastMessage.conversationId,
          senderId: lastMessage.senderId,
          clientKey: lastMessage.clientKey,
          body: lastMessage.body,
          createdAt: lastMessage.createdAt,
          hiddenAt: lastMessage.hiddenAt,
        },
        unreadCount: sql<number>`(
          SELECT count(*)::int FROM ${messages} AS ${unread}
          WHERE ${unread.conversationId} = ${conversations.id}
            AND ${unread.senderId} <> ${conversationMembers.userId}
            AND NOT ${hiddenInConversation(conversations.kind, userId, unread.senderId)}
            AND ${unread.hiddenAt} IS NULL
            AND (${conversationMembers.lastReadCreatedAt} IS NULL
              OR (${unread.createdAt}, ${unread.id}) > (${conversationMembers.lastReadCreatedAt}, ${conversationMembers.lastReadMessageId}))
        )`,
        readOnly: sql<boolean>`(${conversations.kind} = 'direct' AND EXISTS (
          SELECT 1 FROM ${conversationMembers} AS ${partner}
          WHERE ${partner.conversationId} = ${conversations.id} AND ${partner.userId} <> ${userId}
            AND ${blockedEitherWay(userId, partner.userId)}
        ))`,
      })
      .from(conversationMembers)
      .innerJoin(conversations, eq(conversations.id, conversationMembers.conversationId))
      .leftJoinLateral(lastMessage, sql`true`)
      // A hidden group's conversation goes with it, for everyone: frozen, its owner's too.
      .where(and(eq(conversationMembers.userId, userId), groupShown(null, conversations.groupId), condition))
      .orderBy(desc(conversations.lastActivityAt), desc(conversations.id))
      .limit(limit);
    const members = await membersOf(
      rows.map((row) => row.conversation.id),
      userId,
    );
    return rows.map((row) => ({ ...row, memberIds: members.get(row.conversation.id) ?? [] }));
  }

  /** The members of each conversation in the order they joined; with a viewer, as that viewer sees them. */
  async function membersOf(conversationIds: string[], viewerId?: string): Promise<Map<string, string[]>> {
    const byConversation = new Map<string, string[]>();
    if (conversationIds.length === 0) return byConversation;
    const rows = await db
      .select({ conversationId: conversationMembers.conversationId, userId: conversationMembers.userId })
      .from(conversationMembers)
      .innerJoin(conversations, eq(conversations.id, conversationMembers.conversationId))
      .where(
        and(
          inArray(conversationMembers.conversationId, conversationIds),
          viewerId ? sql`NOT ${hiddenInConversation(conversations.kind, viewerId, conversationMembers.userId)}` : undefined,
        ),
      )
      .orderBy(asc(conversationMembers.joinedAt), asc(conversationMembers.userId));
    for (const { conversationId, userId } of rows) {
      const list = byConversation.get(conversationId);
      if (list) list.push(userId);
      else byConversation.set(conversationId, [userId]);
    }
    return byConversation;
  }

  return {
    /**
     * Stores a conversation with its members, or, for a direct pair that already talks, finds theirs
     * (the unique direct_key settles two people starting it at the same moment).
     */
    async create(input: {
      kind: ConversationKind;
      title: string | null;
      createdBy: string;
      memberIds: string[];
      directKey: string | null;
    }): Promise<{ id: string; created: boolean }> {
      return db.transaction(async (tx) => {
        const [inserted] = await tx
          .insert(conversations)
          .values({ kind: input.kind, title: input.title, createdBy: input.createdBy, directKey: input.directKey })
          .onConflictDoNothing({ target: conversations.directKey })
          .returning({ id: conversations.id });
        if (!inserted) {
          const [existing] = await tx
            .select({ id: conversations.id })
            .from(conversations)
            .where(eq(conversations.directKey, input.directKey!));
          if (!existing) throw new Error('A direct conversation conflicted on its key but cannot be found');
          return { id: existing.id, created: false };
        }
        await tx.insert(conversationMembers).values(input.memberIds.map((userId) => ({ conversationId: inserted.id, userId })));
        return { id: inserted.id, created: true };
      });
    },

    /** The ids among `ids` that belong to no user, or to one with a block between them and `userId` (whoever blocked). */
    async unreachableUsers(userId: string, ids: string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const found = await db
        .select({ id: users.id })
        .from(users)
        .where(and(inArray(users.id, ids), sql`NOT ${blockedEitherWay(userId, users.id)}`));
      const reachable = new Set(found.map((row) => row.id));
      return ids.filter((id) => !reachable.has(id));
    },

    /** The blocks among `ids` (whoever blocked), as pairs in no particular order: by blocks_pkey. */
    async blocksAmong(ids: string[]): Promise<[string, string][]> {
      if (ids.length < 2) return [];
      const rows = await db
        .select({ blocker: blocks.blockerId, blocked: blocks.blockedId })
        .from(blocks)
        .where(and(inArray(blocks.blockerId, ids), inArray(blocks.blockedId, ids)));
      return rows.map((row) => [row.blocker, row.blocked]);
    },

    /** Whether a block stands between two users, whoever blocked. */
    async blockBetween(a: string, b: string, on: AppDb = db): Promise<boolean> {
      const [row] = await on
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.id, b), blockedEitherWay(a, users.id)));
      return row !== undefined;
    },

    /**
     * A conversation's kind and members (in the order they joined), or undefined when there is none
     * (or it is a hidden group's); `acrossBlock` are the members with a block between them and
     * `userId` (whoever blocked), whom nothing `userId` does in it reaches.
     */
    async membership(
      conversationId: string,
      userId: string,
      on: AppDb = db,
    ): Promise<{ kind: ConversationKind; memberIds: string[]; acrossBlock: string[] } | undefined> {
      const rows = await on
        .select({
          kind: conversations.kind,
          userId: conversationMembers.userId,
          blocked: sql<boolean>`${blockedEitherWay(userId, conversationMembers.userId)}`,
        })
        .from(conversations)
        .leftJoin(conversationMembers, eq(conversationMembers.conversationId, conversations.id))
        // A hidden group's conversation is as missing, as in `access`.
        .where(and(eq(conversations.id, conversationId), groupShown(null, conversations.groupId)))
        .orderBy(asc(conversationMembers.joinedAt), asc(conversationMembers.userId));
      if (rows.length === 0) return undefined;
      const members = rows.flatMap((row) => (row.userId ? [{ id: row.userId, blocked: row.blocked }] : []));
      return {
        kind: rows[0]!.kind,
        memberIds: members.map((member) => member.id),
        acrossBlock: members.filter((member) => member.blocked).map((member) => member.id),
      };
    },

    /** Whether the user is a member, and then the conversation's kind. */
    async access(conversationId: string, userId: string): Promise<Access> {
      const [row] = await db
        .select({ kind: conversations.kind, member: conversationMembers.userId })
        .from(conversations)
        .leftJoin(
          conversationMembers,
          and(eq(conversationMembers.conversationId, conversations.id), eq(conversationMembers.userId, userId)),
        )
        // A hidden group's conversation is as missing, for everyone (its owner could otherwise still
        // write to members who no longer see it).
        .where(and(eq(conversations.id, conversationId), groupShown(null, conversations.groupId)));
      if (!row) return { is: 'missing' };
      return row.member ? { is: 'member', kind: row.kind } : { is: 'not-member' };
    },

    async view(conversationId: string, userId: string): Promise<ConversationView | undefined> {
      return (await views(userId, eq(conversations.id, conversationId), 1))[0];
    },

    /** The caller's conversations, most recently active first; `after` is a (last_activity_at, id) key. */
    async list(
      userId: string,
      page: { limit: number; after: PageKey | null },
    ): Promise<{ items: ConversationView[]; next: PageKey | null }> {
      const rows = await views(
        userId,
        page.after ? before(conversations.lastActivityAt, conversations.id, page.after) : undefined,
        page.limit + 1,
      );
      const items = rows.slice(0, page.limit);
      const last = items.at(-1)?.conversation;
      return { items, next: rows.length > page.limit && last ? { createdAt: last.lastActivityAt, id: last.id } : null };
    },

    async memberIds(conversationId: string): Promise<string[]> {
      return (await membersOf([conversationId])).get(conversationId) ?? [];
    },

    async conversationIdsOf(userId: string): Promise<string[]> {
      const rows = await db
        .select({ id: conversationMembers.conversationId })
        .from(conversationMembers)
        .where(eq(conversationMembers.userId, userId))
        .orderBy(asc(conversationMembers.conversationId));
      return rows.map((row) => row.id);
    },

    /**
     * Moves a member's read marker to a message if that is further on in the conversation, and
     * answers with the marker as it then stands. A marker that was already further stays put.
     */
    async moveReadMarker(userId: string, message: MessageRecord): Promise<{ marker: ReadMarker; moved: boolean }> {
      const member = and(eq(conversationMembers.conversationId, message.conversationId), eq(conversationMembers.userId, userId));
      const [moved] = await db
        .update(conversationMembers)
        .set({ lastReadMessageId: message.id, lastReadCreatedAt: message.createdAt, readAt: sql`now()` })
        .where(
          and(
            member,
            sql`(${conversationMembers.lastReadCreatedAt} IS NULL
              OR (${conversationMembers.lastReadCreatedAt}, ${conversationMembers.lastReadMessageId})
                < (${message.createdAt.toISOString()}::timestamptz, ${message.id}::uuid))`,
          ),
        )
        .returning();
      const row = moved ?? (await db.select().from(conversationMembers).where(member))[0];
      if (!row?.lastReadMessageId || !row.readAt) throw new Error('The read marker of a member is missing after moving it');
      return {
        marker: { conversationId: row.conversationId, userId: row.userId, messageId: row.lastReadMessageId, readAt: row.readAt },
        moved: moved !== undefined,
      };
    },
  };
}

export type ConversationStore = ReturnType<typeof createConversationStore>;
