import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../core/api-error';
import { inputErrors } from '../core/input-check';
import { validationError } from '../core/validation';

/**
 * Reads a JSON request body with the checks express.json() would make (size limit, content type,
 * malformed JSON) plus strict UTF-8 and the input rules of input-check.ts, without its per-route cost.
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
    throw unsupported();
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
  // Only bodies that could hold a refused key or text are walked: raw NUL and invalid UTF-8 never
  // reach here, so NUL and lone surrogates can only come from a `\u` escape, which can spell any key.
  if (text.includes('__proto__') || text.includes('constructor') || text.includes('\\u')) {
    const errors = inputErrors(value, '/body');
    if (errors.length > 0) throw validationError(errors);
  }
  return value;
}

/**
 * A body the app's own parser (mounted in an Express app) has read already: the same rules as
 * readJsonBody as far as they can still be checked — JSON content type, no content coding, the
 * size limit, the input rules. (Invalid UTF-8 is the app's parser's to refuse; body-parser does.)
 */
export function parsedBody(req: IncomingMessage & { body?: unknown }, options: BodyOptions): unknown {
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (length === undefined || length === '0')) return undefined;
  const type = req.headers['content-type'];
  if (!type || !JSON_TYPE.test(type)) throw unsupported();
  const coding = req.headers['content-encoding'];
  if (coding !== undefined && coding.toLowerCase() !== 'identity') {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the body without a content coding', { headers: { 'Accept-Encoding': 'identity' } });
  }
  const size = length === undefined ? Buffer.byteLength(JSON.stringify(req.body) ?? '') : Number(length);
  if (size > options.limitBytes) throw tooLarge(options.limitBytes);
  const errors = inputErrors(req.body, '/body');
  if (errors.length > 0) throw validationError(errors);
  return req.body;
}

function unsupported(): ApiError {
  return new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json', { headers: { 'Accept-Post': 'application/json' } });
}

/** A body being read: kept on the request, so the listeners are module functions, not per-request closures. */
interface Reading {
  chunks: Buffer[];
  size: number;
  limit: number;
  resolve: (text: string) => void;
  reject: (error: ApiError) => void;
}
const READING = Symbol('body being read');
type Reader = IncomingMessage & { [READING]?: Reading };

function readText(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    (req as Reader)[READING] = { chunks: [], size: 0, limit, resolve, reject };
    req.on('data', onBodyData);
    req.on('end', onBodyEnd);
    req.on('error', onBodyError);
  });
}

// Listeners run with `this` set to the request.
function onBodyData(this: Reader, chunk: Buffer): void {
  const reading = this[READING]!;
  reading.size += chunk.length;
  if (reading.size > reading.limit) {
    stopReading(this);
    this.resume();
    reading.reject(tooLarge(reading.limit));
    return;
  }
  reading.chunks.push(chunk);
}

function onBodyEnd(this: Reader): void {
  const { chunks, size, resolve, reject } = stopReading(this);
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  // A lossy decode would store U+FFFD in place of what the client sent.
  if (!isUtf8(bytes)) reject(new ApiError('MALFORMED_JSON', 'The body is not valid UTF-8'));
  else resolve(bytes.toString('utf8'));
}

function onBodyError(this: Reader, error: Error): void {
  stopReading(this).reject(new ApiError('MALFORMED_JSON', `The body could not be read: ${error.message}`));
}

function stopReading(req: Reader): Reading {
  const reading = req[READING]!;
  req[READING] = undefined;
  req.off('data', onBodyData);
  req.off('end', onBodyEnd);
  req.off('error', onBodyError);
  return reading;
}

function tooLarge(limit: number): ApiError {
  return new ApiError('PAYLOAD_TOO_LARGE', `The body is larger than ${limit} bytes`);
}
