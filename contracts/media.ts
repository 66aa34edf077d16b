import { z } from 'zod';
import { endpoint, paginated, Timestamp, upload, Uuid } from '../runtime/contract';

const MiB = 1024 * 1024;

/** What may be uploaded, by the type its bytes show. Images are re-encoded; videos are kept as sent. */
export const MEDIA_TYPES = {
  'image/jpeg': { maxBytes: 20 * MiB },
  'image/png': { maxBytes: 20 * MiB },
  'image/webp': { maxBytes: 20 * MiB },
  'video/mp4': { maxBytes: 200 * MiB },
  'video/webm': { maxBytes: 200 * MiB },
} as const;

export const MediaType = z.enum(Object.keys(MEDIA_TYPES) as [keyof typeof MEDIA_TYPES, ...(keyof typeof MEDIA_TYPES)[]]);

export const Media = z
  .object({
    id: Uuid,
    ownerId: Uuid,
    kind: z.enum(['image', 'video']),
    type: MediaType.meta({ description: 'The media type of the stored file (read from its bytes)' }),
    sizeBytes: z.number().int().min(1),
    width: z.number().int().min(1).nullable().meta({ description: 'In pixels, for images; null for videos' }),
    height: z.number().int().min(1).nullable(),
    url: z.string().max(200).meta({ description: 'Where the file is served, relative to the API’s origin' }),
    thumbnailUrl: z
      .string()
      .max(200)
      .nullable()
      .meta({ description: 'A WebP at most 320 px on its longer side, for images; null for videos' }),
    createdAt: Timestamp,
  })
  .meta({
    id: 'Media',
    description:
      'An uploaded file. Whoever may see a post, memory, story or profile that shows it may see it; until something ' +
      'shows it, only its owner. One that nothing shows a day after its upload is deleted.',
    example: {
      id: '7c6b5a49-3827-4615-9a04-f3e2d1c0b9a8',
      ownerId: '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d',
      kind: 'image',
      type: 'image/jpeg',
      sizeBytes: 482133,
      width: 1600,
      height: 1067,
      url: '/api/v1/media/7c6b5a49-3827-4615-9a04-f3e2d1c0b9a8/file',
      thumbnailUrl: '/api/v1/media/7c6b5a49-3827-4615-9a04-f3e2d1c0b9a8/file?variant=thumbnail',
      createdAt: '2026-12-02T21:30:00.000Z',
    },
  });

/** The ids of my uploads to show with a post, memory or story, in order. */
export const MediaIds = z
  .array(Uuid)
  .max(10)
  .refine((ids) => new Set(ids).size === ids.length, 'An upload may appear once')
  .meta({ description: 'Ids of the caller’s own finished uploads, in the order shown; at most 10' });

export const uploadMedia = upload({
  version: 1,
  path: '/uploads',
  operationId: 'uploadMedia',
  summary: 'Upload a photo or a video',
  description:
    'Images are re-encoded with their metadata removed (EXIF location included), turned upright, and get a thumbnail. ' +
    'Everything I store counts against my quota (`QUOTA_EXCEEDED`); a file whose bytes are not a readable image or ' +
    'video of an accepted type is refused (`UNSUPPORTED_MEDIA_TYPE`, `INVALID_MEDIA`) and deleted.',
  tags: ['media'],
  auth: 'user',
  types: MEDIA_TYPES,
  response: { body: Media, description: 'The upload is whole: the stored media' },
  errors: ['QUOTA_EXCEEDED', 'INVALID_MEDIA'],
  rateLimit: { points: 200, windowSeconds: 3600, key: 'user' },
});

const MediaParams = z.object({ mediaId: Uuid });
const hidden = 'Media the caller may not see is 404 `NOT_FOUND`, as one that does not exist.';

export const getMedia = endpoint({
  method: 'GET',
  version: 1,
  path: '/media/{mediaId}',
  operationId: 'getMedia',
  summary: 'Describe an uploaded file',
  description: hidden,
  tags: ['media'],
  auth: 'optional',
  params: MediaParams,
  response: { status: 200, body: Media },
  errors: ['NOT_FOUND'],
});

export const downloadMedia = endpoint({
  method: 'GET',
  version: 1,
  path: '/media/{mediaId}/file',
  operationId: 'downloadMedia',
  summary: 'The file itself, or its thumbnail',
  description:
    'Supports `Range` (206) and revalidation (`ETag` → 304). Media anyone may see is `Cache-Control: public`; the rest ' +
    `\`private\`. A video has no thumbnail (404). ${hidden}`,
  tags: ['media'],
  auth: 'optional',
  params: MediaParams,
  query: z.object({ variant: z.enum(['original', 'thumbnail']).default('original') }),
  response: { status: 200, file: { types: ['image/jpeg', 'image/png', 'image/webp', 'video/mp4', 'video/webm'] } },
  errors: ['NOT_FOUND'],
});

export const listMyMedia = endpoint({
  method: 'GET',
  version: 1,
  path: '/media',
  operationId: 'listMyMedia',
  summary: 'My uploads',
  description: 'Latest first, whether anything shows them yet or not.',
  tags: ['media'],
  auth: 'user',
  response: paginated(Media),
});

export const getMediaQuota = endpoint({
  method: 'GET',
  version: 1,
  path: '/media/quota',
  operationId: 'getMediaQuota',
  summary: 'How much of my storage quota I use',
  tags: ['media'],
  auth: 'user',
  response: {
    status: 200,
    body: z
      .object({ usedBytes: z.number().int().min(0), limitBytes: z.number().int().min(0) })
      .meta({ id: 'MediaQuota', example: { usedBytes: 48213300, limitBytes: 1073741824 } }),
  },
});

export const deleteMedia = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/media/{mediaId}',
  operationId: 'deleteMedia',
  summary: 'Delete one of my uploads',
  description: `Its owner only (403 \`FORBIDDEN\`); one that a post, memory, story or my profile still shows is 409 \`MEDIA_IN_USE\`. ${hidden}`,
  tags: ['media'],
  auth: 'user',
  params: MediaParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'FORBIDDEN', 'MEDIA_IN_USE'],
});
