import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { AppDb } from '../db/database';
import { after, before, toPage, type PageKey } from '../db/keyset';
import { conversations, messageDeliveries, messages, type ConversationKind } from '../db/schema';
import { shownTo } from './hidden';
import { blockedEitherWay } from './social';

/** Messages and their delivery confirmations: storage only, no rules. */
export type MessageRecord = typeof messages.$inferSelect;

export interface NewMessageRecord {
  conversationId: string;
  senderId: string;
  clientKey: string;
  body: string;
}

export function createMessageStore(db: AppDb) {
  return {
    /**
     * Stores a message unless its sender already stored one with this client key; then that one is
     * answered instead, and nothing changes.
     *
     * Sends to one conversation take turns on its row, and each message is stamped after the
     * previous one (at least 1 ms later), so within a conversation (created_at, id) order is the
     * order of commits: a reader catching up `after` a message can never miss one committed later
     * with an earlier time. The unique (sender_id, client_key) index settles concurrent resends.
     *
     * In the caller's transaction when given one (so what the message causes commits with it), else in its own.
     */
    async insert(input: NewMessageRecord, within?: AppDb): Promise<{ message: MessageRecord; created: boolean }> {
      const store = async (tx: AppDb) => {
        const [turn] = await tx
          .select({
            at: sql<Date>`greatest(clock_timestamp()::timestamptz(3), ${conversations.lastActivityAt} + interval '1 millisecond')`.mapWith(
              conversations.lastActivityAt,
            ),
          })
          .from(conversations)
          .where(eq(conversations.id, input.conversationId))
          .for('update');
        if (!turn) throw new Error(`Conversation ${input.conversationId} is gone`);
        const [inserted] = await tx
          .insert(messages)
          .values({ ...input, createdAt: turn.at })
          .onConflictDoNothing({ target: [messages.senderId, messages.clientKey] })
          .returning();
        if (inserted)
          await tx.update(conversations).set({ lastActivityAt: inserted.createdAt }).where(eq(conversations.id, input.conversationId));
        return inserted;
      };
      const stored = await (within ? store(within) : db.transaction(store));
      if (stored) return { message: stored, created: true };
      const [existing] = await (within ?? db)
        .select()
        .from(messages)
        .where(and(eq(messages.senderId, input.senderId), eq(messages.clientKey, input.clientKey)));
      if (!existing) throw new Error('A message conflicted on its client key but cannot be found');
      return { message: existing, created: false };
    },

    /**
     * A message, with its conversation's kind and whether a block stands between its sender and
     * `viewerId` (whoever blocked).
     */
    async get(id: string, viewerId: string): Promise<{ message: MessageRecord; kind: ConversationKind; acrossBlock: boolean } | undefined> {
      const [row] = await db
        .select({
          message: messages,
          kind: conversations.kind,
          acrossBlock: sql<boolean>`${blockedEitherWay(viewerId, messages.senderId)}`,
        })
        .from(messages)
        .innerJoin(conversations, eq(conversations.id, messages.conversationId))
        .where(eq(messages.id, id));
      return row;
    },

    /**
     * Newest first from `before`, or oldest first from `after`: one keyset page either way, through
     * messages_conversation_created_at_id_idx. With `hiddenFrom`, less the messages whose sender is
     * across a block with that user (whoever blocked), probed by the blocks' keys. Messages a
     * moderator hid are left out but for their sender (`viewerId`).
     */
    async list(
      conversationId: string,
      page: { limit: number; hiddenFrom?: string; viewerId: string } & (
        | { newestFirst: true; before: PageKey | null }
        | { newestFirst: false; after: PageKey }
      ),
    ): Promise<{ items: MessageRecord[]; next: PageKey | null }> {
      const inConversation = and(
        eq(messages.conversationId, conversationId),
        page.hiddenFrom ? sql`NOT ${blockedEitherWay(page.hiddenFrom, messages.senderId)}` : undefined,
        shownTo(page.viewerId, messages.hiddenAt, messages.senderId),
      );
      const query = db
        .select()
        .from(messages)
        .limit(page.limit + 1);
      const rows = page.newestFirst
        ? await query
            .where(and(inConversation, page.before ? before(messages.createdAt, messages.id, page.before) : undefined))
            .orderBy(desc(messages.createdAt), desc(messages.id))
        : await query
            .where(and(inConversation, after(messages.createdAt, messages.id, page.after)))
            .orderBy(asc(messages.createdAt), asc(messages.id));
      return toPage(rows, page.limit);
    },

    /** Records that a user's device received a message; the time of the first record, or null when one existed. */
    async recordDelivery(messageId: string, userId: string): Promise<Date | null> {
      const [recorded] = await db
        .insert(messageDeliveries)
        .values({ messageId, userId })
        .onConflictDoNothing()
        .returning({ deliveredAt: messageDeliveries.deliveredAt });
      return recorded?.deliveredAt ?? null;
    },
  };
}

export type MessageStore = ReturnType<typeof createMessageStore>;
