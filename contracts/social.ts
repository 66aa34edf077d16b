import { z } from 'zod';
import { endpoint, paginated, Timestamp, Uuid } from '../runtime/contract';
import { exampleUser, User } from './users';

export const Connection = z
  .object({
    user: User,
    since: Timestamp.meta({ description: 'When the follow, friendship, request or block began' }),
  })
  .meta({
    id: 'Connection',
    description: 'Another dancer in one of a user’s lists (followers, following, friends, requests, blocked), and since when',
    example: { user: exampleUser, since: '2026-12-01T20:00:00.000Z' },
  });

export const FriendRequestOutcome = z
  .object({
    status: z.enum(['pending', 'friends']).meta({
      description: '`pending`: the request waits for an answer; `friends`: they had asked you already, so you are friends now',
    }),
    since: Timestamp,
  })
  .meta({ id: 'FriendRequestOutcome', example: { status: 'pending', since: '2026-12-01T20:00:00.000Z' } });

const TargetParams = z.object({ userId: Uuid.meta({ description: 'The other dancer' }) });

/**
 * Hidden is absent: a user who blocked the caller, or whom the caller blocked, is answered exactly
 * like an id with no user behind it, so a block can never be told apart from a missing account.
 */
const hidden = 'A user who does not exist, who blocked you or whom you blocked is 404 `NOT_FOUND`, one answer for all three.';
const writes = { points: 300, windowSeconds: 3600, key: 'user' } as const;
const connectionPage = (what: string) =>
  paginated(Connection, { description: `${what}, newest first; users hidden from the caller by a block are left out` });

export const followUser = endpoint({
  method: 'PUT',
  version: 1,
  path: '/users/{userId}/follow',
  operationId: 'followUser',
  summary: 'Follow a dancer',
  description: `Idempotent: following again changes nothing (the original date stays). ${hidden}`,
  tags: ['social'],
  auth: 'user',
  params: TargetParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'CANNOT_TARGET_SELF'],
  rateLimit: writes,
});

export const unfollowUser = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/users/{userId}/follow',
  operationId: 'unfollowUser',
  summary: 'Stop following a dancer',
  description: 'Idempotent: 204 whether or not the caller was following, and for any id.',
  tags: ['social'],
  auth: 'user',
  params: TargetParams,
  response: { status: 204 },
  errors: ['CANNOT_TARGET_SELF'],
  rateLimit: writes,
});

export const listFollowers = endpoint({
  method: 'GET',
  version: 1,
  path: '/users/{userId}/followers',
  operationId: 'listFollowers',
  summary: 'List a dancer’s followers',
  description: hidden,
  tags: ['social'],
  auth: 'user',
  params: TargetParams,
  response: connectionPage('Who follows the user'),
  errors: ['NOT_FOUND'],
});

export const listFollowing = endpoint({
  method: 'GET',
  version: 1,
  path: '/users/{userId}/following',
  operationId: 'listFollowing',
  summary: 'List whom a dancer follows',
  description: hidden,
  tags: ['social'],
  auth: 'user',
  params: TargetParams,
  response: connectionPage('Whom the user follows'),
  errors: ['NOT_FOUND'],
});

export const sendFriendRequest = endpoint({
  method: 'PUT',
  version: 1,
  path: '/friend-requests/{userId}',
  operationId: 'sendFriendRequest',
  summary: 'Ask a dancer to be friends',
  description:
    'Idempotent: asking again answers the pending request, and asking a friend answers the friendship. When ' +
    `the other had already asked the caller, the two become friends at once (status \`friends\`). ${hidden}`,
  tags: ['social'],
  auth: 'user',
  params: TargetParams,
  response: { status: 200, body: FriendRequestOutcome },
  errors: ['NOT_FOUND', 'CANNOT_TARGET_SELF'],
  rateLimit: writes,
  examples: { response: { status: 'pending', since: '2026-12-01T20:00:00.000Z' } },
});

export const cancelFriendRequest = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/friend-requests/{userId}',
  operationId: 'cancelFriendRequest',
  summary: 'Withdraw my friend request',
  description: 'Idempotent: 204 whether or not a request of the caller’s was pending, and for any id.',
  tags: ['social'],
  auth: 'user',
  params: TargetParams,
  response: { status: 204 },
  errors: ['CANNOT_TARGET_SELF'],
  rateLimit: writes,
});

export const acceptFriendRequest = endpoint({
  method: 'POST',
  version: 1,
  path: '/friend-requests/{userId}/accept',
  operationId: 'acceptFriendRequest',
  summary: 'Accept a dancer’s friend request',
  description:
    'Answers the friendship. Accepting again (or twice at once) answers the same friendship; without a pending ' +
    'request from that user, and without a friendship, it is 404 `NOT_FOUND`.',
  tags: ['social'],
  auth: 'user',
  params: TargetParams,
  response: { status: 200, body: Connection },
  errors: ['NOT_FOUND', 'CANNOT_TARGET_SELF'],
  rateLimit: writes,
  examples: { response: { user: exampleUser, since: '2026-12-01T20:00:00.000Z' } },
});

export const declineFriendRequest = endpoint({
  method: 'POST',
  version: 1,
  path: '/friend-requests/{userId}/decline',
  operationId: 'declineFriendRequest',
  summary: 'Decline a dancer’s friend request',
  description: 'The requester is not told; they see their request as pending no longer. Idempotent: 204 for any id.',
  tags: ['social'],
  auth: 'user',
  params: TargetParams,
  response: { status: 204 },
  errors: ['CANNOT_TARGET_SELF'],
  rateLimit: writes,
});

export const listFriendRequests = endpoint({
  method: 'GET',
  version: 1,
  path: '/friend-requests',
  operationId: 'listFriendRequests',
  summary: 'List my pending friend requests',
  description: '`incoming`: asked of me, waiting for my answer; `outgoing`: asked by me, waiting for theirs.',
  tags: ['social'],
  auth: 'user',
  query: z.object({ direction: z.enum(['incoming', 'outgoing']).meta({ example: 'incoming' }) }),
  response: connectionPage('Pending requests'),
});

export const unfriend = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/friends/{userId}',
  operationId: 'unfriend',
  summary: 'End a friendship',
  description: 'For both. Idempotent: 204 whether or not they were friends, and for any id.',
  tags: ['social'],
  auth: 'user',
  params: TargetParams,
  response: { status: 204 },
  errors: ['CANNOT_TARGET_SELF'],
  rateLimit: writes,
});

export const listFriends = endpoint({
  method: 'GET',
  version: 1,
  path: '/users/{userId}/friends',
  operationId: 'listFriends',
  summary: 'List a dancer’s friends',
  description: hidden,
  tags: ['social'],
  auth: 'user',
  params: TargetParams,
  response: connectionPage('Friends, by when the friendship began'),
  errors: ['NOT_FOUND'],
});

export const blockUser = endpoint({
  method: 'PUT',
  version: 1,
  path: '/blocks/{userId}',
  operationId: 'blockUser',
  summary: 'Block a dancer',
  description:
    'Ends the friendship, pending friend requests and follows between the two, both ways; from then on each is ' +
    'hidden from the other (profile, search, lists) and neither can follow or befriend the other. Idempotent, ' +
    'and 204 for any id, existing or not, so blocking tells nothing about the other account. A block made while ' +
    'the caller could see the user is listed in `listBlocks`; one made of an id the caller could not see (no such ' +
    'user, or one who blocked the caller) takes effect but is never listed.',
  tags: ['social'],
  auth: 'user',
  params: TargetParams,
  response: { status: 204 },
  errors: ['CANNOT_TARGET_SELF'],
  rateLimit: writes,
});

export const unblockUser = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/blocks/{userId}',
  operationId: 'unblockUser',
  summary: 'Unblock a dancer',
  description: 'Nothing ended by the block comes back. Idempotent: 204 for any id.',
  tags: ['social'],
  auth: 'user',
  params: TargetParams,
  response: { status: 204 },
  errors: ['CANNOT_TARGET_SELF'],
  rateLimit: writes,
});

export const listBlocks = endpoint({
  method: 'GET',
  version: 1,
  path: '/blocks',
  operationId: 'listBlocks',
  summary: 'List whom I blocked',
  tags: ['social'],
  auth: 'user',
  response: paginated(Connection, {
    description: 'Users the caller blocked while able to see them, newest first; nothing the other user does changes this list',
  }),
});
