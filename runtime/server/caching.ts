import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Encoded } from './http-codec';

/**
 * HTTP caching of a GET its contract declares cacheable (RFC 9110 §8.8.3, §13.1.2; RFC 9111): a
 * strong ETag of the bytes sent, the contract's Cache-Control and Vary, and 304 without a body when
 * the request's If-None-Match names the current ETag; and If-Match for a write that declares it.
 */

/** The answer with its cache headers, or 304 when the client holds the current representation. */
export function conditionalGet(req: IncomingMessage, encoded: Encoded, policy: Record<string, string>): Encoded {
  if (encoded.body === undefined || encoded.status !== 200) return encoded;
  const etag = strongETag(encoded.body);
  const headers = { ...encoded.headers, ...policy, ETag: etag };
  // If-None-Match compares weakly (RFC 9110 §13.1.2).
  const held = req.headers['if-none-match'];
  if (held === undefined || !names(held, etag, true)) return { ...encoded, headers };
  // 304 carries what a 200 would have said of caching (RFC 9110 §15.4.5), the page's Link too.
  return { status: 304, body: undefined, headers };
}

/**
 * `If-Match` (RFC 9110 §13.1.1), strong comparison: true when absent, `*`, or when it lists the
 * ETag of `currentJson` (the `{"data":…}` text a GET of the resource answers).
 */
export function ifMatchHolds(header: string | undefined, currentJson: string): boolean {
  return header === undefined || names(header, strongETag(currentJson), false);
}

function strongETag(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** Whether a list of entity tags names `etag` (`*` names any); `weak` ignores a `W/` prefix. */
function names(header: string, etag: string, weak: boolean): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => (weak ? tag.trim().replace(/^W\//, '') : tag.trim()) === etag);
}
