import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROBLEM_LIMITS, problemType, runtimeErrors, type ErrorRegistry } from '../contract';
import { ApiError } from '../core/api-error';
import type { ResponseContext } from './request-context';
import { requestPath, requestState } from './request-state';
import { boundFieldErrors, clip } from '../core/validation';

/** Turns any thrown value into an RFC 9457 response; nothing of an unexpected error reaches the client. */
export type ProblemWriter = (req: IncomingMessage, res: ServerResponse, error: unknown) => void;

export function createProblemWriter(options: {
  errors: ErrorRegistry;
  problemBaseUrl: string;
  onInternalError: (req: IncomingMessage, error: unknown) => void;
  /** Recognises an outage of something the app depends on (see ContractMiddlewareOptions.unavailable). */
  unavailable?: (error: unknown, req: IncomingMessage) => ApiError | undefined;
  onUnavailable?: (req: IncomingMessage, error: unknown) => void;
  /** Told of every problem answered (for metrics). */
  onProblem?: (req: IncomingMessage, code: string) => void;
  responses: ResponseContext;
}): ProblemWriter {
  const registry: ErrorRegistry = { ...runtimeErrors, ...options.errors };
  const types = new Map(Object.keys(registry).map((code) => [code, problemType(options.problemBaseUrl, code)]));

  return function writeProblem(req, res, error) {
    let problem = error instanceof ApiError && registry[error.code] ? error : undefined;
    if (!problem && options.unavailable) {
      const answer = options.unavailable(error, req);
      // Only a code the registry knows: anything else would break this writer, which must not fail.
      problem = answer && registry[answer.code] ? answer : undefined;
      if (problem) options.onUnavailable?.(req, error);
    }
    if (!problem) {
      options.onInternalError(req, error);
      problem = new ApiError('INTERNAL', 'An unexpected error occurred; quote the request id when reporting it');
    }
    const spec = registry[problem.code]!;
    requestState(req).problem = problem.code;
    options.onProblem?.(req, problem.code);
    const body: Record<string, unknown> = {
      type: types.get(problem.code),
      title: spec.title,
      status: spec.status,
      code: problem.code,
    };
    // Bounded as the Problem schema says: a client's 4,000-character path or 9,000 unknown
    // fields must not make the answer break its own schema.
    const fields = problem.extra.errors?.length ? boundFieldErrors(problem.extra.errors) : undefined;
    let detail = problem.detail;
    if (fields?.omitted)
      detail = `${detail ?? 'Invalid input'} (the first ${fields.errors.length} are listed, ${fields.omitted} more are not)`;
    if (detail) body.detail = clip(detail, PROBLEM_LIMITS.detail);
    body.instance = clip(requestPath(req), PROBLEM_LIMITS.instance);
    body.requestId = requestState(req).id;
    if (fields) body.errors = fields.errors;
    if (problem.extra.until) body.until = problem.extra.until.toISOString();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    options.responses.send(req, res, spec.status, JSON.stringify(body), 'application/problem+json', problem.extra.headers);
  };
}
