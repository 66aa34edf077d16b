import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const eventKinds = ['milonga', 'practica', 'festival', 'marathon', 'encuentro', 'class', 'workshop'] as const;
export type EventKind = (typeof eventKinds)[number];

// Millisecond precision everywhere: a keyset cursor is built from a JS Date, which holds
// milliseconds, so a microsecond column would never compare equal to its own cursor.
const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

export const events = pgTable(
  'events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizerId: uuid('organizer_id').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    kind: text('kind', { enum: eventKinds }).notNull(),
    city: text('city').notNull(),
    country: text('country'),
    venue: text('venue'),
    startsAt: instant('starts_at').notNull(),
    endsAt: instant('ends_at').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull(),
    /** At most this many `going`; null is no limit. */
    capacity: integer('capacity'),
    /** Kept by a trigger on event_rsvps (migration 0007); never written by the app. */
    goingCount: integer('going_count').notNull().default(0),
    interestedCount: integer('interested_count').notNull().default(0),
    /** The group the event belongs to (0008_groups.sql); a private group's events are for its members. */
    groupId: uuid('group_id').references((): AnyPgColumn => groups.id, { onDelete: 'cascade' }),
  },
  (table) => [
    index('events_created_at_id_idx').on(table.createdAt, table.id),
    index('events_organizer_created_at_id_idx').on(table.organizerId, table.createdAt, table.id),
    index('events_city_lower_idx').on(sql`lower(${table.city})`),
    index('events_starts_at_idx').on(table.startsAt),
    check('events_kind_check', sql`${table.kind} in (${sql.raw(eventKinds.map((kind) => `'${kind}'`).join(', '))})`),
  ],
);

export const danceRoles = ['leader', 'follower', 'both'] as const;
export const roles = ['user', 'moderator', 'admin'] as const;
export type Role = (typeof roles)[number];

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Normalized (NFKC, case-folded): the one form compared for uniqueness and login. */
    username: text('username').notNull().unique(),
    displayName: text('display_name').notNull(),
    bio: text('bio').notNull().default(''),
    city: text('city'),
    danceRole: text('dance_role', { enum: danceRoles }),
    avatarUrl: text('avatar_url'),
    /** An uploaded image shown as the avatar (0014_media.sql). */
    avatarMediaId: uuid('avatar_media_id').references((): AnyPgColumn => media.id, { onDelete: 'set null' }),
    roles: text('roles').array().notNull().$type<Role[]>(),
    passwordHash: text('password_hash').notNull(),
    /** Set on enrollment; MFA is on only once `mfa_enabled` is. */
    mfaSecret: text('mfa_secret'),
    mfaEnabled: boolean('mfa_enabled').notNull().default(false),
    /** Last TOTP time step accepted, so a code cannot be replayed. */
    mfaLastStep: bigint('mfa_last_step', { mode: 'number' }),
    /** Whether anyone sees the user's presence (0009_show_presence.sql); who does is server/services/presence.ts. */
    showPresence: boolean('show_presence').notNull().default(true),
    /** Sanctions (0018_sanctions.sql): signing in is refused until `suspended_until`, or for good once banned. */
    suspendedUntil: instant('suspended_until'),
    bannedAt: instant('banned_at'),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [index('users_created_at_id_idx').on(table.createdAt, table.id), index('users_city_lower_idx').on(sql`lower(${table.city})`)],
);

/** One signed-in device: the family of its rotating refresh tokens. */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    device: text('device'),
    ip: text('ip'),
    createdAt: instant('created_at').notNull().defaultNow(),
    lastUsedAt: instant('last_used_at').notNull().defaultNow(),
    /** Absolute end of the session, however active it is. */
    expiresAt: instant('expires_at').notNull(),
    revokedAt: instant('revoked_at'),
    revokedReason: text('revoked_reason'),
    /** Opened by a sign-in with the provider that asked the person to sign in again (0021_session_reauthentication.sql). */
    reauthenticatedAt: instant('reauthenticated_at'),
  },
  (table) => [index('sessions_user_idx').on(table.userId, table.createdAt, table.id), index('sessions_created_idx').on(table.createdAt)],
);

export const refreshTokenStatuses = ['active', 'used', 'revoked'] as const;

/** Only a SHA-256 of each token is stored (RFC 6819 §5.1.4.1.3). */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    parentId: uuid('parent_id'),
    status: text('status', { enum: refreshTokenStatuses }).notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
    /** Idle expiry: a token unused this long no longer works. */
    expiresAt: instant('expires_at').notNull(),
    usedAt: instant('used_at'),
  },
  (table) => [index('refresh_tokens_session_idx').on(table.sessionId), index('refresh_tokens_created_idx').on(table.createdAt)],
);

export const recoveryCodes = pgTable(
  'recovery_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: instant('used_at'),
  },
  (table) => [uniqueIndex('recovery_codes_user_code_idx').on(table.userId, table.codeHash)],
);

/**
 * The second step of a sign-in with MFA. The challenge token names its row (`jti` = id), so the
 * state lives in the database, shared by every instance: a challenge is spent by its first right
 * code, dies after a few wrong ones, and its failures count toward the account's limit.
 */
export const mfaChallenges = pgTable(
  'mfa_challenges',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    device: text('device'),
    failures: integer('failures').notNull().default(0),
    createdAt: instant('created_at').notNull().defaultNow(),
    expiresAt: instant('expires_at').notNull(),
    lastFailedAt: instant('last_failed_at'),
    usedAt: instant('used_at'),
  },
  (table) => [index('mfa_challenges_user_idx').on(table.userId, table.lastFailedAt)],
);

export const conversationKinds = ['direct', 'group'] as const;
export type ConversationKind = (typeof conversationKinds)[number];

export const conversations = pgTable(
  'conversations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind', { enum: conversationKinds }).notNull(),
    title: text('title'),
    /** The two member ids of a direct conversation, smaller first: one conversation per pair. */
    directKey: text('direct_key').unique(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: instant('created_at').notNull().defaultNow(),
    /** The newest message's created_at, or created_at while there is none: the order of a member's list. */
    lastActivityAt: instant('last_activity_at').notNull().defaultNow(),
    /** Set on a group's own conversation, whose members are the group's (0008_groups.sql). */
    groupId: uuid('group_id')
      .unique()
      .references((): AnyPgColumn => groups.id, { onDelete: 'cascade' }),
  },
  (table) => [
    index('conversations_last_activity_idx').on(table.lastActivityAt, table.id),
    check('conversations_kind_check', sql`${table.kind} in ('direct', 'group')`),
    check('conversations_direct_key_check', sql`(${table.kind} = 'direct') = (${table.directKey} is not null)`),
    check('conversations_title_check', sql`${table.kind} = 'group' or ${table.title} is null`),
  ],
);

/** The read marker is a position in the conversation's (created_at, id) order: the message and its created_at. */
export const conversationMembers = pgTable(
  'conversation_members',
  {
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    joinedAt: instant('joined_at').notNull().defaultNow(),
    lastReadMessageId: uuid('last_read_message_id'),
    lastReadCreatedAt: instant('last_read_created_at'),
    readAt: instant('read_at'),
    /** No `message` notifications for this member while set (0006_notifications.sql). */
    muted: boolean('muted').notNull().default(false),
  },
  (table) => [
    primaryKey({ columns: [table.conversationId, table.userId] }),
    index('conversation_members_user_idx').on(table.userId, table.conversationId),
    check(
      'conversation_members_marker_check',
      sql`(${table.lastReadMessageId} is null) = (${table.lastReadCreatedAt} is null) and (${table.lastReadMessageId} is null) = (${table.readAt} is null)`,
    ),
  ],
);

export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    senderId: uuid('sender_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Chosen by the sending device; a resend with the same key finds the stored message. */
    clientKey: text('client_key').notNull(),
    body: text('body').notNull(),
    /** Stamped while holding the conversation's row, at least 1 ms after the previous message: commit order. */
    createdAt: instant('created_at').notNull().defaultNow(),
    /** Set when a moderator hid it (0018_sanctions.sql): shown to its author only, kept for an appeal. */
    hiddenAt: instant('hidden_at'),
  },
  (table) => [
    uniqueIndex('messages_sender_client_key_idx').on(table.senderId, table.clientKey),
    index('messages_conversation_created_at_id_idx').on(table.conversationId, table.createdAt, table.id),
    index('messages_created_idx').on(table.createdAt),
    index('messages_conversation_sender_idx').on(table.conversationId, table.senderId),
  ],
);

/** A recipient's device confirmed a message arrived; one row per (message, recipient). */
export const messageDeliveries = pgTable(
  'message_deliveries',
  {
    messageId: uuid('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    deliveredAt: instant('delivered_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.messageId, table.userId] })],
);

export const notificationKinds = [
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
] as const;
export const notificationTargetTypes = ['user', 'group', 'event', 'conversation', 'post', 'memory'] as const;

/**
 * One item of a user's notifications. While unread it collects every further notification of its
 * kind about its target (the partial unique index is what `notify` upserts on); once read, the next
 * one starts a new row.
 */
export const notifications = pgTable(
  'notifications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: notificationKinds }).notNull(),
    targetType: text('target_type', { enum: notificationTargetTypes }).notNull(),
    targetId: uuid('target_id').notNull(),
    /** The latest distinct actors, newest first, at most 3. */
    actorIds: uuid('actor_ids').array().notNull(),
    actorCount: integer('actor_count').notNull().default(1),
    eventCount: integer('event_count').notNull().default(1),
    readAt: instant('read_at'),
    createdAt: instant('created_at').notNull().defaultNow(),
    /** The latest notification collapsed in: the order of the list. */
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('notifications_unread_item_idx')
      .on(table.userId, table.kind, table.targetType, table.targetId)
      .where(sql`${table.readAt} is null`),
    index('notifications_user_updated_idx').on(table.userId, table.updatedAt, table.id),
    index('notifications_user_unread_updated_idx').on(table.userId, table.updatedAt, table.id).where(sql`${table.readAt} is null`),
  ],
);

/** Every distinct actor of a notification item, so a person counts once however often they act. */
export const notificationActors = pgTable(
  'notification_actors',
  {
    notificationId: uuid('notification_id')
      .notNull()
      .references(() => notifications.id, { onDelete: 'cascade' }),
    actorId: uuid('actor_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
  },
  (table) => [primaryKey({ columns: [table.notificationId, table.actorId] })],
);

export const rsvpStatuses = ['going', 'interested'] as const;
export type RsvpStatus = (typeof rsvpStatuses)[number];

/** One user's answer to one event; writing one changes the event's counts (trigger in migration 0007). */
export const eventRsvps = pgTable(
  'event_rsvps',
  {
    eventId: uuid('event_id')
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    status: text('status', { enum: rsvpStatuses }).notNull(),
    /** When the current status was chosen: the attendee list's order. */
    respondedAt: instant('responded_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.eventId, table.userId] }),
    index('event_rsvps_event_responded_idx').on(table.eventId, table.respondedAt, table.userId),
    index('event_rsvps_event_status_responded_idx').on(table.eventId, table.status, table.respondedAt, table.userId),
    index('event_rsvps_user_idx').on(table.userId, table.eventId),
  ],
);

/** Who follows whom (0005_social_graph.sql). */
export const follows = pgTable(
  'follows',
  {
    followerId: uuid('follower_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    followeeId: uuid('followee_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.followerId, table.followeeId] }),
    index('follows_followee_idx').on(table.followeeId, table.createdAt, table.followerId),
    index('follows_follower_idx').on(table.followerId, table.createdAt, table.followeeId),
    check('follows_not_self', sql`${table.followerId} <> ${table.followeeId}`),
  ],
);

/** Pending friend requests; at most one per pair, whichever way (friend_requests_pair_idx). */
export const friendRequests = pgTable(
  'friend_requests',
  {
    requesterId: uuid('requester_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    addresseeId: uuid('addressee_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.requesterId, table.addresseeId] }),
    uniqueIndex('friend_requests_pair_idx').on(
      sql`least(${table.requesterId}, ${table.addresseeId})`,
      sql`greatest(${table.requesterId}, ${table.addresseeId})`,
    ),
    index('friend_requests_incoming_idx').on(table.addresseeId, table.createdAt, table.requesterId),
    index('friend_requests_outgoing_idx').on(table.requesterId, table.createdAt, table.addresseeId),
    check('friend_requests_not_self', sql`${table.requesterId} <> ${table.addresseeId}`),
  ],
);

/** A friendship is two mirrored rows, one per side, written and deleted together. */
export const friendships = pgTable(
  'friendships',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    friendId: uuid('friend_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.userId, table.friendId] }),
    index('friendships_user_idx').on(table.userId, table.createdAt, table.friendId),
    check('friendships_not_self', sql`${table.userId} <> ${table.friendId}`),
  ],
);

export const blocks = pgTable(
  'blocks',
  {
    blockerId: uuid('blocker_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    blockedId: uuid('blocked_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: instant('created_at').notNull().defaultNow(),
    /** The blocker could see the blocked user when blocking: only such blocks are listed to the blocker. */
    listed: boolean('listed').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.blockerId, table.blockedId] }),
    index('blocks_blocker_idx').on(table.blockerId, table.createdAt, table.blockedId),
    index('blocks_blocked_idx').on(table.blockedId, table.blockerId),
    check('blocks_not_self', sql`${table.blockerId} <> ${table.blockedId}`),
  ],
);

export const groupKinds = ['community', 'school', 'orchestra', 'city'] as const;
export type GroupKind = (typeof groupKinds)[number];
export const groupVisibilities = ['public', 'private'] as const;
export type GroupVisibility = (typeof groupVisibilities)[number];
export const groupRoles = ['owner', 'admin', 'member'] as const;
export type GroupRole = (typeof groupRoles)[number];
export const groupRequestKinds = ['join', 'invite'] as const;

/** Groups, their members and pending requests and invitations (0008_groups.sql). */
export const groups = pgTable(
  'groups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    kind: text('kind', { enum: groupKinds }).notNull(),
    city: text('city'),
    visibility: text('visibility', { enum: groupVisibilities }).notNull(),
    /** Kept by a trigger on group_members; never written by the app. */
    memberCount: integer('member_count').notNull().default(0),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
    /** Set when a moderator hid it (0018_sanctions.sql): shown to its author only, kept for an appeal. */
    hiddenAt: instant('hidden_at'),
  },
  (table) => [
    index('groups_created_idx').on(table.createdAt, table.id),
    index('groups_city_created_idx').on(sql`lower(${table.city})`, table.createdAt, table.id),
  ],
);

export const groupMembers = pgTable(
  'group_members',
  {
    groupId: uuid('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: groupRoles }).notNull(),
    joinedAt: instant('joined_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.groupId, table.userId] }),
    uniqueIndex('group_members_owner_idx').on(table.groupId).where(sql`${table.role} = 'owner'`),
    index('group_members_group_joined_idx').on(table.groupId, table.joinedAt, table.userId),
    index('group_members_user_joined_idx').on(table.userId, table.joinedAt, table.groupId),
  ],
);

export const groupRequests = pgTable(
  'group_requests',
  {
    groupId: uuid('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** `join`: asked by the user, waiting for an admin; `invite`: made by a member, waiting for the user. */
    kind: text('kind', { enum: groupRequestKinds }).notNull(),
    invitedBy: uuid('invited_by').references(() => users.id, { onDelete: 'cascade' }),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.groupId, table.userId] }),
    index('group_requests_group_idx').on(table.groupId, table.kind, table.createdAt, table.userId),
    index('group_requests_user_idx').on(table.userId, table.kind, table.createdAt, table.groupId),
  ],
);

export const postVisibilities = ['public', 'friends', 'group'] as const;
export type PostVisibility = (typeof postVisibilities)[number];
export const reactionKinds = ['like', 'love', 'tango', 'laugh', 'sad'] as const;
export type ReactionKind = (typeof reactionKinds)[number];

/** Reaction counts, kept by triggers on the reaction tables (0010_posts.sql); never written by the app. */
const reactionCounts = () => ({
  likeCount: integer('like_count').notNull().default(0),
  loveCount: integer('love_count').notNull().default(0),
  tangoCount: integer('tango_count').notNull().default(0),
  laughCount: integer('laugh_count').notNull().default(0),
  sadCount: integer('sad_count').notNull().default(0),
});

/** Posts, comments and reactions (0010_posts.sql). */
export const posts = pgTable(
  'posts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    authorId: uuid('author_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    body: text('body').notNull(),
    mentionIds: uuid('mention_ids').array().notNull().default(sql`'{}'`),
    hashtags: text('hashtags').array().notNull().default(sql`'{}'`),
    visibility: text('visibility', { enum: postVisibilities }).notNull(),
    groupId: uuid('group_id').references(() => groups.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id').references(() => events.id, { onDelete: 'set null' }),
    city: text('city'),
    commentCount: integer('comment_count').notNull().default(0),
    ...reactionCounts(),
    /** The insert's own clock: the feed's order. */
    createdAt: instant('created_at').notNull().default(sql`clock_timestamp()`),
    editedAt: instant('edited_at'),
    /** Set when a moderator hid it (0018_sanctions.sql): shown to its author only, kept for an appeal. */
    hiddenAt: instant('hidden_at'),
  },
  (table) => [
    index('posts_author_created_idx').on(table.authorId, table.createdAt, table.id),
    index('posts_created_idx').on(table.createdAt),
    index('posts_group_created_idx').on(table.groupId, table.createdAt, table.id).where(sql`${table.groupId} is not null`),
  ],
);

export const comments = pgTable(
  'comments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    parentId: uuid('parent_id').references((): AnyPgColumn => comments.id, { onDelete: 'cascade' }),
    authorId: uuid('author_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    body: text('body').notNull(),
    replyCount: integer('reply_count').notNull().default(0),
    ...reactionCounts(),
    createdAt: instant('created_at').notNull().default(sql`clock_timestamp()`),
    editedAt: instant('edited_at'),
    /** Set when a moderator hid it (0018_sanctions.sql): shown to its author only, kept for an appeal. */
    hiddenAt: instant('hidden_at'),
  },
  (table) => [
    index('comments_post_created_idx').on(table.postId, table.createdAt, table.id).where(sql`${table.parentId} is null`),
    index('comments_parent_created_idx').on(table.parentId, table.createdAt, table.id).where(sql`${table.parentId} is not null`),
  ],
);

export const postReactions = pgTable(
  'post_reactions',
  {
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: reactionKinds }).notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.postId, table.userId] }),
    index('post_reactions_post_created_idx').on(table.postId, table.createdAt, table.userId),
  ],
);

export const commentReactions = pgTable(
  'comment_reactions',
  {
    commentId: uuid('comment_id')
      .notNull()
      .references(() => comments.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: reactionKinds }).notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.commentId, table.userId] })],
);

export const memoryVisibilities = ['public', 'friends', 'private'] as const;
export type MemoryVisibility = (typeof memoryVisibilities)[number];

/** Memories and the friends tagged in them (0012_memories.sql). */
export const memories = pgTable(
  'memories',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    body: text('body').notNull().default(''),
    /** A calendar day, kept as its ISO text (YYYY-MM-DD). */
    happenedOn: date('happened_on', { mode: 'string' }).notNull(),
    city: text('city'),
    place: text('place'),
    eventId: uuid('event_id').references(() => events.id, { onDelete: 'set null' }),
    visibility: text('visibility', { enum: memoryVisibilities }).notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
    editedAt: instant('edited_at'),
    /** Set when a moderator hid it (0018_sanctions.sql): shown to its author only, kept for an appeal. */
    hiddenAt: instant('hidden_at'),
  },
  (table) => [index('memories_owner_day_idx').on(table.ownerId, table.happenedOn, table.id)],
);

export const memoryTags = pgTable(
  'memory_tags',
  {
    memoryId: uuid('memory_id')
      .notNull()
      .references(() => memories.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.memoryId, table.userId] }), index('memory_tags_user_idx').on(table.userId, table.memoryId)],
);

/** Stories and who saw them (0013_stories.sql). */
export const stories = pgTable(
  'stories',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    authorId: uuid('author_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    caption: text('caption').notNull(),
    mediaId: uuid('media_id').references(() => media.id),
    createdAt: instant('created_at').notNull().defaultNow(),
    /** Written by the database (now() + 24 hours) and compared with its now(): no instance's clock decides. */
    expiresAt: instant('expires_at').notNull().default(sql`now() + interval '24 hours'`),
    /** Kept by a trigger on story_views. */
    viewCount: integer('view_count').notNull().default(0),
    /** Set when a moderator hid it (0018_sanctions.sql): shown to its author only, kept for an appeal. */
    hiddenAt: instant('hidden_at'),
  },
  (table) => [index('stories_author_expires_idx').on(table.authorId, table.expiresAt), index('stories_expires_idx').on(table.expiresAt)],
);

export const storyViews = pgTable(
  'story_views',
  {
    storyId: uuid('story_id')
      .notNull()
      .references(() => stories.id, { onDelete: 'cascade' }),
    viewerId: uuid('viewer_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    seenAt: instant('seen_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.storyId, table.viewerId] }),
    index('story_views_story_seen_idx').on(table.storyId, table.seenAt, table.viewerId),
  ],
);

/** A finished upload (0014_media.sql); its files are under the media directory. */
export const media = pgTable(
  'media',
  {
    id: uuid('id').primaryKey(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['image', 'video'] }).notNull(),
    type: text('type').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    width: integer('width'),
    height: integer('height'),
    fileName: text('file_name').notNull(),
    thumbnailName: text('thumbnail_name'),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    index('media_owner_created_idx').on(table.ownerId, table.createdAt.desc(), table.id.desc()),
    index('media_created_idx').on(table.createdAt),
  ],
);

/** An unfinished upload's declared size, counted against its owner's quota until it ends. */
export const mediaUploads = pgTable(
  'media_uploads',
  {
    id: uuid('id').primaryKey(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [index('media_uploads_owner_idx').on(table.ownerId), index('media_uploads_created_idx').on(table.createdAt)],
);

export const postMedia = pgTable(
  'post_media',
  {
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    position: smallint('position').notNull(),
    mediaId: uuid('media_id')
      .notNull()
      .references(() => media.id),
  },
  (table) => [primaryKey({ columns: [table.postId, table.position] }), index('post_media_media_idx').on(table.mediaId)],
);

export const memoryMedia = pgTable(
  'memory_media',
  {
    memoryId: uuid('memory_id')
      .notNull()
      .references(() => memories.id, { onDelete: 'cascade' }),
    position: smallint('position').notNull(),
    mediaId: uuid('media_id')
      .notNull()
      .references(() => media.id),
  },
  (table) => [primaryKey({ columns: [table.memoryId, table.position] }), index('memory_media_media_idx').on(table.mediaId)],
);

export const reportTargetTypes = ['post', 'comment', 'story', 'memory', 'message', 'group', 'user'] as const;
export type ReportTargetType = (typeof reportTargetTypes)[number];
export const reportReasons = [
  'spam',
  'harassment',
  'hate',
  'violence',
  'sexual_content',
  'misinformation',
  'impersonation',
  'other',
] as const;
export const reportOutcomes = ['dismissed', 'hidden', 'removed', 'warned', 'suspended', 'banned'] as const;

/** What was reported, as it was when first reported (0015_reports.sql). */
export const reportTargets = pgTable(
  'report_targets',
  {
    targetType: text('target_type', { enum: reportTargetTypes }).notNull(),
    targetId: uuid('target_id').notNull(),
    authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
    snapshot: jsonb('snapshot').notNull().$type<Record<string, unknown>>(),
    firstReportedAt: instant('first_reported_at').notNull().defaultNow(),
    /** The moderator handling it (0016_moderation_actions.sql). */
    claimedBy: uuid('claimed_by').references(() => users.id, { onDelete: 'set null' }),
    claimedAt: instant('claimed_at'),
  },
  (table) => [primaryKey({ columns: [table.targetType, table.targetId] })],
);

export const reports = pgTable(
  'reports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    reporterId: uuid('reporter_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    targetType: text('target_type', { enum: reportTargetTypes }).notNull(),
    targetId: uuid('target_id').notNull(),
    reason: text('reason', { enum: reportReasons }).notNull(),
    details: text('details'),
    status: text('status', { enum: ['open', 'resolved'] })
      .notNull()
      .default('open'),
    outcome: text('outcome', { enum: reportOutcomes }),
    createdAt: instant('created_at').notNull().defaultNow(),
    resolvedAt: instant('resolved_at'),
  },
  (table) => [
    uniqueIndex('reports_open_once_idx').on(table.reporterId, table.targetType, table.targetId).where(sql`${table.status} = 'open'`),
    index('reports_reporter_created_idx').on(table.reporterId, table.createdAt.desc(), table.id.desc()),
    index('reports_open_target_idx').on(table.targetType, table.targetId).where(sql`${table.status} = 'open'`),
  ],
);

/** What a moderator did: written once, never changed. */
export const moderationActionKinds = ['dismiss', 'hide', 'remove', 'warn', 'suspend', 'ban'] as const;
export type ModerationActionKind = (typeof moderationActionKinds)[number];

export const moderationActions = pgTable(
  'moderation_actions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    moderatorId: uuid('moderator_id').references(() => users.id, { onDelete: 'set null' }),
    targetType: text('target_type', { enum: reportTargetTypes }).notNull(),
    targetId: uuid('target_id').notNull(),
    action: text('action', { enum: moderationActionKinds }).notNull(),
    reason: text('reason').notNull(),
    reportsResolved: integer('reports_resolved').notNull(),
    /** Whom the decision is about: the content's author, the user reported (0018_sanctions.sql). */
    subjectId: uuid('subject_id').references(() => users.id, { onDelete: 'set null' }),
    /** The end of a suspension. */
    until: instant('until'),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    index('moderation_actions_target_idx').on(table.targetType, table.targetId, table.createdAt),
    index('moderation_actions_subject_idx').on(table.subjectId, table.createdAt.desc(), table.id.desc()),
  ],
);

export const appealStatuses = ['open', 'upheld', 'overturned'] as const;

/** One appeal per decision (0018_sanctions.sql), answered once by another moderator. */
export const appeals = pgTable(
  'appeals',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    actionId: uuid('action_id')
      .notNull()
      .unique()
      .references(() => moderationActions.id),
    appellantId: uuid('appellant_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    statement: text('statement').notNull(),
    status: text('status', { enum: appealStatuses }).notNull().default('open'),
    decidedBy: uuid('decided_by').references(() => users.id, { onDelete: 'set null' }),
    decision: text('decision'),
    createdAt: instant('created_at').notNull().defaultNow(),
    decidedAt: instant('decided_at'),
  },
  (table) => [index('appeals_open_idx').on(table.createdAt, table.id).where(sql`${table.status} = 'open'`)],
);

export const auditKinds = [
  'role_granted',
  'role_revoked',
  'moderation_decision',
  'refresh_token_reuse',
  'mfa_enabled',
  'mfa_disabled',
  'mfa_locked',
  'appeal_decision',
  'login_locked',
  'account_deleted',
] as const;

/** Administrative and security events (0017_audit_log.sql): append-only, a trigger refuses changes. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    kind: text('kind', { enum: auditKinds }).notNull(),
    targetType: text('target_type').notNull(),
    targetId: uuid('target_id').notNull(),
    details: jsonb('details').notNull().default({}).$type<Record<string, unknown>>(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    index('audit_log_created_idx').on(table.createdAt.desc(), table.id.desc()),
    index('audit_log_actor_idx').on(table.actorId, table.createdAt.desc(), table.id.desc()),
    index('audit_log_target_idx').on(table.targetId, table.createdAt.desc(), table.id.desc()),
  ],
);

/** Daily statistics rolled up by a job (0019_statistics.sql); `key` is a city or a group id, or ''. */
export const dailyStats = pgTable(
  'daily_stats',
  {
    metric: text('metric').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    key: text('key').notNull().default(''),
    value: bigint('value', { mode: 'number' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.metric, table.day, table.key] })],
);

/** Days whose statistics are final. */
export const dailyStatsDays = pgTable('daily_stats_days', {
  day: date('day', { mode: 'string' }).primaryKey(),
  computedAt: instant('computed_at').notNull().defaultNow(),
});

/**
 * A provider account linked to one of ours (0020_oidc.sql): one per (issuer, subject), several per
 * user. `email` only when the provider said it is verified; no account is ever found by it.
 */
export const oidcIdentities = pgTable(
  'oidc_identities',
  {
    issuer: text('issuer').notNull(),
    subject: text('subject').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    email: text('email'),
    createdAt: instant('created_at').notNull().defaultNow(),
    lastUsedAt: instant('last_used_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.issuer, table.subject] }), index('oidc_identities_user_idx').on(table.userId)],
);

/**
 * An OpenID Connect sign-in started and not finished (0020_oidc.sql): used once, found by its state's
 * SHA-256 and finished only with its flow token (SHA-256 too), which the app that started it holds.
 */
export const oidcFlows = pgTable(
  'oidc_flows',
  {
    stateHash: text('state_hash').primaryKey(),
    flowTokenHash: text('flow_token_hash').notNull(),
    nonce: text('nonce').notNull(),
    codeVerifier: text('code_verifier').notNull(),
    /** Started by this signed-in user, to link the provider account to theirs. */
    linkUserId: uuid('link_user_id').references(() => users.id, { onDelete: 'cascade' }),
    createdAt: instant('created_at').notNull().defaultNow(),
    expiresAt: instant('expires_at').notNull(),
  },
  (table) => [index('oidc_flows_expires_idx').on(table.expiresAt)],
);
