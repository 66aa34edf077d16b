import { ApiClientError } from './errors.js';
import type { OperationDescriptor, Problem } from './types.js';

export type AttemptOutcome = { ok: true; value: unknown } | { ok: false; error: ApiClientError; retryAfter: string | null };

/** Turns a response into the caller's value or an ApiClientError, reading the body exactly once. */
export async function readResponse(response: Response, op: OperationDescriptor): Promise<AttemptOutcome> {
  if (response.ok) return readSuccess(response, op);
  const text = await response.text();
  const headerRequestId = response.headers.get('x-request-id') ?? undefined;
  const problem = parseProblem(text, response) ?? synthesizeProblem(response, headerRequestId);
  const error = new ApiClientError({
    status: response.status,
    code: problem.code,
    operationId: op.operationId,
    problem,
    requestId: typeof problem.requestId === 'string' ? problem.requestId : headerRequestId,
  });
  return { ok: false, error, retryAfter: response.headers.get('retry-after') };
}

async function readSuccess(response: Response, op: OperationDescriptor): Promise<AttemptOutcome> {
  if (response.status === 204) return { ok: true, value: undefined };
  if (op.file) return { ok: true, value: await response.blob() };
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

function parseProblem(text: string, response: Response): Problem | undefined {
  const contentType = response.headers.get('content-type')?.toLowerCase() ?? '';
  if (!contentType.includes('application/problem+json') && !contentType.includes('application/json')) return undefined;
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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPage(body: Record<string, unknown>): boolean {
  return Array.isArray(body.data) && isObject(body.page);
}
