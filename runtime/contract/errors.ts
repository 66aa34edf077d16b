/**
 * The error-code registry: every problem the API can answer with has a stable UPPER_SNAKE_CASE
 * code, an HTTP status and a title. Contracts extend it with their domain codes through
 * `defineErrors`, so the generator, the runtime and the client all read one table.
 */
export interface ErrorSpec {
  status: number;
  title: string;
}

export const runtimeErrors = {
  VALIDATION_FAILED: { status: 400, title: 'Validation failed' },
  MALFORMED_JSON: { status: 400, title: 'Malformed JSON body' },
  INVALID_CURSOR: { status: 400, title: 'Invalid cursor' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  TOKEN_EXPIRED: { status: 401, title: 'Access token expired' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  CONFLICT: { status: 409, title: 'Conflict' },
  UPLOAD_OFFSET_CONFLICT: { status: 409, title: 'Upload offset does not match the server’s' },
  UPLOAD_EXPIRED: { status: 410, title: 'Upload expired' },
  PRECONDITION_FAILED: { status: 412, title: 'Precondition failed' },
  TUS_VERSION_UNSUPPORTED: { status: 412, title: 'Tus-Resumable header missing or unsupported' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency key used for another request' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  RANGE_NOT_SATISFIABLE: { status: 416, title: 'Range not satisfiable' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  INTERNAL: { status: 500, title: 'Internal server error' },
  NOT_IMPLEMENTED: { status: 501, title: 'Not implemented' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, ErrorSpec>;

export type RuntimeErrorCode = keyof typeof runtimeErrors;
export type ErrorRegistry = Readonly<Record<string, ErrorSpec>>;

const CODE_PATTERN = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

/** Declares domain error codes; a malformed code or a clash with a runtime code is refused. */
export function defineErrors<const T extends Record<string, ErrorSpec>>(codes: T): T {
  for (const [code, spec] of Object.entries(codes)) {
    if (!CODE_PATTERN.test(code)) throw new Error(`Error code "${code}" must be UPPER_SNAKE_CASE`);
    if (code in runtimeErrors) throw new Error(`Error code "${code}" is already defined by the runtime`);
    if (!Number.isInteger(spec.status) || spec.status < 400 || spec.status > 599) {
      throw new Error(`Error code "${code}" needs a 4xx or 5xx status, got ${spec.status}`);
    }
  }
  return codes;
}

/** URL of the problem type for a code, e.g. VALIDATION_FAILED -> …/problems/validation-failed. */
export function problemType(baseUrl: string, code: string): string {
  return `${baseUrl.replace(/\/$/, '')}/${code.toLowerCase().replaceAll('_', '-')}`;
}
