import { ApiClientError } from './errors.js';
import { isObject, parseJson, problemError } from './response.js';
import { sleep } from './retry.js';

export interface ResumableUploadOptions {
  /** The creation URL, absolute: e.g. `${baseUrl}/api/v1/uploads`. */
  url: string;
  data: Blob | Uint8Array;
  /** Claimed media type, sent as Upload-Metadata `filetype`; `name` as `filename` (both base64 per tus). */
  type: string;
  name?: string;
  /** Headers for every request (e.g. Authorization), asked again before each request so a refreshed token is used. */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /** Each PATCH carries at most this many bytes. Default 5 MiB. */
  chunkSizeBytes?: number;
  /** One entry per consecutive failed attempt; when they are used up the upload fails. Default [0, 1000, 3000, 5000]. */
  retryDelaysMs?: readonly number[];
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Called after every acknowledged PATCH with the offset the server confirmed. */
  onProgress?: (sentBytes: number, totalBytes: number) => void;
  /** The upload URL of an earlier attempt (from `onCreated`), to resume it instead of creating a new one. */
  resumeUrl?: string;
  onCreated?: (uploadUrl: string) => void;
  /** Names the upload in errors (`error.operationId`); the generated client passes its method's name. Default `upload`. */
  operationId?: string;
}

export interface ResumableUploadResult {
  uploadUrl: string;
  /** `data` of the final PATCH's `{ data }` body; undefined when the server answered 204. */
  data: unknown;
}

const TUS_VERSION = '1.0.0';
const DEFAULT_CHUNK_SIZE_BYTES = 5 * 1024 * 1024;
const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [0, 1000, 3000, 5000];
// 409: the server holds a different offset than ours (an acknowledgement was lost); 423: an earlier,
// cut request still holds the upload's lock. Both clear up once the server's offset is asked again.
const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([409, 423, 429]);

/** A failure another attempt may get past: the upload goes on from the offset the server reports. */
class TransientFailure {
  constructor(
    readonly error: ApiClientError,
    readonly retryAfterMs: number,
  ) {}
}

interface Answer {
  response: Response;
  text: string;
}

/** Uploads `data` over tus 1.0.0 (core + creation), resuming after network failures and server trouble. */
export async function uploadResumable(options: ResumableUploadOptions): Promise<ResumableUploadResult> {
  const { data, signal } = options;
  const operationId = options.operationId ?? 'upload';
  // Held in a local and called bare: browsers reject fetch called as a method of another object.
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const chunkSize = options.chunkSizeBytes ?? DEFAULT_CHUNK_SIZE_BYTES;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(`chunkSizeBytes must be a positive integer, not ${chunkSize}`);
  }
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const total = data instanceof Blob ? data.size : data.byteLength;

  async function exchange(method: string, url: string, tusHeaders: Record<string, string>, body?: BodyInit): Promise<Answer> {
    const headers = new Headers(await options.headers?.());
    headers.set('tus-resumable', TUS_VERSION);
    for (const [name, value] of Object.entries(tusHeaders)) headers.set(name, value);
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(url, { method, headers, body, signal });
      // Read to the end even when empty, so the connection is free for the next request.
      text = await response.text();
    } catch (cause) {
      if (signal?.aborted) throw aborted(operationId, cause);
      throw new TransientFailure(new ApiClientError({ status: 0, code: 'NETWORK_ERROR', operationId, cause }), 0);
    }
    if (response.ok) return { response, text };
    const error = problemError(response, text, operationId, true);
    if (response.status >= 500 || TRANSIENT_STATUSES.has(response.status)) {
      throw new TransientFailure(error, retryAfterMs(response.headers.get('retry-after')));
    }
    throw error;
  }

  async function create(): Promise<string> {
    const { response } = await exchange('POST', options.url, {
      'upload-length': String(total),
      'upload-metadata': metadata(options.type, options.name),
    });
    const location = response.headers.get('location');
    if (location === null) throw invalid(operationId, response, 'the creation answer has no Location header');
    return new URL(location, options.url).href;
  }

  async function serverOffset(uploadUrl: string): Promise<number> {
    const { response } = await exchange('HEAD', uploadUrl, {});
    // A resumeUrl of another file would otherwise get this file's bytes appended to it.
    const length = response.headers.get('upload-length');
    if (length !== null && Number(length) !== total) {
      throw invalid(operationId, response, `the upload at ${uploadUrl} is ${length} bytes long, the data ${total}`);
    }
    return offsetOf(response, 0);
  }

  async function sendChunk(uploadUrl: string, offset: number): Promise<Answer> {
    const end = Math.min(offset + chunkSize, total);
    // A Uint8Array over a SharedArrayBuffer cannot be a body; fetch would reject it like any other wrong body.
    const chunk = data instanceof Blob ? data.slice(offset, end) : (data.subarray(offset, end) as Uint8Array<ArrayBuffer>);
    return exchange('PATCH', uploadUrl, { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, chunk);
  }

  function offsetOf(response: Response, atLeast: number): number {
    const header = response.headers.get('upload-offset');
    const offset = header !== null && /^\d+$/.test(header) ? Number(header) : Number.NaN;
    // An offset that does not move forward would have the loop send the same chunk for ever.
    if (!(offset >= atLeast && offset <= total))
      throw invalid(operationId, response, `Upload-Offset ${header} is not between ${atLeast} and ${total}`);
    return offset;
  }

  let uploadUrl = options.resumeUrl;
  // Unknown after a resume or a failure: only the server knows how many bytes it kept.
  let offset: number | undefined;
  let failures = 0;
  for (;;) {
    if (signal?.aborted) throw aborted(operationId, signal.reason);
    try {
      if (uploadUrl === undefined) {
        uploadUrl = await create();
        offset = 0;
        options.onCreated?.(uploadUrl);
      } else if (offset === undefined) {
        offset = await serverOffset(uploadUrl);
      } else if (offset === total) {
        return { uploadUrl, data: undefined };
      } else {
        const answer = await sendChunk(uploadUrl, offset);
        offset = offsetOf(answer.response, offset + 1);
        failures = 0;
        options.onProgress?.(offset, total);
        if (offset === total) return { uploadUrl, data: finalData(operationId, answer) };
      }
    } catch (error) {
      if (!(error instanceof TransientFailure)) throw error;
      const delay = delays[failures];
      if (delay === undefined) throw error.error;
      failures += 1;
      offset = undefined;
      try {
        await sleep(Math.max(delay, error.retryAfterMs), signal);
      } catch (cause) {
        throw aborted(operationId, cause);
      }
    }
  }
}

function metadata(type: string, name: string | undefined): string {
  const pairs = [`filetype ${base64(type)}`];
  if (name !== undefined) pairs.push(`filename ${base64(name)}`);
  return pairs.join(',');
}

// btoa takes only Latin-1, so UTF-8 bytes go through it one character per byte.
function base64(text: string): string {
  return btoa(Array.from(new TextEncoder().encode(text), (byte) => String.fromCharCode(byte)).join(''));
}

function retryAfterMs(value: string | null): number {
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : 0;
}

function finalData(operationId: string, { response, text }: Answer): unknown {
  if (text === '') return undefined;
  const body = parseJson(text);
  if (isObject(body) && 'data' in body) return body.data;
  throw invalid(operationId, response, 'the final answer is not a JSON { data } body');
}

function invalid(operationId: string, response: Response, reason: string): ApiClientError {
  return new ApiClientError({
    status: response.status,
    code: 'INVALID_RESPONSE',
    operationId,
    requestId: response.headers.get('x-request-id') ?? undefined,
    message: `${operationId} failed: ${reason}`,
  });
}

function aborted(operationId: string, cause: unknown): ApiClientError {
  return new ApiClientError({ status: 0, code: 'ABORTED', operationId, cause });
}
