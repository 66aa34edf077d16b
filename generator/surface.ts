/**
 * What an OpenAPI document promises its clients, operation by operation, in a form two versions of
 * it can be compared in (compat.ts): every `$ref` replaced by what it names, so a schema moved to
 * or from `components` is no change, and only what a client depends on kept (no descriptions,
 * summaries or examples). This is also what a published version is recorded as (published.ts).
 */

/** A JSON Schema as the spec writes it, dereferenced. A recursive one keeps `$ref` where it recurs. */
export type Schema = { [key: string]: unknown };

export interface Parameter {
  required: boolean;
  schema: Schema;
}

export interface Response {
  /** Media type → schema. */
  content: Record<string, Schema>;
  /** Header names, lower case. */
  headers: string[];
  /** The problem codes documented for this status (the examples of its problem+json). */
  codes: string[];
}

export interface RateLimitSurface {
  name: string;
  points: number;
  windowSeconds: number;
  /** What a request is counted against (`ip`, `user`, `body.username`): all parts make one key. */
  key?: string[];
  /** Only refused requests count. */
  failuresOnly?: boolean;
}

export interface OperationSurface {
  operationId: string;
  /** `none`: credentials not looked at; `optional`: a token may be sent; `required`: one must. */
  auth: 'none' | 'optional' | 'required';
  /** Any one of them grants the operation; empty: any signed-in user. */
  roles: string[];
  deprecated: boolean;
  /** ISO date after which the operation may be removed (`x-sunset`). */
  sunset?: string;
  rateLimits: RateLimitSurface[];
  /** `in:name` (header names lower case) → parameter. */
  parameters: Record<string, Parameter>;
  body?: { required: boolean; content: Record<string, Schema> };
  /** Status → response. */
  responses: Record<string, Response>;
}

/** Operations by `METHOD /path`. */
export interface Surface {
  operations: Record<string, OperationSurface>;
  /**
   * The problem+json schema most error answers share, kept once: where an answer's schema is this
   * one it says `{ "$ref": "#problem" }` (see withProblemSchema).
   */
  problem?: Schema;
}

const PROBLEM = 'application/problem+json';
const SHARED_PROBLEM: Schema = { $ref: '#problem' };

/** The surface with every `#problem` reference replaced by the schema it stands for. */
export function withProblemSchema(surface: Surface): Surface {
  const problem = surface.problem;
  if (!problem) return surface;
  const operations = mapValues(surface.operations, (op) => ({
    ...op,
    responses: mapValues(op.responses, (r) => ({
      ...r,
      content: mapValues(r.content, (schema) => (schema.$ref === SHARED_PROBLEM.$ref ? problem : schema)),
    })),
  }));
  return { operations };
}

type Json = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** Words a client never depends on. */
const PROSE = new Set(['description', 'summary', 'example', 'examples', 'title', 'externalDocs', '$comment']);

export function surfaceOf(document: Json): Surface {
  const resolve = resolver(document);
  const operations: Record<string, OperationSurface> = {};
  for (const [path, item] of Object.entries((document.paths ?? {}) as Record<string, Json>)) {
    const shared = (item.parameters ?? []) as Json[];
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      operations[`${method.toUpperCase()} ${path}`] = operation(op, shared, document, resolve);
    }
  }
  return shareProblemSchema({ operations: sortKeys(operations) });
}

/** Keeps the most common problem+json schema once (a spec's error answers mostly share one). */
function shareProblemSchema(surface: Surface): Surface {
  // Each answer's problem schema as text, once (they are large, and there are hundreds).
  const texts = new Map<Response, string>();
  const counts = new Map<string, number>();
  for (const op of Object.values(surface.operations))
    for (const r of Object.values(op.responses)) {
      const schema = r.content[PROBLEM];
      if (!schema) continue;
      const text = JSON.stringify(schema);
      texts.set(r, text);
      counts.set(text, (counts.get(text) ?? 0) + 1);
    }
  const common = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (common === undefined) return surface;
  for (const [r, text] of texts) if (text === common) r.content[PROBLEM] = SHARED_PROBLEM;
  return { ...surface, problem: JSON.parse(common) as Schema };
}

/** The major version an operation's path says (`/api/v2/…` → 2); 1 when it says none. */
export function majorOf(key: string): number {
  const match = /\/v(\d+)(\/|$)/.exec(key);
  return match ? Number(match[1]) : 1;
}

function operation(op: Json, shared: Json[], document: Json, resolve: Resolver): OperationSurface {
  const security = (op.security ?? document.security ?? []) as Json[];
  const auth = security.length === 0 ? 'none' : security.some((s) => Object.keys(s).length === 0) ? 'optional' : 'required';
  const parameters: Record<string, Parameter> = {};
  for (const raw of [...shared, ...((op.parameters ?? []) as Json[])]) {
    const p = resolve.object(raw);
    const name = p.in === 'header' ? String(p.name).toLowerCase() : String(p.name);
    parameters[`${String(p.in)}:${name}`] = { required: p.required === true, schema: resolve.schema(p.schema ?? {}) };
  }
  const responses: Record<string, Response> = {};
  for (const [status, raw] of Object.entries((op.responses ?? {}) as Json)) {
    const r = resolve.object(raw as Json);
    const content = (r.content ?? {}) as Record<string, Json>;
    const codes = new Set<string>();
    for (const media of Object.values(content)) {
      for (const example of Object.values((media.examples ?? {}) as Record<string, Json>)) {
        const code = (resolve.object(example).value as Json | undefined)?.code;
        if (typeof code === 'string') codes.add(code);
      }
    }
    responses[status] = {
      content: mapValues(content, (media) => resolve.schema(media.schema ?? {})),
      headers: Object.keys((r.headers ?? {}) as Json)
        .map((h) => h.toLowerCase())
        .sort(),
      codes: [...codes].sort(),
    };
  }
  const surface: OperationSurface = {
    operationId: String(op.operationId ?? ''),
    auth,
    roles: [...((op['x-roles'] ?? []) as string[])].sort(),
    deprecated: op.deprecated === true,
    rateLimits: ((op['x-rate-limit'] ?? []) as RateLimitSurface[]).map(({ name, points, windowSeconds, key, failuresOnly }) => ({
      name,
      points,
      windowSeconds,
      ...(key ? { key: [...key].sort() } : {}),
      failuresOnly: failuresOnly === true,
    })),
    parameters: sortKeys(parameters),
    responses: sortKeys(responses),
  };
  if (typeof op['x-sunset'] === 'string') surface.sunset = op['x-sunset'];
  if (op.requestBody) {
    const body = resolve.object(op.requestBody as Json);
    surface.body = {
      required: body.required === true,
      content: mapValues((body.content ?? {}) as Record<string, Json>, (media) => resolve.schema(media.schema ?? {})),
    };
  }
  return surface;
}

interface Resolver {
  /** A parameter, response, request body or example, its `$ref` followed. */
  object(value: Json): Json;
  /** A schema with every `$ref` replaced, prose dropped; a `$ref` met again inside itself stays. */
  schema(value: unknown): Schema;
}

function resolver(document: Json): Resolver {
  const target = (ref: string): Json => {
    if (!ref.startsWith('#/')) throw new Error(`Only local references can be compared, not ${ref}`);
    let node: unknown = document;
    for (const part of ref.slice(2).split('/')) node = (node as Json | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
    if (node === undefined) throw new Error(`The spec refers to ${ref}, which it does not have`);
    return node as Json;
  };
  const object = (value: Json): Json => (typeof value.$ref === 'string' ? object(target(value.$ref)) : value);
  const schema = (value: unknown, open: readonly string[] = []): Schema => {
    if (Array.isArray(value)) return value.map((v) => schema(v, open)) as unknown as Schema;
    if (value === null || typeof value !== 'object') return value as Schema;
    const node = value as Json;
    if (typeof node.$ref === 'string') {
      if (open.includes(node.$ref)) return { $ref: node.$ref };
      return schema(target(node.$ref), [...open, node.$ref]);
    }
    const out: Schema = {};
    for (const key of Object.keys(node).sort()) {
      if (PROSE.has(key) || key === 'default' || key === 'deprecated') continue;
      const v = node[key];
      // Property names are data, not keywords: a property called "description" stays.
      out[key] = key === 'properties' ? mapValues(v as Record<string, unknown>, (s) => schema(s, open)) : schema(v, open);
    }
    return out;
  };
  return { object, schema: (value) => schema(value) };
}

function mapValues<T, U>(record: Record<string, T>, f: (value: T) => U): Record<string, U> {
  return Object.fromEntries(
    Object.entries(record)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, f(v)]),
  );
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return mapValues(record, (v) => v);
}
