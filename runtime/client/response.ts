import { ApiClientError } from './errors.js';
import type { OperationDescriptor, Problem } from './types.js';

export type AttemptOutcome = { ok: true; value: unknown } | { ok: false; error: ApiClientError; retryAfter: string | null };

/** Turns a response into the caller's value or an ApiClientError, reading the body exactly once. */
/** `signal`: the caller's, which also stops a stream answer being read. */
export async function readResponse(response: Response, op: OperationDescriptor, signal?: AbortSignal): Promise<AttemptOutcome> {
  if (response.ok) return readSuccess(response, op, signal);
  const error = problemError(response, await response.text(), op.operationId);
  return { ok: false, error, retryAfter: response.headers.get('retry-after') };
}

/**
 * A non-2xx answer as the one error: its problem body, or one made up from the status. A body is
 * read as a problem when it says it is JSON, or whatever it says with `anyContentType` (a tus
 * server's hooks set an error's body, not its Content-Type).
 */
export function problemError(response: Response, text: string, operationId: string, anyContentType = false): ApiClientError {
  const headerRequestId = response.headers.get('x-request-id') ?? undefined;
  const problem = parseProblem(text, response, anyContentType) ?? synthesizeProblem(response, headerRequestId);
  return new ApiClientError({
    status: response.status,
    code: problem.code,
    operationId,
    problem,
    requestId: typeof problem.requestId === 'string' ? problem.requestId : headerRequestId,
  });
}

async function readSuccess(response: Response, op: OperationDescriptor, signal?: AbortSignal): Promise<AttemptOutcome> {
  if (response.status === 204) return { ok: true, value: undefined };
  if (op.file) return { ok: true, value: await response.blob() };
  if (op.stream) return { ok: true, value: ndjsonItems(response, op.operationId, signal) };
  const body = parseJson(await response.text());
  if (isObject(body) && 'data' in body && (!op.paged || isPage(body))) {
    return { ok: true, value: op.paged ? body : body.data };
  }
  // A success the client cannot unwrap is a broken contract, not a transient failure: never retried.
  const error = new ApiClientError({
    status: response.status,
    code: 'INVALID_RESPONSE',
    operationId: op.operationId,
    requestId: response.headers.get('x-request-id') ?? undefined,
    message: `${op.operationId} failed: ${response.status} response is not a JSON ${op.paged ? 'page' : '{ data }'} body`,
  });
  return { ok: false, error, retryAfter: null };
}

function parseProblem(text: string, response: Response, anyContentType: boolean): Problem | undefined {
  const contentType = response.headers.get('content-type')?.toLowerCase() ?? '';
  const json = contentType.includes('application/problem+json') || contentType.includes('application/json');
  if (!json && !anyContentType) return undefined;
  const body = parseJson(text);
  if (!isObject(body) || typeof body.code !== 'string') return undefined;
  return { type: 'about:blank', title: titleOf(response), status: response.status, ...body } as Problem;
}

// Proxies and load balancers answer with HTML or plain text; the caller still gets one error shape.
function synthesizeProblem(response: Response, requestId: string | undefined): Problem {
  return {
    type: 'about:blank',
    title: titleOf(response),
    status: response.status,
    code: `HTTP_${response.status}`,
    ...(requestId === undefined ? {} : { requestId }),
  };
}

function titleOf(response: Response): string {
  return response.statusText || `HTTP ${response.status}`;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPage(body: Record<string, unknown>): boolean {
  return Array.isArray(body.data) && isObject(body.page);
}

/**
 * The items of an NDJSON answer, parsed line by line as the body arrives. A line that is not JSON,
 * or a body cut off mid-line (the server stopped the stream on a failure), ends the iteration with
 * an INVALID_RESPONSE error: a partial export never passes for a whole one. The caller's `signal`
 * stops the reading, with an ABORTED error.
 */
async function* ndjsonItems(response: Response, operationId: string, signal?: AbortSignal): AsyncIterable<unknown> {
  const broken = (detail: string) =>
    new ApiClientError({
      status: response.status,
      code: 'INVALID_RESPONSE',
      operationId,
      problem: { type: 'about:blank', title: 'Invalid response', status: response.status, code: 'INVALID_RESPONSE', detail },
      requestId: response.headers.get('x-request-id') ?? undefined,
    });
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffered = '';
  const reader = response.body.getReader();
  let finished = false;
  const stopped = () => new ApiClientError({ status: 0, code: 'ABORTED', operationId, cause: signal?.reason });
  const onAbort = () => void reader.cancel().catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) throw stopped();
    for (;;) {
      const { done, value } = await reader.read();
      if (signal?.aborted) throw stopped();
      finished = done;
      buffered += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let end = buffered.indexOf('\n');
      while (end >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        if (line.trim() !== '') {
          const item = parseJson(line);
          if (item === undefined) throw broken('A line of the stream is not JSON');
          if (signal?.aborted) throw stopped();
          yield item;
        }
        end = buffered.indexOf('\n');
      }
      if (done) break;
    }
  } catch (error) {
    if (error instanceof ApiClientError) throw error;
    throw broken('The stream was cut short');
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // The caller stopped early: the rest of the body is not wanted.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  if (buffered.trim() !== '') throw broken('The stream ended in the middle of a line');
}
