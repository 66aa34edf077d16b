import { z } from 'zod';
import { clientEvent, serverEvent, Timestamp, Uuid } from '../runtime/contract';
import { DeliveryReceipt, Message, NewMessage, ReadReceipt } from './messages';
import { NotificationNew } from './notifications';
import { Comment, ReactionCounts } from './posts';

/**
 * Real-time events of Mundo Tango, served over Socket.IO at /api/v1/realtime. Rooms: `user:{id}`
 * (all of a user's devices, joined on connect), `conversation:{id}` (members), `event:{id}`
 * (anyone signed in who may see the event; its members are not listed), `group:{id}` (members; a
 * member who leaves or is removed is taken out of the group's and its conversation's rooms at once),
 * `post:{id}` (anyone who may see the post: its new comments and reaction counts; not listed).
 * Presence (online or offline, and when last seen) is shared with a user's
 * accepted friends and with the other members of a conversation once both of them have written in it
 * (a group's own conversation never counts), never across a block (whoever blocked), and with nobody
 * while the user has `showPresence` off (updateMe).
 * Every client event has a per-user rate limit: its own below, or the runtime's default.
 */
export { joinRoom, leaveRoom, roomMembers, tokenExpired } from '../runtime/contract';

export const sendMessage = clientEvent({
  name: 'message:send',
  summary: 'Send a message',
  description:
    'Acknowledged only once the message is stored, with its id and time. Resending the same clientKey ' +
    '(after a lost ack, say) returns the stored message and stores nothing twice. A direct conversation with a ' +
    'block between its two members is read-only: `CONVERSATION_READ_ONLY` for both (group conversations stay writable).',
  payload: NewMessage.extend({ conversationId: Uuid }),
  ack: Message,
  errors: ['FORBIDDEN', 'NOT_FOUND', 'CLIENT_KEY_REUSED', 'CONVERSATION_READ_ONLY'],
  // The same counter as sendMessage over REST: one budget however a device sends.
  rateLimit: { name: 'send-message', points: 120, windowSeconds: 60, key: 'user' },
});

export const confirmReceipt = clientEvent({
  name: 'message:received',
  summary: 'Confirm a message arrived on this device',
  description:
    'The sender gets one `message:delivered` per recipient, however many devices confirm, and none across a block. ' +
    '`NOT_FOUND` also for a message the confirming member does not see (listMessages).',
  payload: z.object({ messageId: Uuid }),
  ack: z.object({ messageId: Uuid }),
  errors: ['FORBIDDEN', 'NOT_FOUND'],
  // One per message and device: a busy group chat read on a few devices, with room to spare.
  rateLimit: { points: 600, windowSeconds: 60, key: 'user' },
});

const Presence = z
  .object({
    userId: Uuid,
    status: z.enum(['online', 'offline']),
    lastSeenAt: Timestamp.nullable().meta({ description: 'When the last device left; null while online or never seen' }),
  })
  .meta({ id: 'Presence' });

export const queryPresence = clientEvent({
  name: 'presence:query',
  summary: 'Ask who of some users is online',
  description:
    'Answers for yourself and for the users whose presence you may see: your accepted friends and the members of a ' +
    'conversation in which both of you have written (being added to one is not enough, and a group’s own conversation ' +
    'never counts), unless a block stands between you (whoever blocked) or they turned `showPresence` off. Anyone ' +
    'else reads as offline with `lastSeenAt` null, exactly like someone offline who was never seen.',
  payload: z.object({ userIds: z.array(Uuid).min(1).max(100) }),
  ack: z.object({ users: z.array(Presence).max(100) }),
  // An app asks when it shows a list of people; live changes come as presence:update.
  rateLimit: { points: 30, windowSeconds: 60, key: 'user' },
});

export const messageNew = serverEvent({
  name: 'message:new',
  summary: 'A message was posted in one of your conversations',
  description:
    'Sent to every device of every member, the sender’s other devices included, less the members with a block ' +
    'between them and the sender (whoever blocked). Sent again when the sender resends its clientKey (the server that ' +
    'stored it may have stopped before telling anyone): show a message once by its id.',
  payload: Message,
});

export const messageDelivered = serverEvent({
  name: 'message:delivered',
  summary: 'A recipient’s device received your message',
  payload: DeliveryReceipt,
});

export const messageRead = serverEvent({
  name: 'message:read',
  summary: 'A member read a conversation up to a message',
  description: 'Sent to the members, less those with a block between them and the reader (whoever blocked).',
  payload: ReadReceipt,
});

export const presenceChanged = serverEvent({
  name: 'presence:update',
  summary: 'Someone whose presence you see came online or went offline',
  description:
    'Sent to the people who may see the user’s presence (the rule of `presence:query`, from the user’s side): online ' +
    'with the first device, offline only when the last one leaves. Turning `showPresence` off sends `offline` with ' +
    '`lastSeenAt` null at once; turning it on sends the current status. Who is told is decided at each change: a new ' +
    'friendship, or a conversation both have now written in, counts from the next one, and after a block nothing more ' +
    'is sent either way.',
  payload: Presence,
});

export const notificationNew = serverEvent({
  name: 'notification:new',
  summary: 'You have a new notification, or one collapsed another',
  description:
    'Sent to every device of the recipient with the item as it now stands: a collapsed item comes again with ' +
    'its new actors and counts (match it by id). Not sent for a muted conversation’s messages.',
  payload: NotificationNew,
});

export const postComment = serverEvent({
  name: 'post:comment',
  summary: 'A new comment or reply on a post you are viewing',
  description: 'Sent to the `post:{id}` room, never to anyone across a block with the comment’s author. `myReaction` is null.',
  payload: Comment,
});

export const postReactions = serverEvent({
  name: 'post:reactions',
  summary: 'The reaction counts of a post you are viewing changed',
  description: 'Sent to the `post:{id}` room after each reaction, changed reaction or withdrawal.',
  payload: z.object({ postId: Uuid, reactions: ReactionCounts }).meta({ id: 'PostReactionsChanged' }),
});
