import { z } from 'zod';

/** Shared schemas every contract builds on: ids, timestamps, the page query, the problem body. */

export const Uuid = z.uuid().meta({ description: 'Identifier (UUID)', example: '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d' });

export const Timestamp = z.iso
  .datetime({ offset: true })
  .meta({ description: 'Date and time, RFC 3339', example: '2026-12-05T21:00:00.000Z' });

export const PAGE_LIMIT_DEFAULT = 20;
export const PAGE_LIMIT_MAX = 100;

export const PageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(PAGE_LIMIT_MAX)
    .default(PAGE_LIMIT_DEFAULT)
    .meta({ description: `Items per page (1–${PAGE_LIMIT_MAX})`, example: PAGE_LIMIT_DEFAULT }),
  cursor: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .meta({ description: 'Opaque cursor from `page.nextCursor` of the previous page' }),
});

export const PageInfo = z
  .object({
    nextCursor: z.string().max(512).nullable(),
    hasMore: z.boolean(),
  })
  .meta({ id: 'PageInfo', description: 'Where the next page starts; `nextCursor` is null on the last page' });

export const ProblemFieldError = z
  .object({
    path: z.string().max(500).meta({ description: 'JSON Pointer into the request, e.g. /body/title' }),
    code: z.string().max(100),
    message: z.string().max(1000),
  })
  .meta({ id: 'ProblemFieldError' });

export const Problem = z
  .object({
    type: z.string().max(500).meta({ description: 'URI of the problem type' }),
    title: z.string().max(200),
    status: z.number().int().min(400).max(599),
    code: z.string().max(100).meta({ description: 'Stable UPPER_SNAKE_CASE error code' }),
    detail: z.string().max(2000).optional(),
    instance: z.string().max(2000).optional(),
    requestId: z.string().max(200).optional(),
    errors: z.array(ProblemFieldError).max(100).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export type ProblemBody = z.infer<typeof Problem>;
