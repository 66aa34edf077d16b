import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { cacheHeaders, pageKeyOf, type AnyObject, type Endpoint } from '../contract';
import { validationError } from '../core/validation';
import type { CursorCodec } from './cursor';
import { requestPath } from './request-state';

/**
 * HTTP in and out for contract routes: the query string as an object, the page query as the
 * handler's `page`, and the result as the standard envelope (`{ data }`, or `{ data, page }` with
 * a `Link` to the next page). The path parameters come from the route table, the body from body.ts.
 */

/** What the codec needs of one operation, worked out once when the router is built. */
export interface HttpShape {
  endpoint: Endpoint;
  /** Query keys declared as arrays: `?tag=a` alone must still arrive as `['a']`. */
  arrayQueryKeys: ReadonlySet<string>;
  /** Deprecation/Sunset headers every answer carries. */
  fixedHeaders: Record<string, string> | undefined;
  /** A paged operation's keyset position, as its cursors carry it. */
  pageKey: AnyObject | undefined;
  /** Cache-Control and Vary of a cacheable GET (see caching.ts). */
  caching: Record<string, string> | undefined;
}

export function httpShape(endpoint: Endpoint): HttpShape {
  return {
    endpoint,
    arrayQueryKeys: new Set(
      Object.entries(endpoint.requestQuery?.shape ?? {})
        .filter(([, schema]) => unwrap(schema as z.ZodType) instanceof z.ZodArray)
        .map(([key]) => key),
    ),
    fixedHeaders: endpoint.deprecated ? deprecationHeaders(endpoint.deprecated) : undefined,
    pageKey: 'page' in endpoint.response ? pageKeyOf(endpoint.response) : undefined,
    caching: cacheHeaders(endpoint),
  };
}

/**
 * The query as an object (`application/x-www-form-urlencoded`). Unlike URLSearchParams, a
 * malformed percent-encoding or one that is not UTF-8 is refused rather than read as U+FFFD.
 */
export function queryObject(raw: string, arrayKeys: ReadonlySet<string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  if (raw === '') return out;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeQueryPart(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeQueryPart(pair.slice(eq + 1));
    const seen = out[key];
    if (seen === undefined) out[key] = arrayKeys.has(key) ? [value] : value;
    else out[key] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

function decodeQueryPart(part: string): string {
  const text = part.includes('+') ? part.replaceAll('+', ' ') : part;
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    throw validationError([
      {
        path: '/query',
        code: 'invalid_encoding',
        message: 'The query string holds a malformed percent-encoding (or one that is not UTF-8)',
      },
    ]);
  }
}

/** A paged operation's handler gets its filters as `query` and `limit`/`cursor` as `page`. */
export function takePage(shape: HttpShape, input: Record<string, unknown>, cursors: CursorCodec): void {
  const { limit, cursor, ...filters } = input.query as { limit: number; cursor?: string };
  input.query = filters;
  input.page = { limit, after: cursor ? cursors.decode(cursor, shape.pageKey!, shape.endpoint.operationId) : null };
}

export interface Encoded {
  status: number;
  body: string | undefined;
  headers: Record<string, string> | undefined;
}

/** The handler's (checked) result as the response: 204, `{ data }`, or a page with its `Link`. */
export function encodeResult(
  shape: HttpShape,
  value: unknown,
  headers: Record<string, string> | undefined,
  req: IncomingMessage,
  rawQuery: string,
  cursors: CursorCodec,
): Encoded {
  const { response } = shape.endpoint;
  if (response.status === 204) return { status: 204, body: undefined, headers };
  if ('page' in response) {
    const { items, next } = value as { items: unknown[]; next: unknown };
    const nextCursor = next ? cursors.encode(next, shape.endpoint.operationId) : null;
    const withLink = nextCursor ? { ...headers, Link: `<${nextLink(req, shape, rawQuery, nextCursor)}>; rel="next"` } : headers;
    const page = `{"nextCursor":${JSON.stringify(nextCursor)},"hasMore":${nextCursor !== null}}`;
    return { status: 200, body: `{"data":${jsonOf(items)},"page":${page}}`, headers: withLink };
  }
  return { status: response.status, body: `{"data":${jsonOf(value)}}`, headers };
}

/** A checked result already written as JSON (by the schema's compiled serializer). */
export class JsonText {
  constructor(readonly text: string) {}
}

function jsonOf(value: unknown): string {
  return value instanceof JsonText ? value.text : JSON.stringify(value);
}

/** The next page's URL: the declared query parameters only, so an undeclared one cannot grow the header. */
function nextLink(req: IncomingMessage, shape: HttpShape, rawQuery: string, cursor: string): string {
  const declared = shape.endpoint.requestQuery?.shape ?? {};
  const query = new URLSearchParams([...new URLSearchParams(rawQuery)].filter(([key]) => Object.hasOwn(declared, key)));
  query.set('cursor', cursor);
  return `${requestPath(req)}?${query}`;
}

/** Rate-limit headers describe the request that carried them; a replay sends its own. */
export function replayableHeaders(headers: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!headers) return undefined;
  const kept = Object.entries(headers).filter(([name]) => !/^(ratelimit|ratelimit-policy|retry-after)$/i.test(name));
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

function deprecationHeaders(deprecation: NonNullable<Endpoint['deprecated']>): Record<string, string> {
  const headers: Record<string, string> = { Deprecation: `@${Math.floor(Date.parse(deprecation.since) / 1000)}` };
  if (deprecation.sunset) headers.Sunset = new Date(deprecation.sunset).toUTCString();
  return headers;
}

/** The schema under optional/default/nullable wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}
