import type { z } from 'zod';
import type {
  Conversation as ConversationSchema,
  DeliveryReceipt as DeliveryReceiptSchema,
  Message as MessageSchema,
  ReadReceipt as ReadReceiptSchema,
} from '../../contracts/messages';
import { ApiError, type FieldError } from '../../runtime/server';
import type { AppDb } from '../db/database';
import type { PageKey } from '../db/keyset';
import type { ConversationKind } from '../db/schema';
import { directKey, type ConversationStore, type ConversationView, type ReadMarker } from './conversations';
import type { MessageRecord, MessageStore } from './messages';
import type { NotificationService, Notified } from './notifications';
import type { RealtimePort } from './realtime-port';
import { lockPair } from './social';

/**
 * Messaging: the one place its rules live, for the REST handlers and the socket handlers alike.
 *
 * - Only members read or write a conversation: a non-member gets ApiError FORBIDDEN, an unknown
 *   conversation NOT_FOUND.
 * - Blocks (whoever blocked) stand between two people, never between a person and a group: a user
 *   across a block cannot be named in a new conversation (answered as an unknown user, so the block
 *   is not revealed, also when their direct conversation exists), and a direct conversation between
 *   two people with a block between them is read-only (CONVERSATION_READ_ONLY on send; reading and
 *   marking read go on). Group conversations stay writable for everyone.
 * - Inputs are validated at the edge with the schemas of contracts/messages.ts (NewMessage,
 *   MarkRead, NewConversation); this service checks what needs the database. Its field errors
 *   (VALIDATION_FAILED) point into the REST request: /body/memberIds/{i}, /body/messageId, /query/after.
 * - Everything returned is in its wire form (contracts/messages.ts): ids and ISO timestamps.
 * - Real-time events, sent through the RealtimePort to every device of each recipient:
 *     `message:new`       Message          to all members (the sender's other devices too), once per message
 *     `message:read`      ReadReceipt      to all members, when a read marker moves forward
 *     `message:delivered` DeliveryReceipt  to the sender, on a recipient's first delivery confirmation
 * - A new message notifies every other member (`message` about the conversation, collapsed per
 *   conversation while unread; the notification service leaves out who muted it or is across a
 *   block), stored in the message's transaction and pushed once it committed.
 */
export type Message = z.output<typeof MessageSchema>;
export type Conversation = z.output<typeof ConversationSchema>;
export type ReadReceipt = z.output<typeof ReadReceiptSchema>;
export type DeliveryReceipt = z.output<typeof DeliveryReceiptSchema>;

export interface Page<T> {
  items: T[];
  /** Where the next page starts (hand it to the cursor codec); null on the last page. */
  next: PageKey | null;
}

export interface MessagingService {
  /**
   * Starts a conversation; the creator is always a member, and repeated ids count once. A direct
   * conversation has exactly one other member and exists once per pair: starting it again answers
   * the existing one with `created: false`. A user across a block is refused as an unknown one.
   */
  createConversation(input: {
    creatorId: string;
    kind: ConversationKind;
    memberIds: readonly string[];
    title?: string;
  }): Promise<{ conversation: Conversation; created: boolean }>;
  /** One conversation as `userId` sees it (unread count, last message). */
  getConversation(conversationId: string, userId: string): Promise<Conversation>;
  /** The user's conversations, most recently active first. `page.after` comes from a previous page's `next`. */
  listConversations(userId: string, page: { limit: number; after: PageKey | null }): Promise<Page<Conversation>>;
  /**
   * A conversation's messages, newest first; with `afterMessageId`, those sent after that message,
   * oldest first (catch-up). `page.after` comes from a previous page's `next` in the same mode.
   */
  listMessages(input: {
    conversationId: string;
    userId: string;
    afterMessageId?: string;
    page: { limit: number; after: PageKey | null };
  }): Promise<Page<Message>>;
  /**
   * Stores a message, idempotently by (sender, clientKey): a resend answers the stored message with
   * `created: false` and sends no event. The same key with another conversation or body is
   * CLIENT_KEY_REUSED; any send to a read-only conversation is CONVERSATION_READ_ONLY. On first
   * store, `message:new` goes to every member and a `message` notification to every other one.
   */
  send(input: {
    conversationId: string;
    senderId: string;
    clientKey: string;
    body: string;
  }): Promise<{ message: Message; created: boolean }>;
  /**
   * Moves the user's read marker forward to a message of the conversation, never backward, and
   * answers the marker as it stands; `moved` says whether it changed (and `message:read` went out).
   */
  markRead(input: { conversationId: string; userId: string; messageId: string }): Promise<{ receipt: ReadReceipt; moved: boolean }>;
  /**
   * A recipient's device confirms a message arrived. True on the first confirmation of that user
   * (then `message:delivered` goes to the sender); false for repeats and for the sender's own
   * devices. NOT_FOUND for an unknown message, FORBIDDEN when the user is not a member.
   */
  markDelivered(input: { messageId: string; userId: string }): Promise<boolean>;
  isMember(conversationId: string, userId: string): Promise<boolean>;
  /** Members of a conversation in the order they joined; empty for an unknown conversation. */
  memberIds(conversationId: string): Promise<string[]>;
  /** Every conversation the user is a member of. */
  conversationIdsOf(userId: string): Promise<string[]>;
}

export function createMessagingService(deps: {
  db: AppDb;
  conversations: ConversationStore;
  messages: MessageStore;
  /** Tells the other members of a new message; without it, nobody is notified. */
  notifications?: NotificationService;
  realtime: RealtimePort;
}): MessagingService {
  const { db, conversations, messages, notifications, realtime } = deps;

  async function requireMember(conversationId: string, userId: string): Promise<void> {
    const access = await conversations.access(conversationId, userId);
    if (access === 'missing') throw new ApiError('NOT_FOUND', 'No conversation with this id');
    if (access === 'not-member') throw new ApiError('FORBIDDEN', 'Only members may read or write this conversation');
  }

  /** A message of this conversation, or a field error naming where its id came from. */
  async function messageIn(conversationId: string, messageId: string, path: string): Promise<MessageRecord> {
    const message = await messages.get(messageId);
    if (message?.conversationId !== conversationId)
      throw invalid([{ path, code: 'unknown_message', message: 'No message with this id in this conversation' }]);
    return message;
  }

  async function viewOf(conversationId: string, userId: string): Promise<Conversation> {
    const view = await conversations.view(conversationId, userId);
    if (!view) throw new ApiError('NOT_FOUND', 'No conversation with this id');
    return toConversation(view);
  }

  return {
    async createConversation({ creatorId, kind, memberIds, title }) {
      const others = [...new Set(memberIds)].filter((id) => id !== creatorId);
      if (kind === 'direct' && others.length !== 1) {
        throw invalid([{ path: '/body/memberIds', code: 'custom', message: 'A direct conversation has exactly one other member' }]);
      }
      if (others.length === 0)
        throw invalid([{ path: '/body/memberIds', code: 'custom', message: 'A group needs at least one other member' }]);
      const unknown = new Set(await conversations.unreachableUsers(creatorId, others));
      if (unknown.size > 0) {
        throw invalid(
          memberIds.flatMap((id, index) =>
            unknown.has(id) ? [{ path: `/body/memberIds/${index}`, code: 'unknown_user', message: 'No user with this id' }] : [],
          ),
        );
      }
      const { id, created } = await conversations.create({
        kind,
        title: kind === 'group' ? (title ?? null) : null,
        createdBy: creatorId,
        memberIds: [creatorId, ...others],
        directKey: kind === 'direct' ? directKey(creatorId, others[0]!) : null,
      });
      return { conversation: await viewOf(id, creatorId), created };
    },

    async getConversation(conversationId, userId) {
      await requireMember(conversationId, userId);
      return viewOf(conversationId, userId);
    },

    async listConversations(userId, page) {
      const { items, next } = await conversations.list(userId, page);
      return { items: items.map(toConversation), next };
    },

    async listMessages({ conversationId, userId, afterMessageId, page }) {
      await requireMember(conversationId, userId);
      if (afterMessageId === undefined) {
        const { items, next } = await messages.list(conversationId, { limit: page.limit, newestFirst: true, before: page.after });
        return { items: items.map(toMessage), next };
      }
      const from = await messageIn(conversationId, afterMessageId, '/query/after');
      // A page cursor is always further on than the message the catch-up started from.
      const start = page.after ?? { createdAt: from.createdAt, id: from.id };
      const { items, next } = await messages.list(conversationId, { limit: page.limit, newestFirst: false, after: start });
      return { items: items.map(toMessage), next };
    },

    async send({ conversationId, senderId, clientKey, body }) {
      await requireMember(conversationId, senderId);
      const { message, created, memberIds, told } = await db.transaction(async (tx) => {
        const membership = await conversations.membership(conversationId, tx);
        if (!membership) throw new ApiError('NOT_FOUND', 'No conversation with this id');
        const { kind, memberIds } = membership;
        const partner = kind === 'direct' ? memberIds.find((id) => id !== senderId) : undefined;
        if (partner !== undefined) {
          // A block takes the same lock: a block and a send between the two take turns, so none gets in after it.
          await lockPair(tx, senderId, partner);
          if (await conversations.blockBetween(senderId, partner, tx)) {
            throw new ApiError('CONVERSATION_READ_ONLY', 'This conversation is read-only: nothing more can be sent in it');
          }
        }
        const stored = await messages.insert({ conversationId, senderId, clientKey, body }, tx);
        const others = stored.created ? memberIds.filter((id) => id !== senderId) : [];
        const told: (Notified | null)[] =
          notifications && others.length > 0
            ? await notifications.notifyMany(
                others.map((userId) => ({
                  userId,
                  actorId: senderId,
                  kind: 'message',
                  target: { type: 'conversation', id: conversationId },
                })),
                tx,
              )
            : [];
        return { ...stored, memberIds, told };
      });
      if (!created && (message.conversationId !== conversationId || message.body !== body)) {
        throw new ApiError('CLIENT_KEY_REUSED', 'This clientKey was already used for another message; send a new one');
      }
      const wire = toMessage(message);
      if (created) {
        realtime.toUsers(memberIds, 'message:new', wire);
        notifications?.publish(told);
      }
      return { message: wire, created };
    },

    async markRead({ conversationId, userId, messageId }) {
      await requireMember(conversationId, userId);
      const message = await messageIn(conversationId, messageId, '/body/messageId');
      const { marker, moved } = await conversations.moveReadMarker(userId, message);
      const receipt = toReadReceipt(marker);
      if (moved) realtime.toUsers(await conversations.memberIds(conversationId), 'message:read', receipt);
      return { receipt, moved };
    },

    async markDelivered({ messageId, userId }) {
      const message = await messages.get(messageId);
      if (!message) throw new ApiError('NOT_FOUND', 'No message with this id');
      await requireMember(message.conversationId, userId);
      if (message.senderId === userId) return false;
      const deliveredAt = await messages.recordDelivery(messageId, userId);
      if (!deliveredAt) return false;
      const receipt: DeliveryReceipt = {
        messageId,
        conversationId: message.conversationId,
        userId,
        deliveredAt: deliveredAt.toISOString(),
      };
      realtime.toUsers([message.senderId], 'message:delivered', receipt);
      return true;
    },

    async isMember(conversationId, userId) {
      return (await conversations.access(conversationId, userId)) === 'member';
    },

    memberIds: (conversationId) => conversations.memberIds(conversationId),
    conversationIdsOf: (userId) => conversations.conversationIdsOf(userId),
  };
}

function invalid(errors: FieldError[]): ApiError {
  const detail = errors.length === 1 ? errors[0]!.message : `${errors.length} fields are invalid`;
  return new ApiError('VALIDATION_FAILED', detail, { errors });
}

function toMessage(message: MessageRecord): Message {
  return { ...message, createdAt: message.createdAt.toISOString() };
}

function toConversation(view: ConversationView): Conversation {
  const { conversation } = view;
  return {
    id: conversation.id,
    kind: conversation.kind,
    title: conversation.title,
    memberIds: view.memberIds,
    createdAt: conversation.createdAt.toISOString(),
    lastMessage: view.lastMessage ? toMessage(view.lastMessage) : null,
    unreadCount: view.unreadCount,
    readOnly: view.readOnly,
  };
}

function toReadReceipt(marker: ReadMarker): ReadReceipt {
  return { ...marker, readAt: marker.readAt.toISOString() };
}
