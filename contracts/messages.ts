import { z } from 'zod';
import { endpoint, paginated, Timestamp, Uuid } from '../runtime/contract';
import { Hidden } from './moderation';

/** Others a conversation can be started with at once; the caller comes on top. */
export const MAX_INVITED_MEMBERS = 100;

export const ConversationKind = z
  .enum(['direct', 'group'])
  .meta({ id: 'ConversationKind', description: '`direct`: two people, one conversation per pair; `group`: any number, with a title' });

const clientKey = z
  .string()
  .min(1)
  .max(100)
  .meta({ description: 'Chosen by the sending device (a UUID, say); resending a key returns the message already stored' });
const body = z
  .string()
  .min(1, { abort: true })
  .max(4000)
  .regex(/\S/, 'A message needs some visible text')
  .meta({ description: 'Text as written, 1–4000 characters, not only blanks' });
const title = z.string().max(100).trim().min(1);

export const Message = z
  .object({
    id: Uuid,
    conversationId: Uuid,
    senderId: Uuid,
    clientKey: z.string().max(100),
    body: z.string().max(4000),
    hidden: Hidden,
    createdAt: Timestamp,
  })
  .meta({
    id: 'Message',
    description: 'One message of a conversation',
    example: {
      id: '7a3e9c2d-1b4f-4e8a-9d6c-5f2b8a1e3c4d',
      conversationId: '2c9d4e1f-6a7b-4c8d-9e0f-1a2b3c4d5e6f',
      senderId: '5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10',
      clientKey: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a',
      body: '¿Bailamos la próxima tanda?',
      hidden: false,
      createdAt: '2026-12-03T23:15:00.000Z',
    },
  });

export const Conversation = z
  .object({
    id: Uuid,
    kind: ConversationKind,
    title: z.string().max(100).nullable().meta({ description: 'A group’s title; always null for a direct conversation' }),
    memberIds: z
      .array(Uuid)
      .max(MAX_INVITED_MEMBERS + 1)
      .meta({
        description:
          'Every member, the caller included; in a group conversation, less those with a block between them and the caller (whoever blocked)',
      }),
    createdAt: Timestamp,
    lastMessage: Message.nullable().meta({ description: 'The newest message the caller sees (listMessages); null while there is none' }),
    unreadCount: z
      .number()
      .int()
      .min(0)
      .meta({ description: 'Messages from others after the caller’s read marker, of those the caller sees (listMessages)' }),
    readOnly: z.boolean().meta({
      description:
        'True for a direct conversation whose two members have a block between them, whichever of them blocked: ' +
        'both still read it and mark it read, neither can send (409 `CONVERSATION_READ_ONLY`). A group ' +
        'conversation is never read-only: a block is between two people, not between them and the group; there ' +
        'each of the two no longer sees the other, as a member or in the messages',
    }),
  })
  .meta({
    id: 'Conversation',
    description: 'A direct or group conversation, as one of its members sees it',
    example: {
      id: '2c9d4e1f-6a7b-4c8d-9e0f-1a2b3c4d5e6f',
      kind: 'direct',
      title: null,
      memberIds: ['5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10', '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d'],
      createdAt: '2026-12-03T23:00:00.000Z',
      lastMessage: null,
      unreadCount: 0,
      readOnly: false,
    },
  });

export const NewConversation = z
  .object({
    kind: ConversationKind,
    memberIds: z
      .array(Uuid)
      .min(1)
      .max(MAX_INVITED_MEMBERS)
      .meta({ description: 'The others to talk with (the caller is always a member): exactly one for `direct`' }),
    title: title.optional().meta({ description: 'Only for a group' }),
  })
  .refine((c) => c.kind === 'group' || c.title === undefined, { path: ['title'], message: 'Only a group has a title' })
  .meta({
    id: 'NewConversation',
    example: { kind: 'group', memberIds: ['0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d'], title: 'Práctica de los martes' },
  });

/** What a device sends to post a message: over REST here, and over the socket by the real-time contract. */
export const NewMessage = z
  .object({ clientKey, body })
  .meta({ id: 'NewMessage', example: { clientKey: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', body: '¿Bailamos la próxima tanda?' } });

export const MarkRead = z
  .object({ messageId: Uuid.meta({ description: 'The newest message the reader has seen' }) })
  .meta({ id: 'MarkRead' });

export const ReadReceipt = z
  .object({
    conversationId: Uuid,
    userId: Uuid,
    messageId: Uuid.meta({ description: 'Where the reader’s marker stands: every message up to it is read' }),
    readAt: Timestamp,
  })
  .meta({ id: 'ReadReceipt', description: 'A member’s read marker in a conversation' });

/** Sent to a message's sender, in real time only, when a recipient's device first confirms it arrived. */
export const DeliveryReceipt = z
  .object({ messageId: Uuid, conversationId: Uuid, userId: Uuid, deliveredAt: Timestamp })
  .meta({ id: 'DeliveryReceipt', description: 'A recipient’s device received a message' });

const ConversationParams = z.object({ conversationId: Uuid });
const membersOnly = 'Only members may read or write a conversation (403 otherwise; 404 when there is no such conversation).';

export const createConversation = endpoint({
  method: 'POST',
  version: 1,
  path: '/conversations',
  operationId: 'createConversation',
  summary: 'Start a conversation',
  description:
    'The caller is always a member; listing them in `memberIds` changes nothing, nor do repeated ids. A direct ' +
    'conversation has exactly one other member and there is one per pair: starting it again answers 201 with ' +
    'the conversation that exists. An id with no user behind it is refused with 400, naming `/body/memberIds/{index}`; ' +
    'so is a user with a block between them and the caller, whichever blocked, even when a direct conversation ' +
    'between the two exists (it stays readable, read-only, through its id), and, in a group, the later named of ' +
    'two users with a block between them.',
  tags: ['messages'],
  auth: 'user',
  body: NewConversation,
  response: { status: 201, body: Conversation },
  rateLimit: { points: 60, windowSeconds: 3600, key: 'user' },
});

export const listConversations = endpoint({
  method: 'GET',
  version: 1,
  path: '/conversations',
  operationId: 'listConversations',
  summary: 'List my conversations',
  description:
    'Most recently active first (the newest message, or the start for a conversation without one), ties broken ' +
    'by id. A conversation that becomes active while the caller pages moves to the top, where the real-time ' +
    '`message:new` event announces it.',
  tags: ['messages'],
  auth: 'user',
  response: paginated(Conversation),
});

export const getConversation = endpoint({
  method: 'GET',
  version: 1,
  path: '/conversations/{conversationId}',
  operationId: 'getConversation',
  summary: 'Get one conversation',
  description: membersOnly,
  tags: ['messages'],
  auth: 'user',
  params: ConversationParams,
  response: { status: 200, body: Conversation },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
});

export const listMessages = endpoint({
  method: 'GET',
  version: 1,
  path: '/conversations/{conversationId}/messages',
  operationId: 'listMessages',
  summary: 'Read the messages of a conversation',
  description:
    'Newest first. With `after` (a message id), the messages sent after that one instead, oldest first: what a ' +
    'device missed while offline. Either way the pages follow `cursor`; keep `after` in the query while paging ' +
    '(the `Link` header does). In a group conversation the messages of members with a block between them and the ' +
    'caller (whoever blocked) are left out, as if never sent. An `after` that is not a message of this conversation ' +
    'the caller sees is refused with 400. ' +
    membersOnly,
  tags: ['messages'],
  auth: 'user',
  params: ConversationParams,
  query: z.object({
    after: Uuid.optional().meta({ description: 'Only messages sent after this one, oldest first' }),
  }),
  response: paginated(Message),
  errors: ['NOT_FOUND', 'FORBIDDEN'],
});

export const sendMessage = endpoint({
  method: 'POST',
  version: 1,
  path: '/conversations/{conversationId}/messages',
  operationId: 'sendMessage',
  summary: 'Send a message',
  description:
    'Idempotent by `clientKey` per sender: sending a key again (a retry after a lost answer, or from two tabs at ' +
    'once) stores nothing and answers 201 with the message stored the first time. The same key with another ' +
    'conversation or text is refused with 409 `CLIENT_KEY_REUSED`. Every member’s devices, the sender’s ' +
    'included, receive the real-time `message:new` event once (not a member across a block with the sender), and ' +
    'every other member who has not muted the ' +
    'conversation gets a `message` notification (collapsed per conversation while unread; none across a block). ' +
    'A direct conversation with a block between its two members is read-only: 409 `CONVERSATION_READ_ONLY` for ' +
    'both, resends included; group conversations stay writable. ' +
    membersOnly,
  tags: ['messages'],
  auth: 'user',
  params: ConversationParams,
  body: NewMessage,
  response: { status: 201, body: Message },
  errors: ['NOT_FOUND', 'FORBIDDEN', 'CLIENT_KEY_REUSED', 'CONVERSATION_READ_ONLY'],
  rateLimit: { name: 'send-message', points: 120, windowSeconds: 60, key: 'user' },
});

export const markRead = endpoint({
  method: 'POST',
  version: 1,
  path: '/conversations/{conversationId}/read',
  operationId: 'markRead',
  summary: 'Mark messages as read',
  description:
    'Moves the caller’s read marker forward to a message, never backward: marking an older message answers with ' +
    'the marker where it stands. Members (not those across a block with the caller) receive the real-time ' +
    '`message:read` event when the marker moves. A `messageId` that is not a message of this conversation the ' +
    'caller sees is refused with 400. ' +
    membersOnly,
  tags: ['messages'],
  auth: 'user',
  params: ConversationParams,
  body: MarkRead,
  response: { status: 200, body: ReadReceipt },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
});
