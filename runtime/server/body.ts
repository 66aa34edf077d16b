import type { IncomingMessage } from 'node:http';
import { ApiError } from './api-error';

/**
 * Reads a JSON request body with the checks express.json() would make (size limit, content type,
 * malformed JSON) plus a refusal of prototype-poisoning keys, without its per-route cost.
 */
export interface BodyOptions {
  limitBytes: number;
}

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

export async function readJsonBody(req: IncomingMessage, options: BodyOptions): Promise<unknown> {
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (length === undefined || length === '0')) return undefined;

  const type = req.headers['content-type'];
  if (!type || !JSON_TYPE.test(type)) {
    req.resume();
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json', {
      headers: { 'Accept-Post': 'application/json' },
    });
  }
  if (length !== undefined && Number(length) > options.limitBytes) {
    req.resume();
    throw tooLarge(options.limitBytes);
  }

  const text = await readText(req, options.limitBytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ApiError('MALFORMED_JSON', `The body is not valid JSON: ${(error as Error).message}`);
  }
  // Only bodies that could spell a dangerous key are walked; a `\u` escape can spell any key.
  if (text.includes('__proto__') || text.includes('constructor') || text.includes('\\u')) refusePoisonedKeys(value, '/body');
  return value;
}

function readText(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new ApiError('MALFORMED_JSON', `The body could not be read: ${error.message}`));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function tooLarge(limit: number): ApiError {
  return new ApiError('PAYLOAD_TOO_LARGE', `The body is larger than ${limit} bytes`);
}

/**
 * `{"__proto__": …}` and `{"constructor": {"prototype": …}}` can poison objects merged later.
 * Walked with an explicit stack: a deeply nested body must not overflow the call stack.
 */
function refusePoisonedKeys(root: unknown, rootPath: string): void {
  const stack: [unknown, string][] = [[root, rootPath]];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      const poisoned =
        key === '__proto__' ||
        (key === 'constructor' && typeof child === 'object' && child !== null && 'prototype' in child);
      if (poisoned) {
        const message = `The key "${key}" is not allowed`;
        throw new ApiError('VALIDATION_FAILED', message, {
          errors: [{ path: `${path}/${key}`, code: 'forbidden_key', message }],
        });
      }
      if (typeof child === 'object' && child !== null) stack.push([child, `${path}/${key}`]);
    }
  }
}
