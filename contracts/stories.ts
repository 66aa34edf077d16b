import { z } from 'zod';
import { endpoint, paginated, Timestamp, Uuid } from '../runtime/contract';
import { Media } from './media';
import { Hidden } from './moderation';
import { exampleUser, User } from './users';

export const Story = z
  .object({
    id: Uuid,
    authorId: Uuid,
    caption: z.string().max(500),
    media: Media.nullable().meta({ description: 'The photo or video of the story, if any' }),
    createdAt: Timestamp,
    expiresAt: Timestamp.meta({ description: '24 hours after it was posted: never served after, by any instance' }),
    seen: z.boolean().meta({ description: 'Whether the caller has seen it' }),
    hidden: Hidden,
    viewCount: z.number().int().min(0).meta({ description: 'How many have seen it; the author’s own stories only, 0 for others' }),
  })
  .meta({
    id: 'Story',
    description: 'A short-lived post, gone 24 hours after posting',
    example: {
      id: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
      authorId: exampleUser.id,
      caption: 'Tonight: Milonga de los Consagrados',
      media: null,
      createdAt: '2026-12-02T20:00:00.000Z',
      expiresAt: '2026-12-03T20:00:00.000Z',
      seen: false,
      hidden: false,
      viewCount: 0,
    },
  });

export const StoryReel = z
  .object({
    author: User,
    stories: z.array(Story).max(100).meta({ description: 'Oldest first, as they are watched' }),
    allSeen: z.boolean(),
  })
  .meta({ id: 'StoryReel', description: 'One author’s live stories' });

export const StoryViewer = z
  .object({ user: User, seenAt: Timestamp })
  .meta({ id: 'StoryViewer', example: { user: exampleUser, seenAt: '2026-12-02T21:00:00.000Z' } });

const StoryParams = z.object({ storyId: Uuid });
const gone =
  'A story that has expired, or that the caller may not see (they neither follow nor are friends with its author, or a block ' +
  'stands between them), is 404 `NOT_FOUND`, as one that does not exist.';

export const createStory = endpoint({
  method: 'POST',
  version: 1,
  path: '/stories',
  operationId: 'createStory',
  summary: 'Post a story',
  description: 'Seen by the author’s followers and friends for 24 hours, then gone.',
  tags: ['stories'],
  auth: 'user',
  body: z
    .object({
      caption: z.string().max(500).trim().min(1),
      mediaId: Uuid.optional().meta({ description: 'One of the caller’s finished uploads, shown with the caption' }),
    })
    .meta({ id: 'NewStory', example: { caption: 'Tonight: Milonga de los Consagrados' } }),
  response: { status: 201, body: Story },
  rateLimit: { points: 60, windowSeconds: 3600, key: 'user' },
});

export const listStoryReels = endpoint({
  method: 'GET',
  version: 1,
  path: '/stories',
  operationId: 'listStoryReels',
  summary: 'Stories of the people I follow and my friends',
  description: 'One reel per author with live stories, the author who posted last first; mine are not included.',
  tags: ['stories'],
  auth: 'user',
  response: paginated(StoryReel),
});

export const getStory = endpoint({
  method: 'GET',
  version: 1,
  path: '/stories/{storyId}',
  operationId: 'getStory',
  summary: 'Get one story',
  description: gone,
  tags: ['stories'],
  auth: 'user',
  params: StoryParams,
  response: { status: 200, body: Story },
  errors: ['NOT_FOUND'],
});

export const markStorySeen = endpoint({
  method: 'PUT',
  version: 1,
  path: '/stories/{storyId}/seen',
  operationId: 'markStorySeen',
  summary: 'Mark a story seen',
  description: `Idempotent: the first time counts. ${gone}`,
  tags: ['stories'],
  auth: 'user',
  params: StoryParams,
  response: { status: 204 },
  errors: ['NOT_FOUND'],
  rateLimit: { name: 'story-views', points: 2000, windowSeconds: 3600, key: 'user' },
});

export const listStoryViewers = endpoint({
  method: 'GET',
  version: 1,
  path: '/stories/{storyId}/viewers',
  operationId: 'listStoryViewers',
  summary: 'Who saw my story',
  description: `Its author only (403 \`FORBIDDEN\`), latest first; people across a block are left out. ${gone}`,
  tags: ['stories'],
  auth: 'user',
  params: StoryParams,
  response: paginated(StoryViewer),
  errors: ['NOT_FOUND', 'FORBIDDEN'],
});

export const deleteStory = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/stories/{storyId}',
  operationId: 'deleteStory',
  summary: 'Delete my story before it expires',
  description: `Its author only (403 \`FORBIDDEN\`). ${gone}`,
  tags: ['stories'],
  auth: 'user',
  params: StoryParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
});
