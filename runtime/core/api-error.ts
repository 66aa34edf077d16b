/** A failure a handler or the runtime reports to the client as a problem with a stable code. */
export interface FieldError {
  path: string;
  code: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly detail?: string,
    /**
     * `until`: when the state behind the problem ends by itself (the problem's `until` member);
     * `limit`: for RATE_LIMITED, the name of the limit that refused (not sent).
     */
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string>; until?: Date; limit?: string } = {},
  ) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'ApiError';
  }
}

/** One field error, as a VALIDATION_FAILED problem; e.g. a rule that needs the database to check. */
export function fieldError(path: string, code: string, message: string): ApiError {
  return new ApiError('VALIDATION_FAILED', message, { errors: [{ path, code, message }] });
}
