import type { IncomingMessage, ServerResponse } from 'node:http';
import { problemType, runtimeErrors, type ErrorRegistry } from '../contract';
import { ApiError, type FieldError } from './api-error';
import type { ResponseContext } from './request-context';
import { requestPath, requestState } from './request-state';

/** Turns any thrown value into an RFC 9457 response; nothing of an unexpected error reaches the client. */
export interface ProblemWriter {
  (req: IncomingMessage, res: ServerResponse, error: unknown): void;
}

export function createProblemWriter(options: {
  errors: ErrorRegistry;
  problemBaseUrl: string;
  onInternalError: (req: IncomingMessage, error: unknown) => void;
  responses: ResponseContext;
}): ProblemWriter {
  const registry: ErrorRegistry = { ...runtimeErrors, ...options.errors };
  const types = new Map(Object.keys(registry).map((code) => [code, problemType(options.problemBaseUrl, code)]));

  return function writeProblem(req, res, error) {
    let problem = error instanceof ApiError && registry[error.code] ? error : undefined;
    if (!problem) {
      options.onInternalError(req, error);
      problem = new ApiError('INTERNAL', 'An unexpected error occurred; quote the request id when reporting it');
    }
    const spec = registry[problem.code]!;
    const body: Record<string, unknown> = {
      type: types.get(problem.code),
      title: spec.title,
      status: spec.status,
      code: problem.code,
    };
    if (problem.detail) body.detail = problem.detail;
    body.instance = requestPath(req);
    body.requestId = requestState(req).id;
    if (problem.extra.errors?.length) body.errors = problem.extra.errors satisfies FieldError[];
    if (res.headersSent) {
      res.destroy();
      return;
    }
    options.responses.send(req, res, spec.status, JSON.stringify(body), 'application/problem+json', problem.extra.headers);
  };
}
