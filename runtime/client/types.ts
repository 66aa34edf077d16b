import type { ResumableUploadOptions } from './upload.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface OperationDescriptor {
  operationId: string;
  method: HttpMethod;
  /** Full templated path, e.g. `/api/v1/events/{eventId}`. */
  path: string;
  /** Sends `Authorization: Bearer <token>` when the token store has a token. */
  auth: boolean;
  /** The response is a whole `Page<T>` rather than `{ data: T }`. */
  paged: boolean;
  /** The response is a file, given as a Blob. */
  file?: boolean;
  /** The response is NDJSON, given as an async iterable of its items. */
  stream?: boolean;
}

export interface RequestInput {
  /** Substituted into `{name}` segments, URI-encoded. A missing one is a TypeError. */
  params?: Record<string, string | number>;
  /** `undefined`/`null` are skipped, arrays repeat the key, Dates are sent as ISO strings. */
  query?: Record<string, unknown>;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Sent as `Idempotency-Key`; makes a POST or PATCH safe to retry. */
  idempotencyKey?: string;
}

/** RFC 9457 problem details, as every non-2xx response of the API carries. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: { path: string; code: string; message: string }[];
  [k: string]: unknown;
}

export interface Page<T> {
  data: T[];
  page: { nextCursor: string | null; hasMore: boolean };
}

export interface TokenStore {
  getAccessToken(): string | null | undefined | Promise<string | null | undefined>;
  /** Obtains fresh tokens (e.g. via the refresh endpoint) and stores them; resolves false when the refresh was refused. */
  refresh?(): Promise<boolean>;
}

export interface RetryOptions {
  /** Retries after the first attempt. Default 2. */
  retries?: number;
  /** Default 200. */
  baseDelayMs?: number;
  /** Cap of the backoff delay. Default 5000. */
  maxDelayMs?: number;
  /** A longer `Retry-After` fails the request instead of waiting. Default 60000. */
  maxRetryAfterMs?: number;
}

export interface ClientOptions {
  /** With or without a trailing slash; may carry a path prefix. */
  baseUrl: string;
  tokens?: TokenStore;
  /** Per attempt. Default 10000; 0 or Infinity disables it. */
  timeoutMs?: number;
  /** `false` disables retries. */
  retry?: RetryOptions | false;
  fetch?: typeof fetch;
  /** Sent with every request; per-request headers win. */
  headers?: Record<string, string>;
  /**
   * GET answers that carry an ETag (operations whose contract declares caching) kept to
   * revalidate with `If-None-Match`: how many, default 200; 0 keeps none.
   */
  revalidate?: number;
}

export interface Transport {
  /** `{ data }` is unwrapped; 204 gives `undefined`; a paged operation gives the whole `Page`. */
  request<T>(op: OperationDescriptor, input?: RequestInput): Promise<T>;
  /** Follows `page.nextCursor` (as `query.cursor`) until `hasMore` is false. */
  pages<T>(op: OperationDescriptor, input?: RequestInput): AsyncIterable<Page<T>>;
  items<T>(op: OperationDescriptor, input?: RequestInput): AsyncIterable<T>;
  /** A resumable (tus) upload to the operation's path; resolves with what the upload became. */
  upload<T>(op: OperationDescriptor, input: UploadInput): Promise<T>;
}

/** What an upload method takes: the file and how to send it (the URL and credentials are the client's). */
export type UploadInput = Omit<ResumableUploadOptions, 'url' | 'headers' | 'fetch' | 'operationId'>;
