import { openapi } from '../../generated/server';

/**
 * The generated OpenAPI 3.1 document, read as data: the fuzzer knows nothing of the operations
 * but what this says, so a new operation is covered without editing the test.
 */

/** A JSON Schema (OpenAPI 3.1 dialect) node, `$ref`s unresolved. */
export type Schema = { [keyword: string]: unknown };

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: Schema;
}

export interface MediaType {
  schema: Schema | undefined;
  /** Problem codes named by the response's examples (`value.code`); empty when it has none. */
  codes: string[];
}

export interface ResponseSpec {
  headers: Record<string, { required: boolean; schema: Schema | undefined }>;
  content: Record<string, MediaType>;
}

export interface Operation {
  id: string;
  method: string;
  /** The path template, e.g. `/api/v1/events/{eventId}`. */
  path: string;
  parameters: Parameter[];
  body: { required: boolean; mediaType: string; schema: Schema } | undefined;
  /** By status code (`200`, `4XX`, `default`). */
  responses: Record<string, ResponseSpec>;
  /** Whether the operation needs a bearer token. */
  secured: boolean;
  /** The roles one of which the caller needs (`x-roles`); empty when any signed-in user may call it. */
  roles: string[];
}

export const document = openapi as {
  paths: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
  security?: Record<string, string[]>[];
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Follows `$ref`s inside the document until a node without one. */
export function deref<T = Schema>(node: unknown): T {
  let current = node as Record<string, unknown>;
  for (let hops = 0; typeof current?.$ref === 'string'; hops++) {
    if (hops > 32) throw new Error(`$ref cycle at ${String(current.$ref)}`);
    current = pointer(current.$ref as string) as Record<string, unknown>;
  }
  return current as T;
}

/** The node a local reference (`#/components/schemas/Event`) names. */
function pointer(ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`Only local $refs are supported, got ${ref}`);
  let node: unknown = document;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    node = (node as Record<string, unknown> | undefined)?.[key];
    if (node === undefined) throw new Error(`Unresolvable $ref ${ref}`);
  }
  return node;
}

/** The component name a `$ref` points at (`Event` for `#/components/schemas/Event`). */
export function refName(node: unknown): string | undefined {
  const ref = (node as { $ref?: unknown } | undefined)?.$ref;
  return typeof ref === 'string' && ref.startsWith('#/components/schemas/') ? ref.slice('#/components/schemas/'.length) : undefined;
}

/** Every operation of the document, in document order. */
export function operations(): Operation[] {
  const out: Operation[] = [];
  for (const [path, rawItem] of Object.entries(document.paths)) {
    const item = deref<Record<string, unknown>>(rawItem);
    const shared = ((item.parameters as unknown[] | undefined) ?? []).map(toParameter);
    for (const method of METHODS) {
      const op = item[method] as Record<string, unknown> | undefined;
      // Upload operations speak tus (protocol headers, a binary body): their tests are
      // test/server/handlers/media.test.ts and test/runtime/client/upload.test.ts.
      if (!op || op['x-tus-resumable']) continue;
      const own = ((op.parameters as unknown[] | undefined) ?? []).map(toParameter);
      const parameters = [...shared.filter((p) => !own.some((o) => o.name === p.name && o.in === p.in)), ...own];
      out.push({
        id: (op.operationId as string | undefined) ?? `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        parameters,
        body: toBody(op.requestBody),
        responses: Object.fromEntries(
          Object.entries((op.responses as Record<string, unknown>) ?? {}).map(([status, r]) => [status, toResponse(r)]),
        ),
        secured: isSecured((op.security as Record<string, string[]>[] | undefined) ?? document.security ?? []),
        roles: (op['x-roles'] as string[] | undefined) ?? [],
      });
    }
  }
  return out;
}

function toParameter(raw: unknown): Parameter {
  const p = deref<Record<string, unknown>>(raw);
  if (p.content) throw new Error(`Parameter ${String(p.name)}: only \`schema\` parameters are supported, not \`content\``);
  return {
    name: p.name as string,
    in: p.in as Parameter['in'],
    required: p.in === 'path' || p.required === true,
    schema: (p.schema as Schema | undefined) ?? {},
  };
}

function toBody(raw: unknown): Operation['body'] {
  if (!raw) return undefined;
  const body = deref<Record<string, unknown>>(raw);
  const content = (body.content as Record<string, { schema?: Schema }> | undefined) ?? {};
  const mediaType = Object.keys(content).find((type) => /^application\/([\w.+-]+\+)?json$/.test(type));
  if (!mediaType) throw new Error(`Only JSON request bodies are supported, got ${Object.keys(content).join(', ')}`);
  return { required: body.required === true, mediaType, schema: content[mediaType]!.schema ?? {} };
}

function toResponse(raw: unknown): ResponseSpec {
  const response = deref<Record<string, unknown>>(raw);
  const headers: ResponseSpec['headers'] = {};
  for (const [name, h] of Object.entries((response.headers as Record<string, unknown> | undefined) ?? {})) {
    const header = deref<{ required?: boolean; schema?: Schema }>(h);
    headers[name.toLowerCase()] = { required: header.required === true, schema: header.schema };
  }
  const content: ResponseSpec['content'] = {};
  for (const [type, m] of Object.entries((response.content as Record<string, Record<string, unknown>> | undefined) ?? {})) {
    const examples = Object.values((m.examples as Record<string, unknown> | undefined) ?? {}).map((e) =>
      deref<{ value?: { code?: unknown } }>(e),
    );
    const codes = examples.map((e) => e.value?.code).filter((code): code is string => typeof code === 'string');
    content[type] = { schema: m.schema as Schema | undefined, codes };
  }
  return { headers, content };
}

function isSecured(requirements: Record<string, string[]>[]): boolean {
  if (requirements.length === 0 || requirements.some((r) => Object.keys(r).length === 0)) return false;
  for (const requirement of requirements) {
    for (const name of Object.keys(requirement)) {
      const scheme = deref<{ type?: string; scheme?: string }>(document.components?.securitySchemes?.[name]);
      if (scheme?.type !== 'http' || scheme.scheme?.toLowerCase() !== 'bearer') {
        throw new Error(`Security scheme ${name} is not HTTP bearer: teach test/fuzz how to authenticate with it`);
      }
    }
  }
  return true;
}

/** The documented answer for a status: exact, then `4XX`-style ranges, then `default`. */
export function documentedResponse(op: Operation, status: number): ResponseSpec | undefined {
  return op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;
}
