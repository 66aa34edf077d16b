import { generate, type GenOptions, type Pools } from './generate';
import type { FuzzRequest } from './harness';
import type { Rng } from '../../runtime/core/seeded-random';
import type { SchemaChecker } from './schemas';
import { operations, type Operation, type Parameter } from './spec';

/**
 * The requests of one operation: valid ones drawn from its schemas, probes at the edges of what is
 * valid (only the general assertions apply), and invalid ones that each break ONE rule of a valid
 * request the runtime accepted, with the refusal they must get.
 *
 * A rule is either the spec's (the mutated value is checked to break its JSON Schema, so a
 * generator slip cannot pass for a defect) or one of DESIGN.md §3's input rules, which hold for
 * every field whatever its schema says: text is well-formed Unicode without NUL, bodies are strict
 * UTF-8, percent-encoding is valid, years are 0001–9999, unknown body fields and prototype keys
 * are refused.
 */

/** A parameter value: a value the fuzzer encodes, or bytes already percent-encoded. */
export type Raw = { value: unknown } | { encoded: string };

export type BodyInput = { json: unknown; contentType?: string | null } | { bytes: Buffer | undefined; contentType?: string | null };

export interface Inputs {
  path: Record<string, Raw>;
  query: [string, Raw][];
  headers: Record<string, string>;
  body: BodyInput | undefined;
  /** `account`: a live bearer token; `none`: no Authorization; else that Authorization header. */
  auth: 'account' | 'none' | { header: string };
}

/** The refusal an invalid request must get. */
export interface Expectation {
  statuses: number[];
  codes: string[];
  /** When the code is VALIDATION_FAILED, one of `errors[]` must point here or below. */
  pointer?: string;
  /** Also right: an error at the pointer's parent (`/query` for a query that cannot be decoded). */
  parentOk?: boolean;
}

export interface Case {
  kind: 'valid' | 'probe' | 'invalid';
  label: string;
  inputs: Inputs;
  expect?: Expectation;
}

export interface CaseContext {
  rng: Rng;
  pools: Pools;
  checker: SchemaChecker;
}

/** A valid request drawn from the operation's schemas. */
export function validCase(
  op: Operation,
  ctx: CaseContext,
  label: string,
  variant: Pick<GenOptions, 'mode' | 'uuidPool'> = { mode: 'random' },
): Case {
  const options: GenOptions = { rng: ctx.rng, pools: ctx.pools, checker: ctx.checker, ...variant };
  return { kind: 'valid', label, inputs: validInputs(op, options, op.secured ? 'account' : 'none') };
}

/** A valid request: every required part, and (in random mode) some optional ones. */
export function validInputs(op: Operation, options: GenOptions, auth: Inputs['auth']): Inputs {
  const { rng } = options;
  const inputs: Inputs = { path: {}, query: [], headers: {}, body: undefined, auth };
  for (const p of op.parameters) {
    const include = p.required || (options.mode === 'random' && rng.bool(p.in === 'header' ? 0.3 : 0.5));
    if (!include || p.in === 'cookie') continue;
    if (p.in === 'path') inputs.path[p.name] = { value: pathValue(op, p, options) };
    if (p.in === 'query') inputs.query.push([p.name, { value: generate(p.schema, options, p.name) }]);
    if (p.in === 'header') inputs.headers[p.name] = String(generate(p.schema, { ...options, mode: 'header' }, p.name));
  }
  if (op.body && (op.body.required || options.mode === 'plain' || rng.bool(0.8))) inputs.body = { json: generate(op.body.schema, options) };
  return inputs;
}

/** A path parameter value that routes to this operation (not `me` of `/users/me` for `/users/{user}`). */
function pathValue(op: Operation, p: Parameter, options: GenOptions): unknown {
  for (let attempt = 0; attempt < 20; attempt++) {
    const value = generate(p.schema, options, p.name);
    if (!routesElsewhere(op, p.name, encodeURIComponent(String(value)))) return value;
  }
  throw new Error(`test/fuzz cannot find a value for path parameter ${p.name} of ${op.id} that routes to it`);
}

const ALL_OPERATIONS = operations();

/** Whether a path segment value makes the path ambiguous: another template of the method matches too. */
export function routesElsewhere(op: Operation, name: string, encoded: string): boolean {
  if (encoded === '.' || encoded === '..' || encoded === '') return true;
  const segments = op.path.split('/').map((s) => (s === `{${name}}` ? encoded : s));
  return ALL_OPERATIONS.some((other) => {
    if (other.id === op.id || other.method !== op.method) return false;
    const template = other.path.split('/');
    return template.length === segments.length && template.every((t, i) => /^\{[^}]+\}$/.test(t) || t === segments[i]);
  });
}

/** The request as bytes on the wire. */
export function toRequest(op: Operation, inputs: Inputs, token: string | undefined): FuzzRequest {
  const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const raw = inputs.path[name];
    if (!raw) throw new Error(`No value for path parameter ${name}`);
    return 'encoded' in raw ? raw.encoded : encodeURIComponent(paramText(raw.value));
  });
  const query = inputs.query
    .flatMap(([key, raw]) => {
      if ('encoded' in raw) return [`${encodeURIComponent(key)}=${raw.encoded}`];
      const values = Array.isArray(raw.value) ? raw.value : [raw.value];
      return values.map((v) => `${encodeURIComponent(key)}=${encodeURIComponent(paramText(v))}`);
    })
    .join('&');
  const headers: Record<string, string> = { ...inputs.headers };
  if (inputs.auth === 'account' && token) headers.Authorization = `Bearer ${token}`;
  else if (typeof inputs.auth === 'object') headers.Authorization = inputs.auth.header;
  let body: Buffer | undefined;
  if (inputs.body) {
    body = 'json' in inputs.body ? Buffer.from(JSON.stringify(inputs.body.json), 'utf8') : inputs.body.bytes;
    const type = inputs.body.contentType === undefined ? (op.body?.mediaType ?? 'application/json') : inputs.body.contentType;
    if (type !== null && body !== undefined) headers['Content-Type'] = type;
  }
  return { method: op.method, path, query, headers, body };
}

export function paramText(value: unknown): string {
  if (Array.isArray(value)) return value.map(paramText).join(',');
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

export function clone(inputs: Inputs): Inputs {
  return {
    path: { ...inputs.path },
    query: inputs.query.map(([k, v]) => [k, v] as [string, Raw]),
    headers: { ...inputs.headers },
    body: inputs.body && 'json' in inputs.body ? { ...inputs.body, json: structuredClone(inputs.body.json) } : inputs.body,
    auth: inputs.auth,
  };
}
