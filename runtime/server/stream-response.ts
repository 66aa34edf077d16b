import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { NDJSON } from '../contract';
import { requestState } from './request-state';
import type { ResponseContext } from './request-context';

/** The items of a stream operation as their JSON text, each made by `encode` (which checks it) as it is asked for. */
export async function* serialized(items: AsyncIterable<unknown>, encode: (item: unknown) => string): AsyncIterable<string> {
  for await (const item of items) yield encode(item);
}

/**
 * Writes a stream operation's items as NDJSON, one line each, as fast as the client reads (a full
 * socket buffer waits for `drain`). The first item is asked for before anything is written, so a
 * failure up to it is still an ordinary problem answer; a failure after it can only cut the stream
 * short (logged, the connection destroyed: the client sees a truncated body, never a partial
 * success). A client that goes away stops the handler's iterator.
 */
export async function sendStream(
  req: IncomingMessage,
  res: ServerResponse,
  lines: AsyncIterable<string>,
  headers: Record<string, string> | undefined,
  responses: ResponseContext,
  log: Logger,
): Promise<void> {
  const iterator = lines[Symbol.asyncIterator]();
  let gone = false;
  const stop = () => {
    gone = true;
  };
  // From the start: a client gone while the first item is read must stop the handler too.
  res.once('close', stop);
  try {
    let next = await iterator.next();
    if (gone) {
      await iterator.return?.();
      return;
    }
    responses.begin(req, res, { ...headers, 'Content-Type': `${NDJSON}; charset=utf-8`, 'Cache-Control': 'no-store' });
    res.writeHead(200);
    try {
      while (!next.done && !gone && !res.destroyed) {
        if (!res.write(`${next.value}\n`)) await drained(res);
        if (!gone && !res.destroyed) next = await iterator.next();
      }
      if (gone || res.destroyed) await iterator.return?.();
      else res.end();
    } catch (error) {
      log.error({ reqId: requestState(req).id, err: error }, 'stream cut short');
      res.destroy();
    }
  } finally {
    res.off('close', stop);
  }
}

/** Until the socket takes more, or the response closes; leaves no listener behind. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
