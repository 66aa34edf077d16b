import { z } from 'zod';
import { PageQuery } from './schemas';

/** The endpoint DSL: one call states everything an HTTP operation promises. */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * `public`: anyone, credentials are not looked at; `optional`: anyone, and a caller who sends a
 * token is recognised (a bad or expired one is refused, as for `user`); `user`: any signed-in
 * user; `{ roles }`: a signed-in user with one of the roles.
 */
export type Auth = 'public' | 'optional' | 'user' | { readonly roles: readonly string[] };

/** What a request is counted against: the client address, the signed-in user, or a body field. */
export type LimitKey = 'ip' | 'user' | `body.${string}`;

export interface RateLimit {
  /** Policy name in the RateLimit headers; defaults to the operationId. */
  readonly name?: string;
  /** Requests allowed per window and key. */
  readonly points: number;
  readonly windowSeconds: number;
  /** Several parts make one key, e.g. `['body.username', 'ip']`. `user` falls back to the address when signed out. */
  readonly key: LimitKey | readonly LimitKey[];
  /**
   * Count only requests the handler refuses with a 4xx (wrong passwords, bad codes); a success
   * resets the count. Body-keyed limits are checked after validation, the others before it.
   */
  readonly failuresOnly?: boolean;
}

/** An operation's limits as a list, whether the contract states one or several. */
export function rateLimitsOf(e: { rateLimit?: RateLimit | readonly RateLimit[] }): readonly RateLimit[] {
  const limit = e.rateLimit;
  return limit === undefined ? [] : 'points' in limit ? [limit] : limit;
}

/** The name the i-th of an operation's limits goes by: its own, else the operationId (numbered when there are several). */
export function limitName(operationId: string, limits: readonly RateLimit[], i: number): string {
  return limits[i]!.name ?? (limits.length > 1 ? `${operationId}-${i + 1}` : operationId);
}

/** The `RateLimit-Policy` header of an operation's limits (draft-ietf-httpapi-ratelimit-headers): what the runtime sends, what the spec says. */
export function rateLimitPolicy(operationId: string, limits: readonly RateLimit[]): string {
  return limits.map((l, i) => `"${limitName(operationId, limits, i)}";q=${l.points};w=${l.windowSeconds}`).join(', ');
}

export interface Deprecation {
  /** When the endpoint was deprecated (ISO date), sent as the RFC 9745 `Deprecation` header. */
  readonly since: string;
  /** When it stops working (ISO date), sent as the RFC 8594 `Sunset` header. */
  readonly sunset?: string;
  /** The operationId to use instead. */
  readonly use?: string;
}

export type AnyObject = z.ZodObject<z.ZodRawShape>;

/**
 * A file answer (an image, a video, a download): the bytes of one of `types`, streamed from disk
 * with `Range` (206), `ETag`/`Last-Modified` revalidation (304) and HEAD, as `Cache-Control` says.
 */
export interface FileResponseSpec {
  readonly status: 200;
  readonly file: { readonly types: readonly [string, ...string[]] };
  readonly description?: string;
}

/** What the handler of a file operation returns: where the bytes are and how they may be cached. */
export interface FileResult {
  /** Absolute path of the file on this server's disk. */
  readonly path: string;
  /** One of the contract's `file.types`. */
  readonly type: string;
  /** e.g. `public, max-age=31536000, immutable` or `private, max-age=3600`. */
  readonly cacheControl: string;
}

/**
 * A streamed answer (an export, a long listing): items one after another as NDJSON
 * (`application/x-ndjson`, one JSON value per line), each checked against `item` as it goes out;
 * the handler returns an async iterable, read as the client reads (backpressure).
 */
export interface StreamResponseSpec {
  readonly status: 200;
  readonly stream: { readonly item: z.ZodType };
  readonly description?: string;
}

export const NDJSON = 'application/x-ndjson';

export type ResponseSpec =
  | { readonly status: 200 | 201; readonly body: z.ZodType; readonly description?: string }
  | FileResponseSpec
  | StreamResponseSpec
  | { readonly status: 200; readonly page: z.ZodType; readonly key?: AnyObject; readonly description?: string }
  | { readonly status: 204; readonly description?: string };

export interface EndpointDefinition {
  readonly method: HttpMethod;
  /** Major version: the operation is served under the API's base path for it (`/api/v{version}` by default). */
  readonly version: number;
  /** Path after the base path, with `{name}` parameters: `/events/{eventId}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  /** The first tag groups the operation: it names the handler interface and the client namespace. */
  readonly tags: readonly [string, ...string[]];
  readonly auth: Auth;
  readonly params?: AnyObject;
  readonly query?: AnyObject;
  readonly headers?: AnyObject;
  readonly body?: z.ZodType;
  readonly response: ResponseSpec;
  /** Domain error codes this operation can answer with; the runtime adds its own (400, 401, …). */
  readonly errors?: readonly string[];
  readonly rateLimit?: RateLimit | readonly RateLimit[];
  /**
   * POST and PATCH take an `Idempotency-Key` by default: a retry gets the stored first answer.
   * `false` for an operation whose answer must never be stored or replayed — one that issues
   * credentials (tokens, secrets, recovery codes); a key sent to it is refused.
   */
  readonly idempotencyKey?: boolean;
  readonly deprecated?: Deprecation;
  readonly examples?: { readonly request?: unknown; readonly response?: unknown };
  /**
   * A GET whose answers caches may keep: each carries a strong `ETag` of its bytes, and a request
   * whose `If-None-Match` names the current one gets 304 without a body. `scope` `private` for an
   * answer that depends on who asks (required unless `auth` is `public`); `maxAge` seconds a cache
   * may use it without asking (0: revalidate every time); `vary`: request headers it depends on.
   */
  readonly cache?: CachePolicy;
  /**
   * A write that honours `If-Match` against the ETag of the resource as its cacheable GET sends it:
   * the handler calls `ctx.precondition(current)` with what that GET would answer, read in the
   * write's own transaction, and a stale ETag gets 412 `PRECONDITION_FAILED` (no lost update).
   */
  readonly ifMatch?: true;
}

export interface CachePolicy {
  readonly scope: 'public' | 'private';
  readonly maxAge: number;
  readonly vary?: readonly string[];
}

export type Endpoint<D extends EndpointDefinition = EndpointDefinition> = D & {
  readonly kind: 'endpoint';
  /** The served path, base path included: `/api/v1/events/{eventId}`. */
  readonly fullPath: string;
  /** The body schema as enforced: top-level objects refuse unknown fields. */
  readonly requestBody: z.ZodType | undefined;
  /** Query as enforced: for a paged operation the page query (`limit`, `cursor`) is added. */
  readonly requestQuery: AnyObject | undefined;
};

export function endpoint<const D extends EndpointDefinition>(definition: D): Endpoint<D> {
  const body = definition.body;
  const paged = 'page' in definition.response;
  return {
    ...definition,
    kind: 'endpoint',
    fullPath: servedPath(DEFAULT_BASE_PATH, definition.version, definition.path),
    requestBody: body instanceof z.ZodObject ? strict(body) : body,
    requestQuery: paged ? (definition.query ?? z.object({})).extend(PageQuery.shape) : definition.query,
  };
}

/** Where operations are served unless the API definition says otherwise; `{version}` is the major version. */
export const DEFAULT_BASE_PATH = '/api/v{version}';

export function servedPath(basePath: string, version: number, path: string): string {
  return `${basePath.replaceAll('{version}', String(version))}${path}`;
}

/** The same object refusing unknown keys, keeping its metadata (name, description, example) for the spec. */
function strict(body: z.ZodObject): z.ZodObject {
  const meta = body.meta();
  return meta ? body.strict().meta(meta) : body.strict();
}

/**
 * Position in a keyset page unless a contract names its own: the `(createdAt, id)` of the last
 * item served. The cursor carries it signed; the handler gets it back parsed through this schema.
 */
export const DEFAULT_PAGE_KEY = z.object({ createdAt: z.coerce.date(), id: z.string() });

export type PageKey = z.output<typeof DEFAULT_PAGE_KEY>;

/**
 * The success response of a list operation: a cursor page of `item`, keyed by `key` (the
 * columns of the keyset order; `(createdAt, id)` by default).
 */
export function paginated<S extends z.ZodType>(item: S, options?: { description?: string }): PageResponse<S, typeof DEFAULT_PAGE_KEY>;
export function paginated<S extends z.ZodType, K extends AnyObject>(item: S, options: { description?: string; key: K }): PageResponse<S, K>;
export function paginated(item: z.ZodType, options: { description?: string; key?: AnyObject } = {}): PageResponse<z.ZodType, AnyObject> {
  const key = options.key ?? DEFAULT_PAGE_KEY;
  return { status: 200, page: item, key, ...(options.description ? { description: options.description } : {}) };
}

export interface PageResponse<S extends z.ZodType, K extends AnyObject> {
  readonly status: 200;
  readonly page: S;
  readonly key: K;
  readonly description?: string;
}

/** The schema of a paged operation's keyset position. */
export function pageKeyOf(response: ResponseSpec): AnyObject {
  return ('key' in response && response.key) || DEFAULT_PAGE_KEY;
}

export function isEndpoint(value: unknown): value is Endpoint {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'endpoint';
}

export function isFile(e: EndpointDefinition): e is EndpointDefinition & { response: FileResponseSpec } {
  return 'file' in e.response;
}

export function isStream(e: EndpointDefinition): e is EndpointDefinition & { response: StreamResponseSpec } {
  return 'stream' in e.response;
}

export function isPaged(e: EndpointDefinition): e is EndpointDefinition & { response: { page: z.ZodType } } {
  return 'page' in e.response;
}

type OutputOf<S> = S extends z.ZodType ? z.output<S> : Record<string, never>;

/** What a handler receives, already validated and coerced. */
export type HandlerInput<E extends EndpointDefinition> = {
  params: OutputOf<E['params']>;
  query: OutputOf<E['query']>;
  headers: OutputOf<E['headers']>;
  body: E['body'] extends z.ZodType ? z.output<E['body']> : undefined;
} & (E['response'] extends { page: z.ZodType } ? { page: { limit: number; after: KeyOf<E> | null } } : unknown);

/** The keyset position of a paged operation: its contract's `key`, or `(createdAt, id)`. */
type KeyOf<E extends EndpointDefinition> = E['response'] extends { key: infer K extends z.ZodType } ? z.output<K> : PageKey;

/** What a handler returns; the runtime wraps it in the standard envelope (or streams the file). */
export type HandlerResult<E extends EndpointDefinition> = E['response'] extends { page: infer S extends z.ZodType }
  ? { items: z.input<S>[]; next: KeyOf<E> | null }
  : E['response'] extends { body: infer S extends z.ZodType }
    ? z.input<S>
    : E['response'] extends { file: object }
      ? FileResult
      : E['response'] extends { stream: { item: infer S extends z.ZodType } }
        ? AsyncIterable<z.input<S>>
        : void;
