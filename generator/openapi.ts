import { OpenApiGeneratorV31, OpenAPIRegistry, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { PageInfo, Problem, problemType, type ApiDefinition } from '../runtime/contract';
import type { ApiModel, OperationModel } from './model';

/** Builds the OpenAPI 3.1 document from the model with zod-to-openapi. */
export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

const PROBLEM_JSON = 'application/problem+json';

export function buildOpenApi(api: ApiDefinition, model: ApiModel): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Access token (`typ: at+jwt`, HS256) in the Authorization header',
  });
  registry.registerComponent('headers', 'X-Request-Id', {
    description: 'Identifies the request in logs; sent back as given when well-formed, else generated',
    schema: { type: 'string', maxLength: 128 },
  });

  for (const op of model.operations) registry.registerPath(route(api, model, op));

  const generator = new OpenApiGeneratorV31(registry.definitions, { sortComponents: 'alphabetically' });
  return generator.generateDocument({
    openapi: '3.1.0',
    info: { ...api.info, license: { ...api.info.license } } as OpenApiDocument['info'],
    servers: api.servers.map((server) => ({ ...server })),
    tags: model.tags.map((tag) => ({ name: tag.name, description: tag.description })),
  });
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
    security: op.authRequired ? [{ bearerAuth: [] }] : [],
    ...(op.deprecated ? { deprecated: true } : {}),
    request,
    responses: { ...success(op), ...errorResponses(api, model, op) },
  };
}

function description(op: OperationModel): string {
  const e = op.endpoint;
  const parts = [e.description ?? e.summary];
  if (typeof e.auth === 'object') parts.push(`Requires one of the roles: ${e.auth.roles.join(', ')}.`);
  if (e.rateLimit) parts.push(`Rate limit: ${e.rateLimit.points} requests per ${e.rateLimit.windowSeconds} s per ${e.rateLimit.key === 'user' ? 'user' : 'client address'}.`);
  if (e.deprecated) {
    const sunset = e.deprecated.sunset ? `; it stops working on ${e.deprecated.sunset}` : '';
    const use = e.deprecated.use ? ` Use \`${e.deprecated.use}\` instead.` : '';
    parts.push(`**Deprecated** since ${e.deprecated.since}${sunset}.${use}`);
  }
  return parts.join('\n\n');
}

const requestIdHeader = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } };

function success(op: OperationModel): RouteConfig['responses'] {
  const e = op.endpoint;
  const r = e.response;
  const headers: Record<string, unknown> = { ...requestIdHeader, ...rateLimitHeaders(op, false), ...deprecationHeaders(op) };
  if ('page' in r) {
    return {
      200: {
        description: r.description ?? 'One page of results',
        headers: { ...headers, Link: { description: 'Link to the next page, `rel="next"`, when there is one', schema: { type: 'string', maxLength: 2048 } } },
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
  return { 204: { description: r.description ?? 'Done; no content', headers } } as RouteConfig['responses'];
}

function errorResponses(api: ApiDefinition, model: ApiModel, op: OperationModel): RouteConfig['responses'] {
  const byStatus = new Map<number, string[]>();
  for (const code of op.errorCodes) {
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
            instance: op.path,
            requestId: '3f2b8e4a-1c7d-4e8b-9a6f-0d5c2b1e7a94',
          },
        },
      ]),
    );
    responses[status] = {
      description: codes.map((code) => `\`${code}\`: ${model.errors[code]!.title}`).join('; '),
      headers: { ...requestIdHeader, ...(status === 429 ? rateLimitHeaders(op, true) : {}) },
      content: { [PROBLEM_JSON]: { schema: Problem, examples } },
    };
  }
  return responses as RouteConfig['responses'];
}

function rateLimitHeaders(op: OperationModel, limited: boolean): Record<string, unknown> {
  const limit = op.endpoint.rateLimit;
  if (!limit) return {};
  const headers: Record<string, unknown> = {
    'RateLimit-Policy': {
      description: `The limit: \`"${op.operationId}";q=${limit.points};w=${limit.windowSeconds}\` (draft-ietf-httpapi-ratelimit-headers)`,
      schema: { type: 'string', maxLength: 200 },
    },
    RateLimit: {
      description: 'What is left: `r` requests remaining, `t` seconds until the window resets',
      schema: { type: 'string', maxLength: 200 },
    },
  };
  if (limited) headers['Retry-After'] = { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } };
  return headers;
}

function deprecationHeaders(op: OperationModel): Record<string, unknown> {
  if (!op.deprecated) return {};
  return {
    Deprecation: { description: 'When this operation was deprecated (RFC 9745), e.g. `@1767225600`', schema: { type: 'string', maxLength: 30 } },
    Sunset: { description: 'When this operation stops working (RFC 8594)', schema: { type: 'string', maxLength: 40 } },
  };
}
