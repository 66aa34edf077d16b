import type { Problem } from './types.js';

/**
 * Codes the client produces itself, when there is no problem body from the server to take one from.
 * `HTTP_<status>` stands in for a non-2xx response whose body is not a problem.
 */
export type ClientErrorCode = 'NETWORK_ERROR' | 'TIMEOUT' | 'ABORTED' | 'INVALID_RESPONSE' | `HTTP_${number}`;

export interface ApiClientErrorInit<Code extends string = string> {
  status: number;
  code: Code | ClientErrorCode;
  operationId: string;
  problem?: Problem;
  requestId?: string;
  message?: string;
  cause?: unknown;
}

/** The one error every failed call rejects with: HTTP problem, network failure, timeout or abort. */
export class ApiClientError<Code extends string = string> extends Error {
  override readonly name = 'ApiClientError';
  /** HTTP status; 0 when no response arrived (network error, timeout, abort). */
  readonly status: number;
  readonly code: Code | ClientErrorCode;
  readonly requestId: string | undefined;
  readonly problem: Problem | undefined;
  readonly operationId: string;

  constructor(init: ApiClientErrorInit<Code>) {
    super(init.message ?? describe(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.problem = init.problem;
    this.operationId = init.operationId;
  }
}

function describe(init: ApiClientErrorInit): string {
  const summary = init.problem?.detail ?? init.problem?.title;
  return `${init.operationId} failed: ${init.status} ${init.code}${summary ? ` (${summary})` : ''}`;
}
