import { z } from 'zod';
import { endpoint, paginated, Timestamp, Uuid } from '../runtime/contract';
import { Media, MediaIds } from './media';
import { Hidden } from './moderation';
import { exampleUser, User } from './users';

export const MemoryVisibility = z.enum(['public', 'friends', 'private']).meta({
  id: 'MemoryVisibility',
  description:
    '`public`: anyone; `friends`: the owner’s accepted friends; `private`: the owner. People tagged in a memory always see it. ' +
    'Never anyone across a block with the owner.',
});

/** A calendar date, YYYY-MM-DD, years 1900–9999. */
const Day = z.iso
  .date()
  .refine((day) => day >= '1900-01-01', { message: 'A tango memory is from 1900 or later' })
  .meta({ description: 'The day it happened (YYYY-MM-DD)', example: '2019-03-16' });

export const Memory = z
  .object({
    id: Uuid,
    owner: User,
    title: z.string().max(200),
    body: z.string().max(5000),
    happenedOn: Day,
    city: z.string().max(100).nullable(),
    place: z.string().max(200).nullable().meta({ description: 'The venue or place, as the owner names it' }),
    eventId: Uuid.nullable(),
    visibility: MemoryVisibility,
    tagged: z.array(User).max(50).meta({ description: 'The friends tagged in it (those the caller may see)' }),
    media: z.array(Media).max(10).meta({ description: 'Photos and videos, in the order the owner chose' }),
    createdAt: Timestamp,
    editedAt: Timestamp.nullable(),
    hidden: Hidden,
  })
  .meta({
    id: 'Memory',
    description: 'A moment of a dancer’s tango life, kept in their archive',
    example: {
      id: '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d',
      owner: exampleUser,
      title: 'First tanda with Carlos',
      body: 'Di Sarli, and the floor was ours.',
      happenedOn: '2019-03-16',
      city: 'Buenos Aires',
      place: 'Salón Canning',
      eventId: null,
      visibility: 'friends',
      tagged: [],
      media: [],
      createdAt: '2026-11-20T12:00:00.000Z',
      editedAt: null,
      hidden: false,
    },
  });

const title = z.string().max(200).trim().min(1);
const body = z.string().max(5000);
const city = z.string().max(100).trim().min(1);
const place = z.string().max(200).trim().min(1);

export const NewMemory = z
  .object({
    title,
    body: body.optional(),
    happenedOn: Day,
    city: city.optional(),
    place: place.optional(),
    eventId: Uuid.optional().meta({ description: 'An event the caller may see' }),
    visibility: MemoryVisibility,
    taggedIds: z
      .array(Uuid)
      .max(50)
      .optional()
      .meta({ description: 'Friends to tag: anyone else is a validation error on their index, as for an unknown user' }),
    mediaIds: MediaIds.optional(),
  })
  .meta({
    id: 'NewMemory',
    example: { title: 'First tanda with Carlos', happenedOn: '2019-03-16', city: 'Buenos Aires', visibility: 'friends' },
  });

export const MemoryPatch = z
  .object({
    title: title.optional(),
    body: body.optional(),
    happenedOn: Day.optional(),
    city: city.nullable().optional(),
    place: place.nullable().optional(),
    visibility: MemoryVisibility.optional(),
    taggedIds: z.array(Uuid).max(50).optional().meta({ description: 'The whole new list of tagged friends' }),
    mediaIds: MediaIds.optional().meta({ description: 'The whole new list of media' }),
  })
  .meta({ id: 'MemoryPatch', description: 'Fields to change; `null` clears city or place', example: { visibility: 'public' } });

const MemoryParams = z.object({ memoryId: Uuid });
const unseen = 'A memory the caller may not see is 404 `NOT_FOUND`, as one that does not exist.';
const writes = { name: 'memory-writes', points: 300, windowSeconds: 3600, key: 'user' } as const;

export const createMemory = endpoint({
  method: 'POST',
  version: 1,
  path: '/memories',
  operationId: 'createMemory',
  summary: 'Keep a memory',
  description: 'Only friends can be tagged; each one tagged is notified.',
  tags: ['memories'],
  auth: 'user',
  body: NewMemory,
  response: { status: 201, body: Memory },
  rateLimit: writes,
});

export const getMemory = endpoint({
  method: 'GET',
  version: 1,
  path: '/memories/{memoryId}',
  operationId: 'getMemory',
  summary: 'Get one memory',
  description: `Signed in or not. ${unseen}`,
  tags: ['memories'],
  auth: 'optional',
  params: MemoryParams,
  response: { status: 200, body: Memory },
  errors: ['NOT_FOUND'],
});

export const updateMemory = endpoint({
  method: 'PATCH',
  version: 1,
  path: '/memories/{memoryId}',
  operationId: 'updateMemory',
  summary: 'Change my memory',
  description: `Its owner only (403 \`FORBIDDEN\`). Newly tagged friends are notified. ${unseen}`,
  tags: ['memories'],
  auth: 'user',
  params: MemoryParams,
  body: MemoryPatch,
  response: { status: 200, body: Memory },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
  rateLimit: writes,
});

export const deleteMemory = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/memories/{memoryId}',
  operationId: 'deleteMemory',
  summary: 'Delete my memory',
  description: `Its owner only (403 \`FORBIDDEN\`). ${unseen}`,
  tags: ['memories'],
  auth: 'user',
  params: MemoryParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
  rateLimit: writes,
});

export const removeMyMemoryTag = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/memories/{memoryId}/tags/me',
  operationId: 'removeMyMemoryTag',
  summary: 'Untag myself from a memory',
  description: `Idempotent: 204 whether or not the caller was tagged, for any memory the caller may see. ${unseen}`,
  tags: ['memories'],
  auth: 'user',
  params: MemoryParams,
  response: { status: 204 },
  errors: ['NOT_FOUND'],
  rateLimit: writes,
});

export const listMyMemories = endpoint({
  method: 'GET',
  version: 1,
  path: '/users/me/memories',
  operationId: 'listMyMemories',
  summary: 'List my memories, or those I am tagged in',
  description: 'Most recent day first. `tagged=true`: the memories of others the caller is tagged in (and may see).',
  tags: ['memories'],
  auth: 'user',
  query: z.object({ tagged: z.enum(['true', 'false']).optional().meta({ description: 'Memories I am tagged in instead of mine' }) }),
  response: paginated(Memory),
});

export const listMemoriesOnThisDay = endpoint({
  method: 'GET',
  version: 1,
  path: '/users/me/memories/on-this-day',
  operationId: 'listMemoriesOnThisDay',
  summary: 'On this day',
  description:
    'My memories and those I am tagged in from this day of the month in earlier years, latest year first. The day is today in ' +
    'UTC unless `date` (YYYY-MM-DD) names another, so a client can ask for its own time zone’s today.',
  tags: ['memories'],
  auth: 'user',
  query: z.object({ date: Day.optional() }),
  response: paginated(Memory),
});
