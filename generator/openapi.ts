import { OpenApiGeneratorV31, OpenAPIRegistry, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  errorHeaders,
  NDJSON,
  PageInfo,
  Problem,
  problemType,
  limitName,
  rateLimitsOf,
  successHeaders,
  takesIdempotencyKey,
  type ApiDefinition,
  type RuntimeHeader,
} from '@contract-kit/runtime/contract';
import type { ApiModel, OperationModel } from './model';
import {
  headerRefs,
  IF_MATCH,
  IF_NONE_MATCH,
  limitSentences,
  notModified,
  ownCacheHeaders,
  ownRateLimitHeaders,
  sharedHeaders,
} from './openapi-headers';
import { uploadRoutes } from './openapi-uploads';

/** Builds the OpenAPI 3.1 document from the model with zod-to-openapi. */
export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

const PROBLEM_JSON = 'application/problem+json';

export function buildOpenApi(api: ApiDefinition, model: ApiModel): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'The `accessToken` that register, login, verifyMfaLogin and refreshTokens answer (at `data.accessToken`), sent as ' +
      '`Authorization: Bearer <accessToken>`. It lasts 15 minutes; refreshTokens gives a new one.',
  });
  const used = new Set<RuntimeHeader>(model.operations.flatMap((op) => successHeaders(op.endpoint)));
  if (model.uploads.length > 0) used.add('X-Request-Id');
  if (model.operations.some((op) => op.endpoint.rateLimit) || model.uploads.some((u) => u.upload.rateLimit)) {
    errorHeaders(429).forEach((name) => used.add(name));
  }
  for (const [name, header] of Object.entries(sharedHeaders)) {
    if (used.has(name as RuntimeHeader)) registry.registerComponent('headers', name, header);
  }

  const writes = model.operations.some((op) => op.method === 'POST' || op.method === 'PATCH');
  if (writes) {
    registry.registerComponent('parameters', 'IdempotencyKey', {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Makes the request safe to retry: a retry with the same key and request gets the first answer ' +
        '(with `Idempotent-Replayed: true`) for 24 h; the same key with another request is 422 ' +
        '`IDEMPOTENCY_KEY_REUSED`; while the first still runs, 409 `CONFLICT`.',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  for (const op of model.operations) registry.registerPath(route(api, model, op));
  for (const upload of model.uploads) {
    const helpers = {
      problems: (codes: readonly string[]) => errorResponses(api, model, codes),
      headers: headerRefs,
      limits: limitSentences,
    };
    for (const path of uploadRoutes(upload, helpers)) {
      registry.registerPath(path);
    }
  }

  const generator = new OpenApiGeneratorV31(registry.definitions, { sortComponents: 'alphabetically' });
  return withoutFilterExamples(
    hoistErrorResponses(
      generator.generateDocument({
        openapi: '3.1.0',
        info: { ...api.info, license: { ...api.info.license } } as OpenApiDocument['info'],
        servers: api.servers.map((server) => ({ ...server })),
        tags: Object.entries(api.tags)
          .filter(([name]) => model.operations.some((op) => op.endpoint.tags.includes(name)) || model.uploads.some((u) => u.tag === name))
          .map(([name, description]) => ({ name, description })),
      }),
    ),
  );
}

/**
 * No example on an optional query parameter: Swagger UI's "Try it out" fills each parameter with its
 * example, and a filter filled in by example (a city, a date) hides what the reader just created.
 */
function withoutFilterExamples(document: OpenApiDocument): OpenApiDocument {
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item as Record<string, { parameters?: unknown[] }>)) {
      for (const parameter of (operation.parameters ?? []) as Array<{
        in?: string;
        required?: boolean;
        example?: unknown;
        schema?: { example?: unknown };
      }>) {
        if (parameter.in !== 'query' || parameter.required) continue;
        delete parameter.example;
        if (parameter.schema) delete parameter.schema.example;
      }
    }
  }
  return document;
}

/**
 * Error responses depend only on their codes, so each distinct one is stated once under
 * components/responses and referenced: the spec stays small and reads better, and lint and
 * type generation have far less to walk.
 */
function hoistErrorResponses(document: OpenApiDocument): OpenApiDocument {
  const shared: Record<string, unknown> = {};
  const nameOf = new Map<string, string>();
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item as Record<string, { responses?: Record<string, unknown> }>)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (Number(status) < 400) continue;
        const examples = (response as { content: Record<string, { examples: Record<string, unknown> }> }).content[PROBLEM_JSON]!.examples;
        const content = JSON.stringify(response);
        let name = nameOf.get(content);
        if (!name) {
          const base = Object.keys(examples).map(pascalCode).join('Or');
          name = base;
          for (let n = 2; name in shared; n++) name = `${base}${n}`;
          shared[name] = response;
          nameOf.set(content, name);
        }
        operation.responses![status] = { $ref: `#/components/responses/${name}` };
      }
    }
  }
  const sorted = Object.fromEntries(Object.entries(shared).sort(([a], [b]) => a.localeCompare(b)));
  document.components = { ...document.components, responses: sorted as NonNullable<OpenApiDocument['components']>['responses'] };
  return document;
}

function pascalCode(code: string): string {
  return code
    .toLowerCase()
    .split('_')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

function route(api: ApiDefinition, model: ApiModel, op: OperationModel): RouteConfig {
  const e = op.endpoint;
  const request: RouteConfig['request'] = {};
  if (e.params) request.params = e.params;
  if (e.requestQuery) request.query = e.requestQuery;
  if (e.headers) request.headers = e.headers;
  if (e.requestBody) {
    request.body = {
      required: true,
      content: { 'application/json': { schema: e.requestBody, ...(e.examples?.request ? { example: e.examples.request } : {}) } },
    };
  }
  return {
    method: e.method.toLowerCase() as RouteConfig['method'],
    path: e.fullPath,
    operationId: e.operationId,
    summary: e.summary,
    description: description(op),
    tags: [...e.tags],
    // Optional auth: no credentials, or a bearer token (`{}` is the anonymous alternative).
    security: op.authRequired ? [{ bearerAuth: [] }] : op.sendsToken ? [{}, { bearerAuth: [] }] : [],
    ...(op.deprecated ? { deprecated: true } : {}),
    // For tools: the date after which the operation may be removed (the breaking-change gate reads it).
    ...(e.deprecated?.sunset ? { 'x-sunset': e.deprecated.sunset } : {}),
    // The limits, as the RateLimit-Policy header states them, for tools and the breaking-change gate.
    ...(rateLimitsOf(e).length > 0
      ? {
          'x-rate-limit': rateLimitsOf(e).map((l, i, limits) => ({
            name: limitName(e.operationId, limits, i),
            points: l.points,
            windowSeconds: l.windowSeconds,
            key: typeof l.key === 'string' ? [l.key] : [...l.key],
            ...(l.failuresOnly ? { failuresOnly: true } : {}),
          })),
        }
      : {}),
    // The roles, for tools as well as readers: any one of them grants the operation (else 403).
    ...(typeof e.auth === 'object' ? { 'x-roles': [...e.auth.roles] } : {}),
    request,
    ...(takesIdempotencyKey(e) ? { parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }] } : {}),
    ...(e.cache ? { parameters: [IF_NONE_MATCH] } : {}),
    ...(e.ifMatch
      ? { parameters: [...(takesIdempotencyKey(e) ? [{ $ref: '#/components/parameters/IdempotencyKey' }] : []), IF_MATCH] }
      : {}),
    responses: { ...success(op), ...notModified(e), ...errorResponses(api, model, op.errorCodes) },
  };
}

function description(op: OperationModel): string {
  const e = op.endpoint;
  const parts = [e.description ?? e.summary];
  if (typeof e.auth === 'object') parts.push(`Requires one of the roles: ${e.auth.roles.join(', ')}.`);
  parts.push(...limitSentences(rateLimitsOf(e)));
  if (e.deprecated) {
    const sunset = e.deprecated.sunset ? `; it stops working on ${e.deprecated.sunset}` : '';
    const use = e.deprecated.use ? ` Use \`${e.deprecated.use}\` instead.` : '';
    parts.push(`**Deprecated** since ${e.deprecated.since}${sunset}.${use}`);
  }
  return parts.join('\n\n');
}

function success(op: OperationModel): RouteConfig['responses'] {
  const e = op.endpoint;
  const r = e.response;
  const headers: Record<string, unknown> = { ...headerRefs(...successHeaders(e)), ...ownRateLimitHeaders(e), ...ownCacheHeaders(e) };
  if ('page' in r) {
    return {
      200: {
        description: r.description ?? 'One page of results',
        headers,
        content: { 'application/json': { schema: z.object({ data: z.array(r.page), page: PageInfo }) } },
      },
    } as RouteConfig['responses'];
  }
  if ('body' in r) {
    const example = e.examples?.response;
    return {
      [r.status]: {
        description: r.description ?? 'Success',
        headers,
        content: { 'application/json': { schema: z.object({ data: r.body }), ...(example ? { example: { data: example } } : {}) } },
      },
    } as RouteConfig['responses'];
  }
  if ('stream' in r) {
    return {
      200: {
        description:
          r.description ??
          'The items, one JSON value per line (NDJSON), each as the schema says, sent as they are read. A failure after the ' +
            'first item cuts the stream short: a body that does not end with a newline is incomplete.',
        headers,
        content: { [NDJSON]: { schema: r.stream.item } },
      },
    } as RouteConfig['responses'];
  }
  if ('file' in r) {
    const binary = { schema: { type: 'string', format: 'binary' } };
    return {
      200: {
        description: r.description ?? 'The file',
        headers: {
          ...headers,
          'Cache-Control': { description: 'How long and by whom the file may be kept', schema: { type: 'string', maxLength: 100 } },
          ETag: { description: 'Send it back in `If-None-Match` to get 304 when unchanged', schema: { type: 'string', maxLength: 100 } },
          'Accept-Ranges': {
            description: 'Ask for part of the file with `Range: bytes=…` (206)',
            schema: { type: 'string', const: 'bytes' },
          },
        },
        content: Object.fromEntries(r.file.types.map((type) => [type, binary])),
      },
      206: {
        description: 'The part of the file asked for with `Range`',
        headers: { ...headers, 'Content-Range': { schema: { type: 'string', maxLength: 100 } } },
        content: Object.fromEntries(r.file.types.map((type) => [type, binary])),
      },
      304: { description: 'Not modified since the ETag sent in `If-None-Match`', headers },
    } as RouteConfig['responses'];
  }
  return { 204: { description: r.description ?? 'Done; no content', headers } } as RouteConfig['responses'];
}

function errorResponses(api: ApiDefinition, model: ApiModel, errorCodes: readonly string[]): RouteConfig['responses'] {
  const byStatus = new Map<number, string[]>();
  for (const code of new Set(errorCodes)) {
    const status = model.errors[code]!.status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<number, unknown> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const examples = Object.fromEntries(
      codes.map((code) => [
        code,
        {
          summary: model.errors[code]!.title,
          value: {
            type: problemType(api.problemBaseUrl, code),
            title: model.errors[code]!.title,
            status,
            code,
            requestId: '3f2b8e4a-1c7d-4e8b-9a6f-0d5c2b1e7a94',
          },
        },
      ]),
    );
    responses[status] = {
      description: codes.map((code) => `\`${code}\`: ${model.errors[code]!.title}`).join('; '),
      headers: headerRefs(...errorHeaders(status)),
      content: { [PROBLEM_JSON]: { schema: Problem, examples } },
    };
  }
  return responses as RouteConfig['responses'];
}
