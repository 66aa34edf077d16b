import { z } from 'zod';
import {
  DEFAULT_BASE_PATH,
  EVENT_NAME,
  rateLimitsOf,
  runtimeErrors,
  type ApiDefinition,
  type ContractEntry,
  type Endpoint,
  type EventEntry,
  type RateLimit,
} from '@contract-kit/runtime/contract';

/**
 * Checks the contracts before anything is generated. Each problem names the contract
 * (`events.getEvent`) and says what is wrong, so a broken contract is fixed at its source.
 */
export interface ContractProblem {
  contract: string;
  message: string;
}

const CAMEL = /^[a-z][a-zA-Z0-9]*$/;
const SEGMENT = /^([a-z0-9]+(-[a-z0-9]+)*|\{[a-zA-Z][a-zA-Z0-9]*\})$/;
const BOUNDED_FORMATS = new Set(['uuid', 'date-time', 'date', 'time', 'duration', 'ipv4', 'ipv6']);

/** `today` (ISO date) is what a sunset is compared with. */
export function checkContracts(api: ApiDefinition, contracts: ContractEntry[], today: string): ContractProblem[] {
  const problems: ContractProblem[] = [];
  const seenIds = new Map<string, string>();
  const seenRoutes = new Map<string, string>();
  const codes = new Set([...Object.keys(runtimeErrors), ...Object.keys(api.errors)]);

  for (const { module, exportName, endpoint: e } of contracts) {
    const name = `${module}.${exportName}`;
    const report = (message: string) => problems.push({ contract: name, message });

    if (!CAMEL.test(e.operationId)) report(`operationId "${e.operationId}" must be camelCase`);
    if (e.operationId !== exportName) report(`operationId "${e.operationId}" must equal its export name "${exportName}"`);
    const previous = seenIds.get(e.operationId);
    if (previous) report(`operationId "${e.operationId}" is already used by ${previous}`);
    seenIds.set(e.operationId, name);

    if (!Number.isInteger(e.version) || e.version < 1) report(`version must be a major version number ≥ 1, got ${String(e.version)}`);
    checkPath(e, api.basePath ?? DEFAULT_BASE_PATH, report);
    const routeKey = `${e.method} ${e.fullPath.replace(/\{[^}]+\}/g, '{}')}`;
    const clash = seenRoutes.get(routeKey);
    if (clash) report(`${e.method} ${e.fullPath} is already served by ${clash}`);
    seenRoutes.set(routeKey, name);

    if (!e.summary.trim()) report('summary is empty');
    for (const tag of e.tags) if (!(tag in api.tags)) report(`tag "${tag}" is not described in the API's tags`);
    // The first tag names a handler group and a client namespace: it must be an identifier.
    if (!CAMEL.test(e.tags[0])) report(`tag "${e.tags[0]}" must be camelCase (it names the handler interface and the client namespace)`);
    for (const code of e.errors ?? []) if (!codes.has(code)) report(`error code "${code}" is not in the error registry`);
    if ((e.method === 'GET' || e.method === 'DELETE') && e.body) report(`${e.method} cannot have a body`);
    // A stream is read, not stored: an Idempotency-Key could not replay it.
    if ('stream' in e.response && e.method !== 'GET') report('a stream answer is for GET only');
    checkLimits(rateLimitsOf(e), e.body, 'body', report);
    if (e.deprecated) checkDeprecation(e.deprecated, today, report);
    if (e.ifMatch && !((e.method === 'PATCH' || e.method === 'PUT') && 'body' in e.response))
      report('ifMatch is for a PATCH or PUT answering the resource (its ETag is compared with that answer)');
    if (e.cache) {
      if (e.method !== 'GET' || !('body' in e.response || 'page' in e.response)) report('cache is for a GET answering JSON');
      // A shared cache would hand one user's answer to another.
      if (e.auth !== 'public' && e.cache.scope !== 'private')
        report(`cache.scope must be "private": the answer depends on who asks (auth ${JSON.stringify(e.auth)})`);
      if (!Number.isInteger(e.cache.maxAge) || e.cache.maxAge < 0) report('cache.maxAge must be a whole number of seconds, 0 or more');
    }

    for (const [location, schema] of [
      ['params', e.params],
      ['query', e.requestQuery],
      ['headers', e.headers],
      ['body', e.requestBody],
    ] as const) {
      if (schema) for (const path of unboundedInputs(schema)) report(`${location}${path} has no maximum (add .max())`);
    }
  }
  return problems;
}

/** Limits that share a policy name share one counter, so endpoints and events must state the same policy. */
export function checkSharedLimits(contracts: ContractEntry[], events: EventEntry[]): ContractProblem[] {
  const problems: ContractProblem[] = [];
  const owners: { name: string; limits: readonly RateLimit[] }[] = [
    ...contracts.map((c) => ({ name: `${c.module}.${c.exportName}`, limits: rateLimitsOf(c.endpoint) })),
    ...events.map((e) => ({ name: `${e.module}.${e.exportName}`, limits: e.event.kind === 'client-event' ? rateLimitsOf(e.event) : [] })),
  ];
  const seen = new Map<string, { owner: string; policy: string }>();
  for (const { name, limits } of owners) {
    for (const limit of limits) {
      if (!limit.name) continue;
      const policy = JSON.stringify([limit.points, limit.windowSeconds, limit.key, Boolean(limit.failuresOnly)]);
      const first = seen.get(limit.name);
      if (!first) seen.set(limit.name, { owner: name, policy });
      else if (first.policy !== policy) {
        problems.push({
          contract: name,
          message: `rate limit "${limit.name}" differs from the one of the same name in ${first.owner}; a shared name is one counter`,
        });
      }
    }
  }
  return problems;
}

/** Real-time events: unique `domain:verb` names, known error codes, bounded inbound payloads. */
export function checkEvents(api: ApiDefinition, events: EventEntry[]): ContractProblem[] {
  const problems: ContractProblem[] = [];
  const codes = new Set([...Object.keys(runtimeErrors), ...Object.keys(api.errors)]);
  const seen = new Map<string, string>();
  if (events.length > 0 && !api.realtime)
    problems.push({ contract: 'api', message: 'real-time events need `realtime: { path, description }` in defineApi' });
  for (const { module, exportName, event } of events) {
    const name = `${module}.${exportName}`;
    const report = (message: string) => problems.push({ contract: name, message });
    if (!EVENT_NAME.test(event.name)) report(`event name "${event.name}" must look like domain:verb`);
    const key = `${event.kind} ${event.name}`;
    if (seen.has(key)) report(`event "${event.name}" is already declared by ${seen.get(key)}`);
    seen.set(key, name);
    if (!event.summary.trim()) report('summary is empty');
    if (event.kind === 'client-event') {
      for (const code of event.errors ?? []) if (!codes.has(code)) report(`error code "${code}" is not in the error registry`);
      for (const path of unboundedInputs(event.payload)) report(`payload${path} has no maximum (add .max())`);
      checkLimits(rateLimitsOf(event), event.payload, 'payload', report);
    }
  }
  return problems;
}

/** Positive numbers, and every `body.` key part naming a field of the body (or event payload). */
function checkLimits(
  limits: readonly RateLimit[],
  input: z.ZodType | undefined,
  inputName: string,
  report: (message: string) => void,
): void {
  for (const limit of limits) {
    if (!(limit.points > 0 && limit.windowSeconds > 0)) report('rateLimit needs positive points and windowSeconds');
    for (const part of typeof limit.key === 'string' ? [limit.key] : limit.key) {
      const field = part.startsWith('body.') ? part.slice(5).split('.')[0]! : undefined;
      if (field && !(input instanceof z.ZodObject && field in input.shape))
        report(`rateLimit key "${part}" names no field of the ${inputName}`);
    }
  }
}

function checkPath(e: Endpoint, basePath: string, report: (message: string) => void): void {
  // The base path's first segment repeated in the path is the prefix written twice: /api/v1/api/v1/….
  const prefix = `/${basePath.split('/')[1]}/`;
  if (!e.path.startsWith('/') || e.path.startsWith(prefix) || e.path.endsWith('/')) {
    report(`path "${e.path}" must start with "/", must not end with "/" and must leave out the base path (${basePath})`);
    return;
  }
  const segments = e.path.slice(1).split('/');
  for (const segment of segments) {
    if (!SEGMENT.test(segment)) report(`path segment "${segment}" must be kebab-case or a {camelCase} parameter`);
  }
  const inPath = segments.filter((s) => s.startsWith('{')).map((s) => s.slice(1, -1));
  const declared = Object.keys(e.params?.shape ?? {});
  for (const name of inPath) if (!declared.includes(name)) report(`path parameter "${name}" is not declared in params`);
  for (const name of declared) if (!inPath.includes(name)) report(`params declares "${name}", which is not in the path`);
}

function checkDeprecation(d: NonNullable<Endpoint['deprecated']>, today: string, report: (message: string) => void): void {
  const since = Date.parse(d.since);
  if (Number.isNaN(since)) report(`deprecated.since "${d.since}" is not a date`);
  if (d.sunset !== undefined) {
    const sunset = Date.parse(d.sunset);
    if (Number.isNaN(sunset)) report(`deprecated.sunset "${d.sunset}" is not a date`);
    else if (sunset < since) report('deprecated.sunset must not be earlier than deprecated.since (RFC 9745 §4.2)');
    // Clients were told it stops working then: it goes, and the gate lets its removal through.
    else if (sunset < Date.parse(today)) report(`its sunset (${d.sunset}) has passed: remove the operation`);
  }
}

/** JSON-pointer-like paths of input strings and arrays without an upper bound. */
function unboundedInputs(schema: z.ZodType): string[] {
  const found: string[] = [];
  walk(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema, '', found);
  return found;
}

interface JsonSchema {
  type?: string | string[];
  maxLength?: number;
  maxItems?: number;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  propertyNames?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
}

function walk(s: JsonSchema, path: string, found: string[]): void {
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const fixed = s.enum !== undefined || s.const !== undefined;
  if (types.includes('string') && !fixed && s.maxLength === undefined && !BOUNDED_FORMATS.has(s.format ?? '')) found.push(path || '/');
  if (types.includes('array') && s.maxItems === undefined) found.push(path || '/');
  for (const [key, child] of Object.entries(s.properties ?? {})) walk(child, `${path}/${key}`, found);
  if (s.items) walk(s.items, `${path}/*`, found);
  (s.prefixItems ?? []).forEach((child, i) => walk(child, `${path}/${i}`, found));
  if (s.propertyNames) walk({ type: 'string', ...s.propertyNames }, `${path}/(key)`, found);
  if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}/*`, found);
  for (const child of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) walk(child, path, found);
}
