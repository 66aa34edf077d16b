import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { AppDb } from '../db/database';
import { before, type PageKey } from '../db/keyset';
import { conversationMembers, conversations, messages, users, type ConversationKind } from '../db/schema';
import type { MessageRecord } from './messages';
import { blockedEitherWay } from './social';

/** Conversations, their members and the members' read markers: storage only, no rules. */
export type ConversationRecord = typeof conversations.$inferSelect;

/** A conversation as one member sees it. */
export interface ConversationView {
  conversation: ConversationRecord;
  memberIds: string[];
  lastMessage: MessageRecord | null;
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

export type Access = 'member' | 'not-member' | 'missing';

/** One conversation per pair of people, whichever of them starts it. */
export function directKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

export function createConversationStore(db: AppDb) {
  const lastMessage = db
    .select()
    .from(messages)
    .where(eq(messages.conversationId, conversations.id))
    .orderBy(desc(messages.createdAt), desc(messages.id))
    .limit(1)
    .as('last_message');
  const unread = alias(messages, 'unread');
  const partner = alias(conversationMembers, 'partner');

  /** Every view query starts from the caller's membership rows, so it only ever sees their conversations. */
  async function views(userId: string, condition: SQL | undefined, limit: number): Promise<ConversationView[]> {
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
        },
        unreadCount: sql<number>`(
          SELECT count(*)::int FROM ${messages} AS ${unread}
          WHERE ${unread.conversationId} = ${conversations.id}
            AND ${unread.senderId} <> ${conversationMembers.userId}
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
      .where(and(eq(conversationMembers.userId, userId), condition))
      .orderBy(desc(conversations.lastActivityAt), desc(conversations.id))
      .limit(limit);
    const members = await membersOf(rows.map((row) => row.conversation.id));
    return rows.map((row) => ({ ...row, memberIds: members.get(row.conversation.id) ?? [] }));
  }

  async function membersOf(conversationIds: string[]): Promise<Map<string, string[]>> {
    const byConversation = new Map<string, string[]>();
    if (conversationIds.length === 0) return byConversation;
    const rows = await db
      .select({ conversationId: conversationMembers.conversationId, userId: conversationMembers.userId })
      .from(conversationMembers)
      .where(inArray(conversationMembers.conversationId, conversationIds))
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

    /** Whether a block stands between two users, whoever blocked. */
    async blockBetween(a: string, b: string, on: AppDb = db): Promise<boolean> {
      const [row] = await on
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.id, b), blockedEitherWay(a, users.id)));
      return row !== undefined;
    },

    /** A conversation's kind and members (in the order they joined), or undefined when there is none. */
    async membership(conversationId: string, on: AppDb = db): Promise<{ kind: ConversationKind; memberIds: string[] } | undefined> {
      const rows = await on
        .select({ kind: conversations.kind, userId: conversationMembers.userId })
        .from(conversations)
        .leftJoin(conversationMembers, eq(conversationMembers.conversationId, conversations.id))
        .where(eq(conversations.id, conversationId))
        .orderBy(asc(conversationMembers.joinedAt), asc(conversationMembers.userId));
      if (rows.length === 0) return undefined;
      return { kind: rows[0]!.kind, memberIds: rows.flatMap((row) => (row.userId ? [row.userId] : [])) };
    },

    async access(conversationId: string, userId: string): Promise<Access> {
      const [row] = await db
        .select({ member: conversationMembers.userId })
        .from(conversations)
        .leftJoin(
          conversationMembers,
          and(eq(conversationMembers.conversationId, conversations.id), eq(conversationMembers.userId, userId)),
        )
        .where(eq(conversations.id, conversationId));
      if (!row) return 'missing';
      return row.member ? 'member' : 'not-member';
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
