import { z } from 'zod';
import { endpoint, paginated, Timestamp, Uuid } from '../runtime/contract';

/** How many of the latest actors an item names; the rest are counted ("Ana, Ben and 3 others"). */
export const MAX_NAMED_ACTORS = 3;

export const NotificationKind = z
  .enum([
    'new_follower',
    'friend_request',
    'friend_accepted',
    'group_invite',
    'group_join_request',
    'group_join_answered',
    'event_rsvp',
    'message',
    'event_changed',
    'event_cancelled',
    'post_mention',
    'post_comment',
    'comment_reply',
    'post_reaction',
    'memory_tag',
  ])
  .meta({ id: 'NotificationKind', description: 'What happened' });

export const NotificationTargetType = z
  .enum(['user', 'group', 'event', 'conversation', 'post', 'memory'])
  .meta({ id: 'NotificationTargetType', description: 'What kind of thing a notification is about' });

export const NotificationTarget = z.object({ type: NotificationTargetType, id: Uuid }).meta({
  id: 'NotificationTarget',
  description:
    'What the notification is about: the recipient (`user`) for follows and friend requests, the group, ' +
    'the event, the conversation, the post (mentions, comments, replies and reactions), or the memory (tags)',
});

const NotificationActor = z
  .object({
    id: Uuid,
    username: z.string().max(30),
    displayName: z.string().max(80),
    avatarUrl: z.string().max(2048).nullable(),
  })
  .meta({ id: 'NotificationActor', description: 'Someone who did what a notification tells' });

export const Notification = z
  .object({
    id: Uuid,
    kind: NotificationKind,
    target: NotificationTarget,
    actors: z
      .array(NotificationActor)
      .max(MAX_NAMED_ACTORS)
      .meta({ description: `The latest people who did it, newest first (at most ${MAX_NAMED_ACTORS})` }),
    actorCount: z.number().int().min(1).meta({ description: 'How many different people did it: "Ana and 3 others" is 4' }),
    count: z.number().int().min(1).meta({ description: 'How many times it happened while unread (five messages from one person count 5)' }),
    read: z.boolean(),
    readAt: Timestamp.nullable(),
    createdAt: Timestamp.meta({ description: 'When it first happened' }),
    updatedAt: Timestamp.meta({ description: 'When it last happened: the order of the list' }),
  })
  .meta({
    id: 'Notification',
    description:
      'Something that happened to you. While unread, further notifications of the same kind about the same ' +
      'target collapse into this one item (its actors, counts and `updatedAt` move); once read, the next one ' +
      'starts a new item.',
    example: {
      id: '3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b',
      kind: 'new_follower',
      target: { type: 'user', id: '5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10' },
      actors: [
        {
          id: '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d',
          username: 'ana.milonguera',
          displayName: 'Ana',
          avatarUrl: null,
          avatarMediaId: null,
        },
      ],
      actorCount: 4,
      count: 4,
      read: false,
      readAt: null,
      createdAt: '2026-12-03T21:00:00.000Z',
      updatedAt: '2026-12-03T22:30:00.000Z',
    },
  });

export const NotificationNew = z
  .object({
    notification: Notification,
    unreadCount: z.number().int().min(0).meta({ description: 'Unread items after this one, for the badge' }),
  })
  .meta({ id: 'NotificationNew', description: 'A notification as it now stands, and the unread count' });

export const UnreadCount = z
  .object({ count: z.number().int().min(0).meta({ description: 'Unread items (a collapsed item counts once)' }) })
  .meta({ id: 'UnreadCount' });

export const MarkAllRead = z
  .object({
    until: Timestamp.optional().meta({
      description:
        'Only items whose `updatedAt` is at or before this (the newest one the reader saw), so one arriving ' +
        'meanwhile stays unread; everything when absent',
    }),
  })
  .meta({ id: 'MarkAllRead', example: { until: '2026-12-03T22:30:00.000Z' } });

export const MarkedRead = z
  .object({ marked: z.number().int().min(0).meta({ description: 'Items that were unread and are now read' }) })
  .meta({ id: 'MarkedRead' });

export const ConversationMute = z
  .object({ conversationId: Uuid, muted: z.boolean() })
  .meta({ id: 'ConversationMute', description: 'Whether the caller gets `message` notifications from a conversation' });

const NotificationParams = z.object({ notificationId: Uuid });
const ConversationParams = z.object({ conversationId: Uuid });
const yoursOnly = 'A notification of someone else answers 404, as one that does not exist.';
const membersOnly = 'Only members mute a conversation; for anyone else it answers 404, as one that does not exist.';

export const listNotifications = endpoint({
  method: 'GET',
  version: 1,
  path: '/notifications',
  operationId: 'listNotifications',
  summary: 'List my notifications',
  description:
    'Most recently updated first. An item that collapses another notification while the caller pages moves to ' +
    'the top, where the real-time `notification:new` event announces it.',
  tags: ['notifications'],
  auth: 'user',
  query: z.object({
    unread: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .optional()
      .meta({ description: '`true`: only unread items' }),
  }),
  response: paginated(Notification),
});

export const countUnreadNotifications = endpoint({
  method: 'GET',
  version: 1,
  path: '/notifications/unread-count',
  operationId: 'countUnreadNotifications',
  summary: 'Count my unread notifications',
  tags: ['notifications'],
  auth: 'user',
  response: { status: 200, body: UnreadCount },
});

export const markNotificationRead = endpoint({
  method: 'POST',
  version: 1,
  path: '/notifications/{notificationId}/read',
  operationId: 'markNotificationRead',
  summary: 'Mark a notification read',
  description: `Marking a read one again changes nothing. ${yoursOnly}`,
  tags: ['notifications'],
  auth: 'user',
  params: NotificationParams,
  response: { status: 200, body: Notification },
  errors: ['NOT_FOUND'],
});

export const markAllNotificationsRead = endpoint({
  method: 'POST',
  version: 1,
  path: '/notifications/read',
  operationId: 'markAllNotificationsRead',
  summary: 'Mark all my notifications read',
  tags: ['notifications'],
  auth: 'user',
  body: MarkAllRead,
  response: { status: 200, body: MarkedRead },
});

export const deleteNotification = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/notifications/{notificationId}',
  operationId: 'deleteNotification',
  summary: 'Delete a notification',
  description: yoursOnly,
  tags: ['notifications'],
  auth: 'user',
  params: NotificationParams,
  response: { status: 204 },
  errors: ['NOT_FOUND'],
});

export const muteConversation = endpoint({
  method: 'PUT',
  version: 1,
  path: '/conversations/{conversationId}/mute',
  operationId: 'muteConversation',
  summary: 'Mute a conversation',
  description: `No \`message\` notifications from it until unmuted; its messages still arrive. Idempotent. ${membersOnly}`,
  tags: ['notifications'],
  auth: 'user',
  params: ConversationParams,
  response: { status: 200, body: ConversationMute },
  errors: ['NOT_FOUND'],
});

export const unmuteConversation = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/conversations/{conversationId}/mute',
  operationId: 'unmuteConversation',
  summary: 'Unmute a conversation',
  description: `Idempotent. ${membersOnly}`,
  tags: ['notifications'],
  auth: 'user',
  params: ConversationParams,
  response: { status: 200, body: ConversationMute },
  errors: ['NOT_FOUND'],
});
