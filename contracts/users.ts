import { z } from 'zod';
import { endpoint, httpUrl, paginated, Timestamp, Uuid } from '../runtime/contract';

/**
 * Usernames are compared in one form: NFKC, case-folded. So `ＡＤＭＩＮ`, `Admin` and `admin` are
 * one name, checked as one for uniqueness, login and rate limits.
 */
export function normalizeUsername(username: string): string {
  return username.normalize('NFKC').toLowerCase().normalize('NFKC').trim();
}

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{2,29}$/;

/** A username as typed; the API sees its normalized form. */
export const UsernameInput = z
  .string()
  .max(100)
  .transform(normalizeUsername)
  .pipe(z.string().regex(USERNAME_PATTERN, '3–30 letters, digits, "_", "." or "-", starting with a letter or digit'))
  .meta({ description: 'Case-insensitive; compared after NFKC normalization', example: 'carlos.gavito' });

export const DanceRole = z.enum(['leader', 'follower', 'both']).meta({ id: 'DanceRole' });
export const Role = z.enum(['user', 'moderator', 'admin']).meta({ id: 'Role' });

const displayName = z.string().max(80).trim().min(1);
const bio = z.string().max(2000);
const city = z.string().max(100).trim().min(1);
const avatarUrl = httpUrl();

/** One dancer's public profile, the example every contract that shows a user uses. */
export const exampleUser = {
  id: '5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10',
  username: 'ana.milonguera',
  displayName: 'Ana',
  bio: 'Milonguera since 2009.',
  city: 'Buenos Aires',
  danceRole: 'follower',
  avatarUrl: null,
  avatarMediaId: null,
  createdAt: '2026-11-20T12:00:00.000Z',
} as const;

export const User = z
  .object({
    id: Uuid,
    username: z.string().max(30),
    displayName,
    bio,
    city: city.nullable(),
    danceRole: DanceRole.nullable(),
    avatarUrl: avatarUrl.nullable(),
    avatarMediaId: Uuid.nullable().meta({ description: 'An uploaded image shown as the avatar; its file is `/api/v1/media/{id}/file`' }),
    createdAt: Timestamp,
  })
  .meta({
    id: 'User',
    description: 'A public profile',
    example: {
      id: '5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10',
      username: 'carlos.gavito',
      displayName: 'Carlos Gavito',
      bio: 'Tango is a feeling that is danced.',
      city: 'Buenos Aires',
      danceRole: 'leader',
      avatarUrl: null,
      avatarMediaId: null,
      createdAt: '2026-11-20T12:00:00.000Z',
    },
  });

const showPresence = z.boolean().meta({
  description:
    'Whether your presence (online, last seen) is shared: with your friends and the people you share a conversation ' +
    'with, never across a block. Off, everyone sees you offline and never seen. On by default',
});

export const Me = User.extend({
  roles: z.array(Role).max(3),
  mfaEnabled: z.boolean(),
  showPresence,
  updatedAt: Timestamp,
}).meta({ id: 'Me', description: 'The signed-in user, as they see themselves' });

export const Relationship = z
  .object({
    following: z.boolean().meta({ description: 'The caller follows this user' }),
    followsYou: z.boolean().meta({ description: 'This user follows the caller' }),
    friendship: z.enum(['none', 'friends', 'requested', 'requestedYou']).meta({
      description: '`requested`: the caller asked and waits; `requestedYou`: this user asked the caller',
    }),
  })
  .meta({ id: 'Relationship', description: 'How the caller and this user are connected; all false and `none` on one’s own profile' });

export const Profile = User.extend({
  followerCount: z.number().int().min(0).meta({ description: 'Followers the caller may see' }),
  followingCount: z.number().int().min(0).meta({ description: 'Users followed that the caller may see' }),
  relationship: Relationship.nullable().meta({ description: 'How the caller and this user are connected; null when signed out' }),
}).meta({
  id: 'Profile',
  description: 'A public profile with its follow counts and its connection to the caller, as the caller sees it',
  example: {
    ...(User.meta()?.example as object),
    followerCount: 120,
    followingCount: 87,
    relationship: { following: true, followsYou: false, friendship: 'none' },
  },
});

export const ProfilePatch = z
  .object({
    displayName,
    bio,
    city: city.nullable(),
    danceRole: DanceRole.nullable(),
    avatarUrl: avatarUrl.nullable(),
    avatarMediaId: Uuid.nullable().meta({ description: 'One of your uploaded images; anyone who may see your profile may see it' }),
    showPresence,
  })
  .partial()
  .meta({
    id: 'ProfilePatch',
    description: 'Fields to change; `null` clears city, dance role or avatar',
    example: {
      displayName: 'Ana Milonguera',
      bio: 'Thursdays at Canning, Sundays at La Glorieta',
      city: 'Buenos Aires',
      danceRole: 'follower',
    },
  });

export const getMe = endpoint({
  method: 'GET',
  version: 1,
  path: '/users/me',
  operationId: 'getMe',
  summary: 'Get my profile',
  tags: ['users'],
  auth: 'user',
  response: { status: 200, body: Me },
});

export const updateMe = endpoint({
  method: 'PATCH',
  version: 1,
  path: '/users/me',
  operationId: 'updateMe',
  summary: 'Change my profile',
  description:
    'Changes the fields given, and only those. Turning `showPresence` off shows you offline and never seen to the ' +
    'people who could see your presence, at once (real-time `presence:update`); turning it on shows them your ' +
    'current status.',
  tags: ['users'],
  auth: 'user',
  body: ProfilePatch,
  response: { status: 200, body: Me },
});

export const getUser = endpoint({
  method: 'GET',
  version: 1,
  path: '/users/{user}',
  operationId: 'getUser',
  summary: 'Get a public profile',
  description:
    'By id or by username (case-insensitive), signed in or not. To a signed-in caller, a user who blocked them, or ' +
    'whom they blocked, is 404 `NOT_FOUND` exactly like a user who does not exist.',
  tags: ['users'],
  auth: 'optional',
  params: z.object({ user: z.string().min(1).max(100).meta({ description: 'User id or username', example: 'ana.milonguera' }) }),
  response: { status: 200, body: Profile },
  errors: ['NOT_FOUND'],
});

export const searchUsers = endpoint({
  method: 'GET',
  version: 1,
  path: '/users',
  operationId: 'searchUsers',
  summary: 'Find dancers',
  description: 'By part of the name or username, and by city; newest members first. Users hidden by a block either way are left out.',
  tags: ['users'],
  auth: 'user',
  query: z.object({
    q: z.string().max(100).trim().min(1).optional().meta({ description: 'Part of the display name or username' }),
    city: city.optional().meta({ description: 'City, case-insensitive' }),
  }),
  response: paginated(User),
});

export const deleteMyAccount = endpoint({
  method: 'POST',
  version: 1,
  path: '/users/me/deletion',
  operationId: 'deleteMyAccount',
  summary: 'Delete my account',
  description:
    'With the password (401 `INVALID_CREDENTIALS` otherwise), for good: every session is signed out at once, on every ' +
    'device. Removed with the account: the profile, posts, comments, reactions, memories, stories, uploads and their ' +
    'files, messages sent, follows, friendships, requests, blocks, memberships, answers to events, notifications, reports ' +
    'made and appeals, and what moderators kept of your reported content. The events you organize are cancelled ' +
    '(deleted). A group you own passes to its longest-standing admin, else its longest-standing member (never a banned ' +
    'account; a suspended one last); one with nobody to take it is deleted. Moderators’ decisions and the audit log keep ' +
    'their records with your account’s id only (its name and content are gone); the deletion itself is in the audit log. ' +
    'The last admin cannot go (409 `LAST_ADMIN`): make another admin first.',
  tags: ['users'],
  auth: 'user',
  body: z
    .object({ password: z.string().min(1).max(1024) })
    .meta({ id: 'AccountDeletion', example: { password: 'milonga at midnight in Almagro' } }),
  response: { status: 204 },
  errors: ['INVALID_CREDENTIALS', 'LAST_ADMIN'],
  rateLimit: { name: 'account-deletion', points: 5, windowSeconds: 900, key: 'user', failuresOnly: true },
});

export const ExportRecordKind = z
  .enum([
    'profile',
    'session',
    'post',
    'comment',
    'post_reaction',
    'comment_reaction',
    'memory',
    'memory_tag',
    'story',
    'story_view',
    'media',
    'message',
    'conversation_membership',
    'following',
    'follower',
    'friend',
    'friend_request_sent',
    'friend_request_received',
    'block',
    'group_membership',
    'group_request',
    'event_organized',
    'event_answer',
    'notification',
    'report',
    'decision_about_me',
    'appeal',
  ])
  .meta({ id: 'ExportRecordKind' });

export const ExportRecord = z
  .object({
    kind: ExportRecordKind,
    record: z.record(z.string(), z.unknown()).meta({ description: 'The stored row, its column names as stored (snake_case)' }),
  })
  .meta({
    id: 'ExportRecord',
    description: 'One thing the API stores about the caller',
    example: {
      kind: 'post',
      record: { id: '3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b', body: 'Milonga hoy', created_at: '2026-12-03T10:00:00+00:00' },
    },
  });

const EXPORT_DESCRIPTION =
  'An archive as NDJSON, one record per line, kind by kind (the profile first), streamed as it is read. Secrets are ' +
  'left out (the password hash, the MFA secret, token hashes), and who moderated is not said.';

export const exportMyData = endpoint({
  method: 'GET',
  version: 1,
  path: '/users/me/export',
  operationId: 'exportMyData',
  summary: 'Everything the API stores about me (without linked provider accounts)',
  description: `${EXPORT_DESCRIPTION} It leaves out the provider accounts linked to mine: exportMyDataV2 has them.`,
  tags: ['users'],
  auth: 'user',
  response: { status: 200, stream: { item: ExportRecord } },
  rateLimit: { name: 'data-export', points: 5, windowSeconds: 3600, key: 'user' },
  deprecated: { since: '2026-12-04', sunset: '2027-06-04', use: 'exportMyDataV2' },
});

export const ExportRecordKindV2 = z.enum([...ExportRecordKind.options, 'oidc_identity']).meta({
  id: 'ExportRecordKindV2',
  description: 'The kinds of ExportRecordKind, and `oidc_identity`: a provider account linked to mine (sign-in with OpenID Connect)',
});

export const ExportRecordV2 = ExportRecord.extend({ kind: ExportRecordKindV2 }).meta({
  id: 'ExportRecordV2',
  description: 'One thing the API stores about the caller',
  example: { kind: 'oidc_identity', record: { issuer: 'https://accounts.example.org', subject: '24400320', email: 'ana@example.org' } },
});

export const exportMyDataV2 = endpoint({
  method: 'GET',
  version: 2,
  path: '/users/me/export',
  operationId: 'exportMyDataV2',
  summary: 'Everything the API stores about me',
  description: `${EXPORT_DESCRIPTION} New kinds of record may be added in a later version, never in this one.`,
  tags: ['users'],
  auth: 'user',
  response: { status: 200, stream: { item: ExportRecordV2 } },
  // The same budget as version 1's: one export is one export.
  rateLimit: { name: 'data-export', points: 5, windowSeconds: 3600, key: 'user' },
});
