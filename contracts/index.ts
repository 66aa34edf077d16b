import { defineApi, defineErrors } from '../runtime/contract';
import * as admin from './admin';
import * as auth from './auth';
import * as events from './events';
import * as groups from './groups';
import * as health from './health';
import * as realtime from './realtime';
import * as media from './media';
import * as memories from './memories';
import * as messages from './messages';
import * as moderation from './moderation';
import * as notifications from './notifications';
import * as posts from './posts';
import * as social from './social';
import * as stories from './stories';
import * as users from './users';

/** Domain error codes, beside the runtime's own (runtime/contract/errors.ts). */
export const domainErrors = defineErrors({
  USERNAME_TAKEN: { status: 409, title: 'Username taken' },
  INVALID_CREDENTIALS: { status: 401, title: 'Invalid username or password' },
  INVALID_MFA_CODE: { status: 401, title: 'Invalid MFA code' },
  MFA_CHALLENGE_EXPIRED: { status: 401, title: 'MFA challenge expired' },
  MFA_ALREADY_ENABLED: { status: 409, title: 'MFA is already enabled' },
  MFA_NOT_ENROLLED: { status: 409, title: 'MFA is not enrolled' },
  CLIENT_KEY_REUSED: { status: 409, title: 'Client key already used for another message' },
  CONVERSATION_READ_ONLY: { status: 409, title: 'Conversation is read-only' },
  CANNOT_TARGET_SELF: { status: 400, title: 'You cannot follow, befriend or block yourself' },
  EVENT_FULL: { status: 409, title: 'Event is full' },
  EVENT_ENDED: { status: 409, title: 'Event has ended' },
  CAPACITY_BELOW_GOING: { status: 409, title: 'Capacity below the people going' },
  OWNER_CANNOT_LEAVE: { status: 409, title: 'The owner cannot leave the group' },
  QUOTA_EXCEEDED: { status: 413, title: 'Storage quota exceeded' },
  INVALID_MEDIA: { status: 422, title: 'The file is not a readable image or video' },
  MEDIA_IN_USE: { status: 409, title: 'The media is still shown somewhere' },
  ALREADY_REPORTED: { status: 409, title: 'You reported this already' },
  ALREADY_CLAIMED: { status: 409, title: 'Another moderator handles this' },
  LAST_ADMIN: { status: 409, title: 'The last admin stays one' },
  STAFF_ACCOUNT: { status: 409, title: 'Moderators and admins are not suspended or banned while they hold the role' },
  CONFLICT_OF_INTEREST: { status: 409, title: 'Another moderator must decide this' },
  ALREADY_APPEALED: { status: 409, title: 'This decision was appealed already' },
  NOT_APPEALABLE: { status: 409, title: 'This decision cannot be appealed' },
  ALREADY_DECIDED: { status: 409, title: 'This appeal was answered already' },
  ACCOUNT_SUSPENDED: { status: 403, title: 'This account is suspended' },
  ACCOUNT_BANNED: { status: 403, title: 'This account is banned' },
  OIDC_NOT_CONFIGURED: { status: 404, title: 'Sign-in with OpenID Connect is not set up on this server' },
  OIDC_CALLBACK_INVALID: { status: 400, title: 'Not an answer of the provider to this server' },
  OIDC_STATE_INVALID: { status: 400, title: 'Unknown, expired or finished sign-in' },
  OIDC_PROVIDER_REFUSED: { status: 403, title: 'The provider did not sign you in' },
  OIDC_EXCHANGE_FAILED: { status: 400, title: 'The provider refused the code' },
  OIDC_ID_TOKEN_INVALID: { status: 400, title: 'The provider’s ID token did not validate' },
  OIDC_IDENTITY_LINKED: { status: 409, title: 'The provider account is linked to another account' },
});

export const api = defineApi({
  info: {
    title: 'Mundo Tango API',
    version: '1.0.0',
    description:
      'The API of Mundo Tango, the social platform of the tango community: dancers, teachers and ' +
      'organizers, their events, groups, posts and messages. Every error is an RFC 9457 problem ' +
      'with a stable `code`; every list is a cursor page.',
    contact: { name: 'Mundo Tango', url: 'https://mundotango.life' },
    license: { name: 'MIT', identifier: 'MIT' },
  },
  servers: [{ url: '/', description: 'The server this document is served from' }],
  tags: {
    auth: 'Accounts, sign-in, token refresh, sessions and multi-factor authentication.',
    users: 'Dancer profiles.',
    events: 'Milongas, practicas, festivals, marathons, encuentros, classes and workshops.',
    messages: 'Direct and group conversations, their messages and read markers; delivered in real time too.',
    notifications: 'What happened to me: follows, friend requests, groups, RSVPs, messages; collapsed per kind and target, pushed live.',
    health: 'Service health for load balancers and monitors.',
    social: 'Follows, friends and blocks between dancers.',
    memories: 'A dancer’s archive of tango moments: the day, the place, the event, the friends tagged; on this day.',
    stories: 'Short-lived posts for followers and friends, gone 24 hours after posting; who saw them.',
    posts: 'Posts with mentions and hashtags, comments with one level of replies, reactions, and the home feed.',
    media: 'Photos and videos: resumable uploads (tus), their files and thumbnails, my storage quota.',
    admin: 'Roles and the audit log, for admins.',
    moderation: 'Reports of content and people to the moderators, and what came of them.',
    groups: 'Tango communities, schools, orchestras and city groups: members and roles, join requests, invitations, events.',
  },
  basePath: '/api/v{version}',
  problemBaseUrl: 'https://mundotango.life/problems',
  errors: domainErrors,
  modules: {
    admin,
    auth,
    events,
    groups,
    health,
    media,
    memories,
    messages,
    moderation,
    posts,
    realtime,
    users,
    notifications,
    social,
    stories,
  },
  realtime: {
    path: '/api/v1/realtime',
    description:
      'Messages, delivery and read receipts, presence and rooms over Socket.IO. Authenticate the ' +
      'handshake with `auth: { token }` (an access token); every client event is answered with an ack ' +
      '`{ ok: true, data }` or `{ ok: false, error: { code, message } }`.',
  },
});
