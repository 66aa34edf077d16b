import { z } from 'zod';

/** Shared schemas every contract builds on: ids, timestamps, the page query, the problem body. */

export const Uuid = z.uuid().meta({ description: 'Identifier (UUID)', example: '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d' });

/**
 * RFC 3339 with an offset, naming an instant of the years 0001–9999 (UTC): year 0000 and
 * offsets that carry an instant past either end are refused here, not by the database.
 */
export const Timestamp = z.iso
  .datetime({ offset: true })
  .refine(inStoredYears, { message: 'Must fall within the years 0001–9999 (UTC)' })
  .meta({ description: 'Date and time, RFC 3339, years 0001–9999', example: '2026-12-05T21:00:00.000Z' });

function inStoredYears(value: string): boolean {
  // Years 0002–9998 stay in range whatever the offset: only the edges need the date's UTC year
  // (parsing it is most of this check's cost otherwise).
  const year = Number(value.slice(0, 4));
  if (year >= 2 && year <= 9998) return true;
  const utc = new Date(value).getUTCFullYear();
  return utc >= 1 && utc <= 9999;
}

/**
 * An absolute http(s) URL, kept in its normalized ASCII form (`new URL(v).href`: punycode host,
 * percent-encoded path), so what is stored and returned is a valid `format: uri`.
 */
export function httpUrl(maxLength = 2048) {
  return (
    z
      .url({ protocol: /^https?$/ })
      // Checks run in order and an overwrite runs even after z.url() refused the value.
      .overwrite((value) => (URL.canParse(value) ? new URL(value).href : value))
      .max(maxLength)
      .meta({ description: `An http(s) URL, returned in normalized ASCII form (at most ${maxLength} characters)` })
  );
}

export const PAGE_LIMIT_DEFAULT = 20;
export const PAGE_LIMIT_MAX = 100;

/** A query integer: decimal digits only (`Number()` would also read `0x10`, `1e1` and ` 16`). */
function decimal(value: unknown): unknown {
  return typeof value === 'string' ? (/^(0|[1-9][0-9]{0,8})$/.test(value) ? Number(value) : Number.NaN) : value;
}

export const PageQuery = z.object({
  limit: z
    .preprocess(decimal, z.number().int().min(1).max(PAGE_LIMIT_MAX))
    .default(PAGE_LIMIT_DEFAULT)
    .meta({ description: `Items per page (1–${PAGE_LIMIT_MAX})`, example: PAGE_LIMIT_DEFAULT }),
  cursor: z.string().min(1).max(512).optional().meta({ description: 'Opaque cursor from `page.nextCursor` of the previous page' }),
});

export const PageInfo = z
  .object({
    nextCursor: z.string().max(512).nullable(),
    hasMore: z.boolean(),
  })
  .meta({ id: 'PageInfo', description: 'Where the next page starts; `nextCursor` is null on the last page' });

/** The bounds of a problem body; the runtime clips what it sends to them. */
export const PROBLEM_LIMITS = {
  detail: 2000,
  instance: 2000,
  errors: 100,
  errorPath: 500,
  errorCode: 100,
  errorMessage: 1000,
} as const;

export const ProblemFieldError = z
  .object({
    path: z.string().max(PROBLEM_LIMITS.errorPath).meta({ description: 'JSON Pointer into the request, e.g. /body/title' }),
    code: z.string().max(PROBLEM_LIMITS.errorCode),
    message: z.string().max(PROBLEM_LIMITS.errorMessage),
  })
  .meta({ id: 'ProblemFieldError' });

export const Problem = z
  .object({
    type: z.string().max(500).meta({ description: 'URI of the problem type' }),
    title: z.string().max(200),
    status: z.number().int().min(400).max(599),
    code: z.string().max(100).meta({ description: 'Stable UPPER_SNAKE_CASE error code' }),
    detail: z.string().max(PROBLEM_LIMITS.detail).optional(),
    instance: z.string().max(PROBLEM_LIMITS.instance).optional(),
    requestId: z.string().max(200).optional(),
    errors: z
      .array(ProblemFieldError)
      .max(PROBLEM_LIMITS.errors)
      .optional()
      .meta({ description: `The invalid fields, at most ${PROBLEM_LIMITS.errors}; \`detail\` says how many there were` }),
    until: Timestamp.optional().meta({ description: 'When the state behind the problem ends by itself (a suspension, a lock)' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export type ProblemBody = z.infer<typeof Problem>;
