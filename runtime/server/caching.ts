import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Encoded } from './http-codec';

/**
 * HTTP caching of a GET its contract declares cacheable (RFC 9110 §8.8.3, §13.1.2; RFC 9111): a
 * strong ETag of the bytes sent, the contract's Cache-Control and Vary, and 304 without a body when
 * the request's If-None-Match names the current ETag.
 */
function strongETag(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** The answer with its cache headers, or 304 when the client holds the current representation. */
export function conditionalGet(req: IncomingMessage, encoded: Encoded, policy: Record<string, string>): Encoded {
  if (encoded.body === undefined || encoded.status !== 200) return encoded;
  const etag = strongETag(encoded.body);
  const headers = { ...encoded.headers, ...policy, ETag: etag };
  if (noneMatchHolds(req.headers['if-none-match'], etag)) return { ...encoded, headers };
  // 304 carries what a 200 would have said of caching (RFC 9110 §15.4.5), the page's Link too.
  return { status: 304, body: undefined, headers };
}

/** True unless `If-None-Match` lists this ETag (weak comparison, as RFC 9110 §13.1.2 asks) or is `*`. */
function noneMatchHolds(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  if (header.trim() === '*') return false;
  return !header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * `If-Match` (RFC 9110 §13.1.1), strong comparison: true when absent, `*`, or when it lists the
 * ETag of `currentJson` (the `{"data":…}` text a GET of the resource answers).
 */
export function ifMatchHolds(header: string | undefined, currentJson: string): boolean {
  if (header === undefined || header.trim() === '*') return true;
  const etag = strongETag(currentJson);
  return header.split(',').some((tag) => tag.trim() === etag);
}
