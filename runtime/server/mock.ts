import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DataStore } from '@tus/utils';
import { errorCodes, listContracts, listUploads, pageKeyOf, type ApiDefinition, type Endpoint, type UploadContract } from '../contract';
import { ApiError, type FieldError } from '../core/api-error';
import { createApp, type App, type AppOptions } from './app';
import { createTokenSigner, createTokenVerifier, type AuthUser } from './auth';
import type { RouteDefinition } from './handler';
import { mockValue } from './mock-values';
import type { UploadRoute } from './uploads';

/**
 * A mock server made from the contracts alone: the real app (`createApp`, the generated routes)
 * with a made-up handler for every operation. Requests are checked exactly as in production (auth,
 * rate limits, validation, problems); answers are the contract's `examples.response`, or values
 * made up from the response schema (`mockValue`), the same for the same seed and request. Nothing
 * is stored: what a request creates is not there for the next one.
 *
 * - `Prefer: code=NOT_FOUND` answers the operation's documented problem of that code (a code it
 *   does not document is a 400 naming the ones it does); `Prefer: dynamic=true` makes up an
 *   answer even when the contract has an example.
 * - Answers holding an access token (the fields `tokens.accessTokenFields` names) get a real one,
 *   signed with the mock's own key, which the mock accepts: register or log in, then call away.
 * - Lists have `pages` pages with working cursors and `Link`s; the last one is half full.
 * - Streams (NDJSON) send three items; a file answer and uploads are `501 NOT_IMPLEMENTED`.
 */
export interface MockSettings {
  /** The same seed gives the same answers (and the same token and cursor keys). Default `contract-kit`. */
  seed?: string;
  /** How many pages every list has. Default 3. */
  pages?: number;
  /** Whom the tokens the mock hands out name: an id made from the seed and no role, unless given. */
  user?: { id?: string; roles?: readonly string[] };
  tokens: {
    issuer: string;
    audience: string;
    ttlSeconds: number;
    /** Answer fields, at any depth, that carry an access token (e.g. `accessToken`). */
    accessTokenFields: readonly string[];
    /** Fields beside them that give its lifetime in seconds (e.g. `expiresIn`). */
    lifetimeFields?: readonly string[];
  };
}

/** What `createApp` takes, but the handlers, services and keys, which the mock brings. */
export interface MockAppOptions
  extends Omit<AppOptions, 'routes' | 'services' | 'api' | 'auth' | 'currentRoles' | 'cursorSecret' | 'uploads' | 'onRateLimited'> {
  /** The whole API definition: its operations, uploads and error codes. */
  api: ApiDefinition;
  /**
   * The generated `createRoutes`: the mock hands it a handler for every operation, by first tag
   * and operationId, as an app hands it its own. (Typed `never`: its handler types are the app's.)
   */
  createRoutes: (handlers: never) => RouteDefinition[];
  mock: MockSettings;
}

type MockHandler = (input: Record<string, unknown>, ctx: { user: AuthUser | null }) => Promise<unknown>;

/** The preferences of the request being answered (RFC 7240), for its handler. */
const preferences = new AsyncLocalStorage<ReadonlyMap<string, string>>();

export function createMockApp(options: MockAppOptions): App {
  const { api, createRoutes, mock, ...appOptions } = options;
  const seed = mock.seed ?? 'contract-kit';
  const keys = { secret: derived(seed, 'tokens'), issuer: mock.tokens.issuer, audience: mock.tokens.audience };
  const signer = createTokenSigner({ ...keys, ttlSeconds: mock.tokens.ttlSeconds });
  const user: AuthUser = {
    id: mock.user?.id ?? uuidOf(seed, 'user'),
    roles: [...(mock.user?.roles ?? [])],
    sessionId: uuidOf(seed, 'session'),
  };
  const answers: Answers = {
    seed,
    pages: mock.pages ?? 3,
    async credentials(value, caller) {
      const holders = objectsWith(value, mock.tokens.accessTokenFields);
      if (holders.length === 0) return value;
      const owner = caller ?? user;
      const token = await signer.sign({ sub: owner.id, roles: owner.roles, sid: owner.sessionId });
      for (const holder of holders) {
        for (const field of mock.tokens.accessTokenFields) if (field in holder) holder[field] = token;
        for (const field of mock.tokens.lifetimeFields ?? []) if (field in holder) holder[field] = mock.tokens.ttlSeconds;
      }
      return value;
    },
  };

  const handlers: Record<string, Record<string, MockHandler>> = {};
  for (const { endpoint } of listContracts(api)) {
    handlers[endpoint.tags[0]] ??= {};
    handlers[endpoint.tags[0]]![endpoint.operationId] = mockHandler(endpoint, answers);
  }
  const app = createApp({
    ...appOptions,
    routes: createRoutes(handlers as never),
    services: {},
    api,
    auth: createTokenVerifier({ ...keys, maxAgeSeconds: mock.tokens.ttlSeconds }),
    cursorSecret: derived(seed, 'cursors'),
    uploads: listUploads(api).map(({ upload }) => refusedUpload(upload)),
  });
  const listener = (req: IncomingMessage, res: ServerResponse) => preferences.run(parsePrefer(req.headers.prefer), () => app(req, res));
  return Object.assign(listener, { metrics: app.metrics, express: app.express, deleteExpiredUploads: app.deleteExpiredUploads });
}

interface Answers {
  seed: string;
  pages: number;
  /** Puts a signed access token where an answer carries one. */
  credentials(value: unknown, caller: AuthUser | null): Promise<unknown>;
}

function mockHandler(endpoint: Endpoint, answers: Answers): MockHandler {
  const { operationId, response } = endpoint;
  const documented = errorCodes(endpoint);
  return async (input, { user }) => {
    const prefer = preferences.getStore() ?? new Map<string, string>();
    const code = prefer.get('code');
    if (code !== undefined) throw preferredProblem(endpoint, code.toUpperCase(), documented);
    // The request as the handler sees it (validated, defaults applied), and who asks: the same, the same answer.
    const request = stableJson({ params: input.params, query: input.query, headers: input.headers, body: input.body, user: user?.id });
    const seed = `${answers.seed}\n${operationId}\n${request}`;
    if (response.status === 204) return undefined;
    if ('file' in response) {
      throw new ApiError('NOT_IMPLEMENTED', `${operationId} answers a file, which the mock server does not make up`);
    }
    if ('stream' in response) {
      const items = [0, 1, 2].map((i) => mockValue(response.stream.item, `${seed}\n${i}`));
      return (async function* () {
        yield* items;
      })();
    }
    if ('page' in response) return page(endpoint, response, input.page as PageInput, seed, answers);
    const example = endpoint.examples?.response;
    const value = example !== undefined && prefer.get('dynamic') !== 'true' ? structuredClone(example) : mockValue(response.body, seed);
    return answers.credentials(value, user);
  };
}

interface PageInput {
  limit: number;
  after: unknown;
}

/**
 * Page n (from 0) of `answers.pages`: its cursor carries a key made from the seed for n, which
 * the mock finds again among the few it would make. Every page but the last is full.
 */
function page(
  endpoint: Endpoint,
  response: Extract<Endpoint['response'], { page: unknown }>,
  input: PageInput,
  seed: string,
  answers: Answers,
) {
  const key = pageKeyOf(response);
  const keyAfter = (n: number) => mockValue(key, `${answers.seed}\n${endpoint.operationId}\nafter page ${n}`);
  let index = 0;
  if (input.after !== null) {
    const wanted = stableJson(input.after);
    index = 1;
    while (index < answers.pages && stableJson(key.parse(keyAfter(index - 1))) !== wanted) index++;
    if (index === answers.pages)
      throw new ApiError('INVALID_CURSOR', 'The cursor is not one this mock server issued; start again without it');
  }
  const last = index === answers.pages - 1;
  const count = last ? Math.ceil(input.limit / 2) : input.limit;
  const items = Array.from({ length: count }, (_, i) => mockValue(response.page, `${seed}\npage ${index}\n${i}`));
  return { items, next: last ? null : keyAfter(index) };
}

/** The problem a `Prefer: code=…` asks for, as the runtime would send it; a code the operation does not document is a 400. */
function preferredProblem(endpoint: Endpoint, code: string, documented: readonly string[]): ApiError {
  const { operationId } = endpoint;
  if (!documented.includes(code)) {
    const codes = documented.join(', ');
    return new ApiError('VALIDATION_FAILED', `Prefer: code=${code} is not a code ${operationId} answers with; it documents ${codes}`, {
      errors: [{ path: '/headers/prefer', code: 'undocumented_code', message: `${operationId} documents ${codes}` }],
    });
  }
  const headers: Record<string, string> = { 'Preference-Applied': `code=${code}` };
  if (code === 'UNAUTHENTICATED' || code === 'TOKEN_EXPIRED') headers['WWW-Authenticate'] = 'Bearer';
  if (code === 'RATE_LIMITED') headers['Retry-After'] = '60';
  const errors: FieldError[] | undefined =
    code === 'VALIDATION_FAILED' ? [{ path: `/${inputPart(endpoint)}`, code: 'mock', message: 'An example of a field error' }] : undefined;
  return new ApiError(code, `The mock server answers ${code}, as the Prefer header asks`, { headers, ...(errors ? { errors } : {}) });
}

function inputPart(endpoint: Endpoint): string {
  if (endpoint.body) return 'body';
  if (endpoint.requestQuery) return 'query';
  if (endpoint.params) return 'params';
  return 'headers';
}

/** `Prefer` preferences by lower-case name (RFC 7240): `code=NOT_FOUND, dynamic=true`; parameters after `;` are ignored. */
function parsePrefer(header: string | string[] | undefined): ReadonlyMap<string, string> {
  const found = new Map<string, string>();
  for (const part of [header ?? ''].flat().join(',').split(',')) {
    const preference = part.split(';', 1)[0]!;
    const eq = preference.indexOf('=');
    const name = (eq < 0 ? preference : preference.slice(0, eq)).trim().toLowerCase();
    const value =
      eq < 0
        ? 'true'
        : preference
            .slice(eq + 1)
            .trim()
            .replace(/^"(.*)"$/, '$1');
    if (name && !found.has(name)) found.set(name, value);
  }
  return found;
}

/**
 * An upload resource of the mock: the tus requests are checked as in production (auth, limits,
 * type and size), then creation is refused with 501; an upload id names nothing (404).
 */
function refusedUpload(upload: UploadContract): UploadRoute {
  return {
    contract: upload,
    store: {
      datastore: new DataStore(),
      local: () => Promise.reject(new Error('The mock server keeps no uploads')),
      discard: async () => {},
    },
    onCreate: async () => {
      throw new ApiError('NOT_IMPLEMENTED', `${upload.operationId}: the mock server takes no uploads`);
    },
    onFinish: () => Promise.reject(new Error('The mock server keeps no uploads')),
  };
}

/** The objects in a value holding one of the fields. */
function objectsWith(value: unknown, fields: readonly string[]): Record<string, unknown>[] {
  if (typeof value !== 'object' || value === null) return [];
  if (Array.isArray(value)) return value.flatMap((item) => objectsWith(item, fields));
  const record = value as Record<string, unknown>;
  const own = fields.some((field) => field in record) ? [record] : [];
  return [...own, ...Object.values(record).flatMap((child) => objectsWith(child, fields))];
}

/** JSON with object keys sorted: equal values, equal text. */
function stableJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
    ) ?? 'null'
  );
}

/** A key of the mock's own, made from its seed: a mock signs nothing that matters. */
function derived(seed: string, use: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`contract-kit mock ${use}\n${seed}`).digest());
}

function uuidOf(seed: string, use: string): string {
  const h = createHash('sha256').update(`contract-kit mock ${use}\n${seed}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
