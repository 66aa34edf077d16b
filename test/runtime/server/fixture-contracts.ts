/** The fixture API's contracts: one endpoint per runtime behaviour the tests exercise. */
import { z } from 'zod';
import { defineErrors, endpoint, paginated } from '../../../runtime/contract';

export const domainErrors = defineErrors({
  ITEM_GONE: { status: 410, title: 'Item gone' },
});

// ---- contracts -----------------------------------------------------------------------------

export const Item = z.object({
  id: z.number().int(),
  title: z.string().max(100),
});

const PageItem = z.object({
  id: z.string().max(20),
  tag: z.string().max(20),
  createdAt: z.string().max(40),
});

export const getItem = endpoint({
  method: 'GET',
  version: 1,
  path: '/items/{id}',
  operationId: 'getItem',
  summary: 'Get one item',
  tags: ['items'],
  auth: 'public',
  params: z.object({ id: z.coerce.number().int().min(1).max(1_000_000) }),
  query: z.object({ scale: z.coerce.number().int().min(1).max(10).optional() }),
  response: { status: 200, body: Item },
  errors: ['ITEM_GONE'],
});

export const deleteItem = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/items/{id}',
  operationId: 'deleteItem',
  summary: 'Delete one item',
  tags: ['items'],
  auth: 'public',
  params: z.object({ id: z.coerce.number().int().min(1) }),
  response: { status: 204 },
});

export const createItem = endpoint({
  method: 'POST',
  version: 1,
  path: '/items',
  operationId: 'createItem',
  summary: 'Create an item',
  tags: ['items'],
  auth: 'public',
  body: z
    .object({
      title: z.string().min(1).max(100),
      startsAt: z.number().int().optional(),
      endsAt: z.number().int().optional(),
      meta: z.record(z.string().max(50), z.unknown()).optional(),
      nested: z.object({ note: z.string().max(50).optional() }).optional(),
    })
    .refine((v) => v.startsAt === undefined || v.endsAt === undefined || v.endsAt > v.startsAt, {
      message: 'endsAt must be after startsAt',
      path: ['endsAt'],
    }),
  response: { status: 201, body: Item },
});

export const listItems = endpoint({
  method: 'GET',
  version: 1,
  path: '/items',
  operationId: 'listItems',
  summary: 'List items',
  tags: ['items'],
  auth: 'public',
  query: z.object({ tag: z.string().max(20).optional() }),
  response: paginated(PageItem),
});

export const whoAmI = endpoint({
  method: 'GET',
  version: 1,
  path: '/me',
  operationId: 'whoAmI',
  summary: 'The signed-in user',
  tags: ['auth'],
  auth: 'user',
  response: { status: 200, body: z.object({ id: z.string().max(100), roles: z.array(z.string().max(50)).max(10) }) },
});

export const adminStats = endpoint({
  method: 'GET',
  version: 1,
  path: '/admin/stats',
  operationId: 'adminStats',
  summary: 'Admin only',
  tags: ['auth'],
  auth: { roles: ['admin'] },
  response: { status: 200, body: z.object({ ok: z.boolean() }) },
});

export const filterByTags = endpoint({
  method: 'GET',
  version: 1,
  path: '/filter',
  operationId: 'filterByTags',
  summary: 'Echo an array query',
  tags: ['misc'],
  auth: 'public',
  query: z.object({ tags: z.array(z.string().max(20)).max(5).optional() }),
  response: { status: 200, body: z.object({ tags: z.array(z.string().max(20)).max(5) }) },
});

export const ping = endpoint({
  method: 'GET',
  version: 1,
  path: '/ping',
  operationId: 'ping',
  summary: 'Public ping',
  tags: ['misc'],
  auth: 'public',
  response: { status: 200, body: z.object({ user: z.string().max(100).nullable() }) },
});

export const limited = endpoint({
  method: 'GET',
  version: 1,
  path: '/limited',
  operationId: 'limited',
  summary: 'Rate limited',
  tags: ['misc'],
  auth: 'public',
  rateLimit: { points: 2, windowSeconds: 60, key: 'ip' },
  response: { status: 200, body: z.object({ ok: z.boolean() }) },
});

export const DEPRECATED_SINCE = '2026-01-01T00:00:00Z';
export const SUNSET = '2026-12-31T23:59:59Z';

export const legacy = endpoint({
  method: 'GET',
  version: 1,
  path: '/legacy',
  operationId: 'legacy',
  summary: 'Deprecated',
  tags: ['misc'],
  auth: 'public',
  deprecated: { since: DEPRECATED_SINCE, sunset: SUNSET, use: 'ping' },
  response: { status: 200, body: z.object({ ok: z.boolean() }) },
});

export const boom = endpoint({
  method: 'GET',
  version: 1,
  path: '/boom',
  operationId: 'boom',
  summary: 'Throws',
  tags: ['misc'],
  auth: 'public',
  response: { status: 200, body: z.object({ ok: z.boolean() }) },
});

export const broken = endpoint({
  method: 'GET',
  version: 1,
  path: '/broken',
  operationId: 'broken',
  summary: 'Breaks its response schema',
  tags: ['misc'],
  auth: 'public',
  response: { status: 200, body: Item },
});

export const gone = endpoint({
  method: 'GET',
  version: 1,
  path: '/gone',
  operationId: 'gone',
  summary: 'Throws a registered ApiError',
  tags: ['misc'],
  auth: 'public',
  response: { status: 200, body: z.object({ ok: z.boolean() }) },
  errors: ['ITEM_GONE'],
});

export const unregistered = endpoint({
  method: 'GET',
  version: 1,
  path: '/unregistered',
  operationId: 'unregistered',
  summary: 'Throws an ApiError with a code nobody registered',
  tags: ['misc'],
  auth: 'public',
  response: { status: 200, body: z.object({ ok: z.boolean() }) },
});

export const tenant = endpoint({
  method: 'GET',
  version: 1,
  path: '/tenant',
  operationId: 'tenant',
  summary: 'Reads a header',
  tags: ['misc'],
  auth: 'public',
  headers: z.object({ 'x-tenant': z.string().min(1).max(10) }),
  response: { status: 200, body: z.object({ tenant: z.string().max(10) }) },
});

export const submitOnly = endpoint({
  method: 'POST',
  version: 1,
  path: '/submit',
  operationId: 'submitOnly',
  summary: 'POST only',
  tags: ['misc'],
  auth: 'public',
  body: z.object({ n: z.number().int() }),
  response: { status: 201, body: z.object({ n: z.number().int() }) },
});

export const rawList = endpoint({
  method: 'POST',
  version: 1,
  path: '/raw',
  operationId: 'rawList',
  summary: 'Takes a list of free-form values',
  tags: ['misc'],
  auth: 'public',
  body: z.array(z.unknown()).max(5),
  response: { status: 201, body: z.object({ count: z.number().int() }) },
});

export const slow = endpoint({
  method: 'GET',
  version: 1,
  path: '/slow',
  operationId: 'slow',
  summary: 'Takes a while',
  tags: ['misc'],
  auth: 'public',
  response: { status: 200, body: z.object({ done: z.boolean() }) },
});

export const issueSecret = endpoint({
  method: 'POST',
  version: 1,
  path: '/secrets',
  operationId: 'issueSecret',
  summary: 'Answers with a credential: never stored for replay',
  tags: ['misc'],
  auth: 'public',
  idempotencyKey: false,
  body: z.object({ label: z.string().max(20) }),
  response: { status: 201, body: z.object({ secret: z.string().max(100) }) },
});

export const tryCode = endpoint({
  method: 'POST',
  version: 1,
  path: '/attempts',
  operationId: 'tryCode',
  summary: 'Failures are limited; successes are idempotent',
  tags: ['misc'],
  auth: 'user',
  body: z.object({ code: z.string().max(20) }),
  rateLimit: { points: 2, windowSeconds: 60, key: 'user', failuresOnly: true },
  response: { status: 200, body: z.object({ sessionId: z.string().max(100).nullable() }) },
  errors: ['FORBIDDEN'],
});

// ---- handlers ------------------------------------------------------------------------------
