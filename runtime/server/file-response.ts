import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname } from 'node:path';
import send from 'send';
import type { FileResult } from '../contract';
import { ApiError } from '../core/api-error';
import type { ResponseContext } from './request-context';

/**
 * Streams a file operation's result: `send` answers HEAD, `Range` (206, 416 for an unsatisfiable
 * one), `If-None-Match`/`If-Modified-Since` (304) and `If-Range` from the file's ETag and mtime;
 * the type and caching are the handler's. A file gone between the handler and the read is a 404.
 */
export function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: FileResult,
  headers: Record<string, string> | undefined,
  responses: ResponseContext,
  onError: (error: unknown) => void,
): void {
  responses.begin(req, res, {
    ...headers,
    'Content-Type': file.type,
    'Cache-Control': file.cacheControl,
    // Files are meant to be shown by apps on other origins (<img>, <video>); who may read one is
    // decided by the handler, whatever the origin asking.
    'Cross-Origin-Resource-Policy': 'cross-origin',
  });
  // Served from the file's own directory, by its name: nothing in the request reaches the path.
  send(req, `/${basename(file.path)}`, { root: dirname(file.path), cacheControl: false, dotfiles: 'deny', index: false })
    .on('error', (error: { status?: number; headers?: Record<string, string> }) => {
      for (const name of ['Content-Type', 'Cache-Control', 'ETag', 'Last-Modified', 'Accept-Ranges']) res.removeHeader(name);
      onError(problemOf(error));
    })
    .pipe(res);
}

/** What `send` refuses, as the API's problems; anything else is the server's failure. */
function problemOf(error: { status?: number; headers?: Record<string, string> }): unknown {
  switch (error.status) {
    case 404:
      return new ApiError('NOT_FOUND', 'The file is gone');
    case 412:
      return new ApiError('PRECONDITION_FAILED', 'The file does not match If-Match or If-Unmodified-Since');
    case 416:
      return new ApiError('RANGE_NOT_SATISFIABLE', 'The range is past the end of the file', { headers: error.headers ?? {} });
    default:
      return error;
  }
}
