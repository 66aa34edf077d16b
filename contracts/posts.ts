import { z } from 'zod';
import { endpoint, paginated, Timestamp, Uuid } from '../runtime/contract';
import { Media, MediaIds } from './media';
import { Hidden } from './moderation';
import { exampleUser, User } from './users';

export const ReactionKind = z.enum(['like', 'love', 'tango', 'laugh', 'sad']).meta({ id: 'ReactionKind' });

export const PostVisibility = z.enum(['public', 'friends', 'group']).meta({
  id: 'PostVisibility',
  description:
    '`public`: anyone, signed in or not; `friends`: the author’s accepted friends; `group`: the members of the post’s group. ' +
    'Never anyone across a block with the author.',
});

const count = z.number().int().min(0);
export const ReactionCounts = z
  .object({ like: count, love: count, tango: count, laugh: count, sad: count })
  .meta({ id: 'ReactionCounts', description: 'How many reacted with each kind' });

const Mention = z.object({ userId: Uuid, username: z.string().max(30) }).meta({ id: 'Mention' });

export const Post = z
  .object({
    id: Uuid,
    author: User,
    body: z.string().max(5000),
    mentions: z.array(Mention).max(20).meta({ description: 'The `@username`s of the body that name a user, in order of first mention' }),
    hashtags: z.array(z.string().max(50)).max(30).meta({ description: 'The `#tags` of the body, lower-cased, in order of first use' }),
    visibility: PostVisibility,
    groupId: Uuid.nullable(),
    eventId: Uuid.nullable(),
    city: z.string().max(100).nullable(),
    media: z.array(Media).max(10).meta({ description: 'Photos and videos, in the order the author chose' }),
    reactions: ReactionCounts,
    myReaction: ReactionKind.nullable().meta({ description: 'The caller’s reaction; null when none or signed out' }),
    commentCount: count,
    hidden: Hidden,
    createdAt: Timestamp,
    editedAt: Timestamp.nullable().meta({ description: 'When the author last edited it; null if never' }),
  })
  .meta({
    id: 'Post',
    example: {
      id: '3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b',
      author: exampleUser,
      body: 'What a night at @el.beso! #milonga #vals',
      mentions: [{ userId: '9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', username: 'el.beso' }],
      hashtags: ['milonga', 'vals'],
      visibility: 'public',
      groupId: null,
      eventId: null,
      city: 'Buenos Aires',
      media: [],
      reactions: { like: 12, love: 3, tango: 8, laugh: 0, sad: 0 },
      myReaction: 'tango',
      commentCount: 4,
      hidden: false,
      createdAt: '2026-12-01T23:10:00.000Z',
      editedAt: null,
    },
  });

const postBody = z.string().max(5000).trim().min(1);
const city = z.string().max(100).trim().min(1);

export const NewPost = z
  .object({
    body: postBody,
    visibility: PostVisibility,
    groupId: Uuid.optional().meta({
      description: 'Required with visibility `group`, refused otherwise: a group the caller is a member of',
    }),
    eventId: Uuid.optional().meta({ description: 'An event the caller may see' }),
    city: city.optional(),
    mediaIds: MediaIds.optional(),
  })
  .refine((p) => (p.visibility === 'group') === (p.groupId !== undefined), {
    path: ['groupId'],
    message: 'A group post names its group, and only a group post does',
  })
  .meta({ id: 'NewPost', example: { body: 'What a night at @el.beso! #milonga #vals', visibility: 'public', city: 'Buenos Aires' } });

export const PostPatch = z.object({ body: postBody.optional(), city: city.nullable().optional(), mediaIds: MediaIds.optional() }).meta({
  id: 'PostPatch',
  description: 'The text (mentions and hashtags are read again), the city (`null` clears it) and the media (the new list replaces the old)',
  example: { body: 'What a night! #milonga', city: 'Buenos Aires' },
});

export const Comment = z
  .object({
    id: Uuid,
    postId: Uuid,
    parentId: Uuid.nullable().meta({ description: 'The comment this replies to; null for a comment on the post' }),
    author: User,
    body: z.string().max(2000),
    reactions: ReactionCounts,
    myReaction: ReactionKind.nullable(),
    replyCount: count,
    hidden: Hidden,
    createdAt: Timestamp,
    editedAt: Timestamp.nullable(),
  })
  .meta({
    id: 'Comment',
    example: {
      id: '6f5e4d3c-2b1a-4c9d-8e7f-6a5b4c3d2e1f',
      postId: '3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b',
      parentId: null,
      author: exampleUser,
      body: '¡Qué noche!',
      reactions: { like: 1, love: 0, tango: 0, laugh: 0, sad: 0 },
      myReaction: null,
      replyCount: 0,
      hidden: false,
      createdAt: '2026-12-01T23:15:00.000Z',
      editedAt: null,
    },
  });

const commentBody = z.string().max(2000).trim().min(1);

export const Reaction = z
  .object({ user: User, kind: ReactionKind, reactedAt: Timestamp })
  .meta({ id: 'Reaction', example: { user: exampleUser, kind: 'tango', reactedAt: '2026-12-01T23:20:00.000Z' } });

const PostParams = z.object({ postId: Uuid });
const CommentParams = z.object({ commentId: Uuid });
const ReactionInput = z.object({ kind: ReactionKind }).meta({ id: 'ReactionInput', example: { kind: 'tango' } });

const unseen = 'A post the caller may not see (its visibility, a block with its author) is 404 `NOT_FOUND`, as one that does not exist.';
const writes = { name: 'post-writes', points: 600, windowSeconds: 3600, key: 'user' } as const;

export const createPost = endpoint({
  method: 'POST',
  version: 1,
  path: '/posts',
  operationId: 'createPost',
  summary: 'Post something',
  description:
    'Mentioned users who may see the post are notified. A group post needs the caller to be a member (403 `FORBIDDEN`); an ' +
    'unknown group or an event the caller may not see is a validation error on its field.',
  tags: ['posts'],
  auth: 'user',
  body: NewPost,
  response: { status: 201, body: Post },
  errors: ['FORBIDDEN'],
  rateLimit: { points: 120, windowSeconds: 3600, key: 'user' },
});

export const getPost = endpoint({
  method: 'GET',
  version: 1,
  path: '/posts/{postId}',
  operationId: 'getPost',
  summary: 'Get one post',
  description: `Signed in or not. ${unseen}`,
  tags: ['posts'],
  auth: 'optional',
  params: PostParams,
  response: { status: 200, body: Post },
  errors: ['NOT_FOUND'],
  cache: { scope: 'private', maxAge: 0 },
});

export const updatePost = endpoint({
  method: 'PATCH',
  version: 1,
  path: '/posts/{postId}',
  operationId: 'updatePost',
  summary: 'Edit my post',
  description: `Its author only (403 \`FORBIDDEN\`); \`editedAt\` shows it. Users newly mentioned are notified. ${unseen}`,
  tags: ['posts'],
  auth: 'user',
  params: PostParams,
  body: PostPatch,
  response: { status: 200, body: Post },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
  rateLimit: writes,
  ifMatch: true,
});

export const deletePost = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/posts/{postId}',
  operationId: 'deletePost',
  summary: 'Delete a post',
  description: `Its author, the owner and admins of its group, and moderators (403 \`FORBIDDEN\` for anyone else). ${unseen}`,
  tags: ['posts'],
  auth: 'user',
  params: PostParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
  rateLimit: writes,
});

export const listUserPosts = endpoint({
  method: 'GET',
  version: 1,
  path: '/users/{userId}/posts',
  operationId: 'listUserPosts',
  summary: 'List a dancer’s posts',
  description:
    'Their timeline, newest first: the posts the caller may see. A user who blocked the caller, or whom the caller blocked, is ' +
    '404 `NOT_FOUND` like one who does not exist.',
  tags: ['posts'],
  auth: 'optional',
  params: z.object({ userId: Uuid }),
  response: paginated(Post),
  errors: ['NOT_FOUND'],
});

export const getFeed = endpoint({
  method: 'GET',
  version: 1,
  path: '/feed',
  operationId: 'getFeed',
  summary: 'My home feed',
  description:
    'Posts of the people I follow, my friends and me, and of my groups, newest first (chronological: no ranking). Paging is ' +
    'stable: posts made after the first page come on a new first page, never inside the pages still to come, and no post repeats ' +
    'or is skipped. Posts I may not see and posts of anyone across a block never appear.',
  tags: ['posts'],
  auth: 'user',
  response: paginated(Post),
});

export const listComments = endpoint({
  method: 'GET',
  version: 1,
  path: '/posts/{postId}/comments',
  operationId: 'listComments',
  summary: 'List a post’s comments, or a comment’s replies',
  description: `Oldest first. With \`parentId\`, the replies to that comment. Comments of people across a block are left out. ${unseen}`,
  tags: ['posts'],
  auth: 'optional',
  params: PostParams,
  query: z.object({ parentId: Uuid.optional().meta({ description: 'A comment of this post: list its replies' }) }),
  response: paginated(Comment),
  errors: ['NOT_FOUND'],
});

export const createComment = endpoint({
  method: 'POST',
  version: 1,
  path: '/posts/{postId}/comments',
  operationId: 'createComment',
  summary: 'Comment on a post, or reply to a comment',
  description:
    'One level of replies: `parentId` names a comment of the post that is not itself a reply (else a validation error). The ' +
    `post’s author (and the comment’s, for a reply) is notified; viewers of the post get it live in the \`post:{id}\` room. ${unseen}`,
  tags: ['posts'],
  auth: 'user',
  params: PostParams,
  body: z.object({ body: commentBody, parentId: Uuid.optional() }).meta({ id: 'NewComment', example: { body: '¡Qué noche!' } }),
  response: { status: 201, body: Comment },
  errors: ['NOT_FOUND'],
  rateLimit: { name: 'comments', points: 300, windowSeconds: 3600, key: 'user' },
});

export const updateComment = endpoint({
  method: 'PATCH',
  version: 1,
  path: '/comments/{commentId}',
  operationId: 'updateComment',
  summary: 'Edit my comment',
  description: 'Its author only (403 `FORBIDDEN`). A comment on a post the caller may not see is 404 `NOT_FOUND`.',
  tags: ['posts'],
  auth: 'user',
  params: CommentParams,
  body: z.object({ body: commentBody }).meta({ id: 'CommentPatch', example: { body: '¡Qué noche inolvidable!' } }),
  response: { status: 200, body: Comment },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
  rateLimit: writes,
});

export const deleteComment = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/comments/{commentId}',
  operationId: 'deleteComment',
  summary: 'Delete a comment',
  description:
    'Its author, the post’s author, and moderators (403 `FORBIDDEN` for anyone else); its replies go with it. A comment on a ' +
    'post the caller may not see is 404 `NOT_FOUND`.',
  tags: ['posts'],
  auth: 'user',
  params: CommentParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
  rateLimit: writes,
});

export const reactToPost = endpoint({
  method: 'PUT',
  version: 1,
  path: '/posts/{postId}/reaction',
  operationId: 'reactToPost',
  summary: 'React to a post',
  description: `One reaction per person: a new kind replaces the old one. The author is notified. ${unseen}`,
  tags: ['posts'],
  auth: 'user',
  params: PostParams,
  body: ReactionInput,
  response: { status: 200, body: ReactionCounts },
  errors: ['NOT_FOUND'],
  rateLimit: { name: 'reactions', points: 600, windowSeconds: 3600, key: 'user' },
});

export const removePostReaction = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/posts/{postId}/reaction',
  operationId: 'removePostReaction',
  summary: 'Take back my reaction to a post',
  description: `Idempotent. ${unseen}`,
  tags: ['posts'],
  auth: 'user',
  params: PostParams,
  response: { status: 200, body: ReactionCounts },
  errors: ['NOT_FOUND'],
  rateLimit: { name: 'reactions', points: 600, windowSeconds: 3600, key: 'user' },
});

export const listPostReactions = endpoint({
  method: 'GET',
  version: 1,
  path: '/posts/{postId}/reactions',
  operationId: 'listPostReactions',
  summary: 'Who reacted to a post',
  description: `Latest first, optionally one kind; people across a block are left out. ${unseen}`,
  tags: ['posts'],
  auth: 'optional',
  params: PostParams,
  query: z.object({ kind: ReactionKind.optional() }),
  response: paginated(Reaction),
  errors: ['NOT_FOUND'],
});

export const reactToComment = endpoint({
  method: 'PUT',
  version: 1,
  path: '/comments/{commentId}/reaction',
  operationId: 'reactToComment',
  summary: 'React to a comment',
  description: 'One reaction per person, as for posts. A comment on a post the caller may not see is 404 `NOT_FOUND`.',
  tags: ['posts'],
  auth: 'user',
  params: CommentParams,
  body: ReactionInput,
  response: { status: 200, body: ReactionCounts },
  errors: ['NOT_FOUND'],
  rateLimit: { name: 'reactions', points: 600, windowSeconds: 3600, key: 'user' },
});

export const removeCommentReaction = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/comments/{commentId}/reaction',
  operationId: 'removeCommentReaction',
  summary: 'Take back my reaction to a comment',
  description: 'Idempotent. A comment on a post the caller may not see is 404 `NOT_FOUND`.',
  tags: ['posts'],
  auth: 'user',
  params: CommentParams,
  response: { status: 200, body: ReactionCounts },
  errors: ['NOT_FOUND'],
  rateLimit: { name: 'reactions', points: 600, windowSeconds: 3600, key: 'user' },
});
