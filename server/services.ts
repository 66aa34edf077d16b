import type { SessionTokens } from './auth/session-tokens';
import { createAccountService, type AccountService } from './services/accounts';
import { createAdminService, type AdminService } from './services/admin';
import { createAppealService, type AppealService } from './services/appeals';
import type { Revocations } from './auth/revocations';
import type { Database } from './db/database';
import { createConversationStore } from './services/conversations';
import { createEventStore, type EventStore } from './services/events';
import { createGroupService, type GroupService } from './services/groups';
import { createMediaService, type MediaService } from './services/media';
import { createMemoryService, type MemoryService } from './services/memories';
import { createPostService, type PostService } from './services/posts';
import { createModerationService, type ModerationService } from './services/moderation';
import { createReportService, type ReportService } from './services/reports';
import { createRsvpService, type RsvpService } from './services/rsvps';
import { createMessageStore } from './services/messages';
import { createMessagingService, type MessagingService } from './services/messaging';
import { createNotificationService, type NotificationService } from './services/notifications';
import type { OidcClient } from './auth/oidc-client';
import { createOidcServices, type OidcServices } from './services/oidc';
import { createPresenceService, type PresenceService } from './services/presence';
import { noRealtime, type RealtimePort } from './services/realtime-port';
import { createSessionStore, type SessionStore } from './services/sessions';
import { createSocialService, type SocialService } from './services/social';
import { createStatisticsService, type StatisticsService } from './services/statistics';
import { createStoryService, type StoryService } from './services/stories';
import { createUserStore, type UserStore } from './services/users';

/** What every handler finds in its context beside the request: the app's stores and auth services. */
export interface Services {
  database: Database;
  eventStore: EventStore;
  rsvps: RsvpService;
  userStore: UserStore;
  sessionStore: SessionStore;
  messaging: MessagingService;
  /** Who sees whose presence, and telling them when it changes. */
  presence: PresenceService;
  /** Follows, friends, blocks, and the rule that hides blocked users from each other. */
  social: SocialService;
  /** Groups, their members, roles, requests and invitations. */
  groups: GroupService;
  /** Posts, comments, reactions and the feed. */
  posts: PostService;
  /** Memories and the friends tagged in them. */
  memories: MemoryService;
  /** Stories, gone 24 hours after posting. */
  stories: StoryService;
  /** Uploaded photos and videos, their files and who may see them. */
  media: MediaService;
  /** Reports to the moderators. */
  reports: ReportService;
  /** The moderators' queue, claims and decisions. */
  moderation: ModerationService;
  /** Appeals of moderators' decisions. */
  appeals: AppealService;
  /** Roles and the audit log. */
  admin: AdminService;
  /** Deleting an account, exporting its data. */
  accounts: AccountService;
  /** Daily figures for the admins, rolled up by a job. */
  statistics: StatisticsService;
  /** Sign-in with an OpenID Connect provider: the provider (when configured), started sign-ins, linked provider accounts. */
  oidc: OidcServices;
  /** Other domains' services call `notify` when something happens to someone. */
  notifications: NotificationService;
  /** How services reach connected devices; events go nowhere until a real-time server is attached. */
  realtime: RealtimePort;
  revocations: Revocations;
  tokens: SessionTokens;
  startedAt: number;
}

export function createServices(
  database: Database,
  options: {
    revocations: Revocations;
    tokens: SessionTokens;
    realtime?: RealtimePort;
    media: Parameters<typeof createMediaService>[1];
    /** The OpenID Connect provider to sign in with (OIDC_*); none when absent. */
    oidc?: OidcClient;
  },
): Services {
  const realtime = options.realtime ?? noRealtime;
  const media = createMediaService(database.db, options.media);
  const notifications = createNotificationService({ db: database.db, realtime });
  const posts = createPostService(database.db, media, notifications, realtime);
  const memories = createMemoryService(database.db, media, notifications);
  const stories = createStoryService(database.db, media);
  const groups = createGroupService(database.db, notifications, realtime);
  const sessionStore = createSessionStore(database.db);
  return {
    database,
    eventStore: createEventStore(database.db, notifications),
    rsvps: createRsvpService(database.db, notifications),
    userStore: createUserStore(database.db),
    sessionStore,
    messaging: createMessagingService({
      db: database.db,
      conversations: createConversationStore(database.db),
      messages: createMessageStore(database.db),
      notifications,
      realtime,
    }),
    presence: createPresenceService({ db: database.db, realtime }),
    notifications,
    social: createSocialService(database.db, notifications),
    groups,
    posts,
    memories,
    stories,
    media,
    reports: createReportService(database.db, { posts, stories, memories, groups }),
    moderation: createModerationService(database.db, { sessions: sessionStore, revocations: options.revocations }),
    appeals: createAppealService(database.db),
    admin: createAdminService(database.db),
    accounts: createAccountService(database.db, { media, revocations: options.revocations }),
    statistics: createStatisticsService(database.db),
    oidc: createOidcServices(database.db, options.oidc),
    realtime,
    revocations: options.revocations,
    tokens: options.tokens,
    startedAt: Date.now(),
  };
}
