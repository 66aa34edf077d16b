import type { ServerResponse } from 'node:http';

/**
 * Writes a JSON body in one `writeHead` + `end`: the hot path never goes through `res.json`.
 * Headers already set on `res` (request id, security headers, CORS) are kept by `writeHead`.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  json: string,
  contentType = 'application/json; charset=utf-8',
  headers?: Record<string, string>,
): void {
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(json));
  if (headers) for (const name in headers) res.setHeader(name, headers[name]!);
  res.writeHead(status);
  res.end(json);
}

export function sendEmpty(res: ServerResponse, status: number, headers?: Record<string, string>): void {
  if (headers) for (const name in headers) res.setHeader(name, headers[name]!);
  res.writeHead(status);
  res.end();
}
