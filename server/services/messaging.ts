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
 *   is not revealed, also when their direct conversation exists), nor can two people with a block
 *   between them be put in one group conversation (the later of the two named is answered as an
 *   unknown user), and a direct conversation between two people with a block between them is
 *   read-only (CONVERSATION_READ_ONLY on send; reading and marking read go on). Group conversations
 *   stay writable for everyone, but in one each member is blind to those across a block with them:
 *   neither their membership (memberIds), their messages (listMessages, lastMessage, unreadCount;
 *   one of their message ids reads as unknown), nor anything real time from them reaches the other.
 * - Inputs are validated at the edge with the schemas of contracts/messages.ts (NewMessage,
 *   MarkRead, NewConversation); this service checks what needs the database. Its field errors
 *   (VALIDATION_FAILED) point into the REST request: /body/memberIds/{i}, /body/messageId, /query/after.
 * - Everything returned is in its wire form (contracts/messages.ts): ids and ISO timestamps.
 * - Real-time events, sent through the RealtimePort to every device of each recipient:
 *     `message:new`       Message          to all members (the sender's other devices too), once per message,
 *                                          less those across a block with the sender
 *     `message:read`      ReadReceipt      to all members, when a read marker moves forward, less those
 *                                          across a block with the reader
 *     `message:delivered` DeliveryReceipt  to the sender, on a recipient's first delivery confirmation,
 *                                          unless a block stands between them
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
   * the existing one with `created: false`. A user across a block is refused as an unknown one, and
   * so is the later named of two members with a block between them.
   */
  createConversation(input: {
    creatorId: string;
    kind: ConversationKind;
    memberIds: readonly string[];
    title?: string;
  }): Promise<{ conversation: Conversation; created: boolean }>;
  /** One conversation as `userId` sees it (members, unread count, last message: less those across a block in a group). */
  getConversation(conversationId: string, userId: string): Promise<Conversation>;
  /** The user's conversations, most recently active first. `page.after` comes from a previous page's `next`. */
  listConversations(userId: string, page: { limit: number; after: PageKey | null }): Promise<Page<Conversation>>;
  /**
   * A conversation's messages, newest first; with `afterMessageId`, those sent after that message,
   * oldest first (catch-up). `page.after` comes from a previous page's `next` in the same mode. In a
   * group conversation, less the messages of senders across a block with the user.
   */
  listMessages(input: {
    conversationId: string;
    userId: string;
    afterMessageId?: string;
    page: { limit: number; after: PageKey | null };
  }): Promise<Page<Message>>;
  /**
   * Stores a message, idempotently by (sender, clientKey): a resend answers the stored message with
   * `created: false` and sends its `message:new` again — a sender resends only when it got no
   * answer, and the instance that stored it may have died before telling anyone (receivers show a
   * message once by id, as they must after catching up). The same key with another conversation or body is
   * CLIENT_KEY_REUSED; any send to a read-only conversation is CONVERSATION_READ_ONLY. On first
   * store, `message:new` goes to every member not across a block with the sender, and a `message`
   * notification to every other one (the notification service leaves out blocked pairs).
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
   * (then `message:delivered` goes to the sender); false for repeats, for the sender's own devices,
   * and across a block (then nothing is recorded or sent). NOT_FOUND for an unknown message, or one
   * the user does not see; FORBIDDEN when the user is not a member.
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

  /** The conversation's kind, once the user is known to be a member. */
  async function requireMember(conversationId: string, userId: string): Promise<ConversationKind> {
    const access = await conversations.access(conversationId, userId);
    if (access.is === 'missing') throw new ApiError('NOT_FOUND', 'No conversation with this id');
    if (access.is === 'not-member') throw notMember();
    return access.kind;
  }

  /** A message of this conversation that the user sees, or a field error naming where its id came from. */
  async function messageIn(conversationId: string, userId: string, messageId: string, path: string): Promise<MessageRecord> {
    const found = await messages.get(messageId, userId);
    if (found?.message.conversationId !== conversationId || hidden(found, userId))
      throw invalid([{ path, code: 'unknown_message', message: 'No message with this id in this conversation' }]);
    return found.message;
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
      if (kind === 'group') {
        // Of two members with a block between them, the later named is refused, as an unknown user.
        const order = (id: string) => memberIds.indexOf(id);
        const reachable = others.filter((id) => !unknown.has(id));
        for (const [a, b] of await conversations.blocksAmong(reachable)) unknown.add(order(a) > order(b) ? a : b);
      }
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
      const kind = await requireMember(conversationId, userId);
      const hiddenFrom = kind === 'group' ? userId : undefined;
      if (afterMessageId === undefined) {
        const { items, next } = await messages.list(conversationId, {
          limit: page.limit,
          hiddenFrom,
          viewerId: userId,
          newestFirst: true,
          before: page.after,
        });
        return { items: items.map(toMessage), next };
      }
      const from = await messageIn(conversationId, userId, afterMessageId, '/query/after');
      // A page cursor is always further on than the message the catch-up started from.
      const start = page.after ?? { createdAt: from.createdAt, id: from.id };
      const { items, next } = await messages.list(conversationId, {
        limit: page.limit,
        hiddenFrom,
        viewerId: userId,
        newestFirst: false,
        after: start,
      });
      return { items: items.map(toMessage), next };
    },

    async send({ conversationId, senderId, clientKey, body }) {
      const { message, created, memberIds, acrossBlock, told } = await db.transaction(async (tx) => {
        // The members, read once, answer requireMember's question too (in the transaction).
        const membership = await conversations.membership(conversationId, senderId, tx);
        if (!membership) throw new ApiError('NOT_FOUND', 'No conversation with this id');
        const { kind, memberIds, acrossBlock } = membership;
        if (!memberIds.includes(senderId)) throw notMember();
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
        return { ...stored, memberIds, acrossBlock, told };
      });
      if (!created && (message.conversationId !== conversationId || message.body !== body)) {
        throw new ApiError('CLIENT_KEY_REUSED', 'This clientKey was already used for another message; send a new one');
      }
      const wire = toMessage(message);
      // Hidden by a moderator since: its text goes to nobody again (its sender already has it).
      if (created || message.hiddenAt === null) realtime.toUsers(without(memberIds, acrossBlock), 'message:new', wire);
      if (created) notifications?.publish(told);
      return { message: wire, created };
    },

    async markRead({ conversationId, userId, messageId }) {
      await requireMember(conversationId, userId);
      const message = await messageIn(conversationId, userId, messageId, '/body/messageId');
      const { marker, moved } = await conversations.moveReadMarker(userId, message);
      const receipt = toReadReceipt(marker);
      if (moved) {
        const membership = await conversations.membership(conversationId, userId);
        if (membership) realtime.toUsers(without(membership.memberIds, membership.acrossBlock), 'message:read', receipt);
      }
      return { receipt, moved };
    },

    async markDelivered({ messageId, userId }) {
      const found = await messages.get(messageId, userId);
      if (!found) throw new ApiError('NOT_FOUND', 'No message with this id');
      const { message } = found;
      await requireMember(message.conversationId, userId);
      if (hidden(found, userId)) throw new ApiError('NOT_FOUND', 'No message with this id');
      if (message.senderId === userId || found.acrossBlock) return false;
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
      return (await conversations.access(conversationId, userId)).is === 'member';
    },

    memberIds: (conversationId) => conversations.memberIds(conversationId),
    conversationIdsOf: (userId) => conversations.conversationIdsOf(userId),
  };
}

/**
 * A message its viewer does not see: in a group conversation, from someone across a block with them;
 * hidden by a moderator, unless the viewer sent it.
 */
function hidden(found: { message: MessageRecord; kind: ConversationKind; acrossBlock: boolean }, viewerId: string): boolean {
  return (found.kind === 'group' && found.acrossBlock) || (found.message.hiddenAt !== null && found.message.senderId !== viewerId);
}

function without(userIds: readonly string[], left: readonly string[]): string[] {
  return left.length === 0 ? [...userIds] : userIds.filter((id) => !left.includes(id));
}

function invalid(errors: FieldError[]): ApiError {
  const detail = errors.length === 1 ? errors[0]!.message : `${errors.length} fields are invalid`;
  return new ApiError('VALIDATION_FAILED', detail, { errors });
}

function toMessage({ hiddenAt, ...message }: MessageRecord): Message {
  return { ...message, hidden: hiddenAt !== null, createdAt: message.createdAt.toISOString() };
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

function notMember(): ApiError {
  return new ApiError('FORBIDDEN', 'Only members may read or write this conversation');
}
