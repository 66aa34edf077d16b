import { majorOf, type OperationSurface, type Schema, type Surface, withProblemSchema } from './surface';

/**
 * The changes between a published version of an API and the current one, each named by operation
 * and judged: `breaking` when a client written against the published version can fail, `compatible`
 * when it cannot (an addition, a limit raised, a response that varies less). Requests and responses break in opposite directions: a request may accept
 * more than before, never less; a response may send less variety than before, never more.
 */
export interface Change {
  /** `METHOD /path`, with the operationId. */
  operation: string;
  kind: 'breaking' | 'compatible';
  /** Stable name of the rule, e.g. `response-field-removed`. */
  rule: string;
  message: string;
}

type Direction = 'request' | 'response';

export function compareSurfaces(published: Surface, current: Surface, today: string): Change[] {
  const before = withProblemSchema(published);
  const after = withProblemSchema(current);
  const changes: Change[] = [];
  for (const [key, old] of Object.entries(before.operations)) {
    const current = after.operations[key];
    const name = `${key} (${old.operationId})`;
    if (!current) {
      // Removing it is what a deprecation with a sunset leads to, once the sunset has passed.
      const retired = old.deprecated && old.sunset !== undefined && Date.parse(old.sunset) < Date.parse(today);
      if (retired)
        changes.push({
          operation: name,
          kind: 'compatible',
          rule: 'operation-retired',
          message: `removed after its sunset (${old.sunset})`,
        });
      else changes.push({ operation: name, kind: 'breaking', rule: 'operation-removed', message: 'the operation was removed' });
      continue;
    }
    compareOperation(old, current, (kind, rule, message) => changes.push({ operation: name, kind, rule, message }));
  }
  for (const [key, current] of Object.entries(after.operations)) {
    if (before.operations[key]) continue;
    const major = majorOf(key);
    const note = Object.keys(before.operations).some((k) => majorOf(k) === major) ? 'new operation' : `new operation of v${major}`;
    changes.push({ operation: `${key} (${current.operationId})`, kind: 'compatible', rule: 'operation-added', message: note });
  }
  return changes;
}

type Report = (kind: Change['kind'], rule: string, message: string) => void;

function compareOperation(old: OperationSurface, current: OperationSurface, report: Report): void {
  if (old.operationId !== current.operationId)
    report(
      'breaking',
      'operation-renamed',
      `operationId ${old.operationId} became ${current.operationId} (the generated client's method is renamed)`,
    );

  const rank = { none: 0, optional: 1, required: 2 } as const;
  if (rank[current.auth] > rank[old.auth]) report('breaking', 'auth-tightened', `authentication went from ${old.auth} to ${current.auth}`);
  else if (rank[current.auth] < rank[old.auth])
    report('compatible', 'auth-loosened', `authentication went from ${old.auth} to ${current.auth}`);
  const lostRoles = old.roles.length === 0 ? [] : old.roles.filter((r) => !current.roles.includes(r));
  if (old.roles.length === 0 && current.roles.length > 0)
    report('breaking', 'auth-tightened', `now needs one of the roles ${current.roles.join(', ')}`);
  else if (lostRoles.length > 0) report('breaking', 'auth-tightened', `the role(s) ${lostRoles.join(', ')} no longer grant it`);
  else if (old.roles.length > 0 && current.roles.length === 0) report('compatible', 'auth-loosened', 'any signed-in user may now call it');
  else if (current.roles.some((r) => !old.roles.includes(r)))
    report('compatible', 'auth-loosened', `the role(s) ${current.roles.filter((r) => !old.roles.includes(r)).join(', ')} now grant it too`);

  if (!old.deprecated && current.deprecated)
    report('compatible', 'deprecated', `deprecated${current.sunset ? `, sunset ${current.sunset}` : ''}`);
  else if (old.sunset !== current.sunset && current.sunset !== undefined && (old.sunset === undefined || current.sunset < old.sunset))
    report('breaking', 'sunset-earlier', `the sunset moved from ${old.sunset ?? 'none'} to ${current.sunset}`);

  compareRateLimits(old, current, report);

  for (const [name, p] of Object.entries(old.parameters)) {
    const now = current.parameters[name];
    const label = parameterLabel(name);
    if (!now) report('breaking', 'request-input-removed', `${label} is no longer accepted`);
    else {
      if (now.required && !p.required) report('breaking', 'request-input-required', `${label} became required`);
      compareSchema(p.schema, now.schema, 'request', label, report);
    }
  }
  for (const [name, p] of Object.entries(current.parameters)) {
    if (old.parameters[name]) continue;
    if (p.required) report('breaking', 'request-input-required', `new required ${parameterLabel(name)}`);
    else report('compatible', 'request-input-added', `new optional ${parameterLabel(name)}`);
  }

  if (old.body && !current.body) report('breaking', 'request-input-removed', 'the request body is no longer accepted');
  if (!old.body && current.body?.required) report('breaking', 'request-input-required', 'a request body is now required');
  if (old.body && current.body) {
    if (current.body.required && !old.body.required) report('breaking', 'request-input-required', 'the request body became required');
    for (const [media, schema] of Object.entries(old.body.content)) {
      const now = current.body.content[media];
      if (!now) report('breaking', 'request-input-removed', `the request body as ${media} is no longer accepted`);
      else compareSchema(schema, now, 'request', 'body', report);
    }
  }

  for (const [status, r] of Object.entries(old.responses)) {
    const now = current.responses[status];
    if (!now) {
      report('breaking', 'status-removed', `the ${status} response is no longer documented`);
      continue;
    }
    for (const code of r.codes)
      if (!now.codes.includes(code)) report('breaking', 'error-code-removed', `${status} ${code} is no longer documented`);
    for (const code of now.codes) if (!r.codes.includes(code)) report('compatible', 'error-code-added', `may answer ${status} ${code}`);
    for (const header of r.headers)
      if (!now.headers.includes(header)) report('breaking', 'response-header-removed', `${status} no longer sends the ${header} header`);
    for (const header of now.headers)
      if (!r.headers.includes(header)) report('compatible', 'response-header-added', `${status} also sends the ${header} header`);
    for (const [media, schema] of Object.entries(r.content)) {
      const nowSchema = now.content[media];
      if (!nowSchema) report('breaking', 'response-media-removed', `${status} is no longer sent as ${media}`);
      // A problem's schema is the standard one; what a client relies on there are the codes above.
      else compareSchema(schema, nowSchema, 'response', `${status} response`, report);
    }
    for (const media of Object.keys(now.content))
      if (!r.content[media]) report('breaking', 'response-media-added', `${status} may now be sent as ${media}`);
  }
  for (const status of Object.keys(current.responses))
    if (!old.responses[status]) report('compatible', 'status-added', `may answer ${status}`);
}

function compareRateLimits(old: OperationSurface, current: OperationSurface, report: Report): void {
  for (const limit of current.rateLimits) {
    const before = old.rateLimits.find((l) => l.name === limit.name);
    const rate = (l: { points: number; windowSeconds: number }) => `${l.points} per ${l.windowSeconds} s`;
    if (!before) report('breaking', 'limit-lowered', `new rate limit ${limit.name}: ${rate(limit)}`);
    else if (limit.points * before.windowSeconds < before.points * limit.windowSeconds || limit.points < before.points)
      report('breaking', 'limit-lowered', `rate limit ${limit.name} went from ${rate(before)} to ${rate(limit)}`);
    else if (limit.points !== before.points || limit.windowSeconds !== before.windowSeconds)
      report('compatible', 'limit-raised', `rate limit ${limit.name} went from ${rate(before)} to ${rate(limit)}`);
    if (!before) continue;
    // Counting every request where only refusals counted, or over a coarser key (fewer parts: more
    // clients share one count), refuses sooner. A record without these fields predates them: no verdict.
    if (before.failuresOnly === true && limit.failuresOnly === false)
      report('breaking', 'limit-lowered', `rate limit ${limit.name} now counts every request, not only refused ones`);
    const lost = before.key && limit.key ? before.key.filter((part) => !limit.key!.includes(part)) : [];
    if (lost.length > 0)
      report(
        'breaking',
        'limit-lowered',
        `rate limit ${limit.name} is no longer counted per ${lost.join(' and ')} (${before.key!.join('+')} → ${limit.key!.join('+')})`,
      );
  }
  for (const limit of old.rateLimits)
    if (!current.rateLimits.some((l) => l.name === limit.name)) report('compatible', 'limit-raised', `rate limit ${limit.name} was lifted`);
}

function parameterLabel(key: string): string {
  const [where, name] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  return `${where} parameter ${name}`;
}

// ---- schemas --------------------------------------------------------------------------------

/** The types a schema admits (`null` included), or undefined when it says none (anything). */
function typesOf(s: Schema): Set<string> | undefined {
  if (s.type !== undefined) return new Set(Array.isArray(s.type) ? (s.type as string[]) : [s.type as string]);
  if ('const' in s) return new Set([jsonType(s.const)]);
  if (Array.isArray(s.enum)) return new Set((s.enum as unknown[]).map(jsonType));
  return undefined;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** The values a schema is limited to (`enum`/`const`), or undefined when it is not limited so. */
function valuesOf(s: Schema): unknown[] | undefined {
  if ('const' in s) return [s.const];
  if (Array.isArray(s.enum)) return s.enum as unknown[];
  return undefined;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const show = (value: unknown) => JSON.stringify(value);

/** Upper bounds (lower is narrower) and lower bounds (higher is narrower). */
const UPPER = ['maxLength', 'maximum', 'exclusiveMaximum', 'maxItems', 'maxProperties'];
const LOWER = ['minLength', 'minimum', 'exclusiveMinimum', 'minItems', 'minProperties'];

function compareSchema(old: Schema, now: Schema, dir: Direction, where: string, report: Report): void {
  if (same(old, now)) return;
  // Narrowed: a request refuses what it took; widened: a response sends what it never did.
  const narrowed = (rule: string, message: string) =>
    dir === 'request' ? report('breaking', rule, `${where}: ${message}`) : report('compatible', rule, `${where}: ${message}`);
  const widened = (rule: string, message: string) =>
    dir === 'response' ? report('breaking', rule, `${where}: ${message}`) : report('compatible', rule, `${where}: ${message}`);

  if (typeof old.$ref === 'string' || typeof now.$ref === 'string') {
    // A recursive schema's inner reference: the outer one was compared where it was unfolded.
    if (old.$ref !== now.$ref) report('breaking', `${dir}-type-changed`, `${where}: the recursive type changed`);
    return;
  }

  const oldTypes = typesOf(old);
  const nowTypes = typesOf(now);
  if (oldTypes && nowTypes) {
    const covers = (set: Set<string>, t: string) => set.has(t) || (t === 'integer' && set.has('number'));
    const lost = [...oldTypes].filter((t) => !covers(nowTypes, t));
    const gained = [...nowTypes].filter((t) => !covers(oldTypes, t));
    if (lost.length > 0) narrowed(`${dir}-type-narrowed`, `no longer ${lost.join(' or ')}`);
    if (gained.length > 0) widened(`${dir}-type-widened`, `may now be ${gained.join(' or ')}`);
  } else if (oldTypes && !nowTypes) widened(`${dir}-type-widened`, 'may now be of any type');
  else if (!oldTypes && nowTypes) narrowed(`${dir}-type-narrowed`, `now only ${[...nowTypes].join(' or ')}`);

  const oldValues = valuesOf(old);
  const nowValues = valuesOf(now);
  if (oldValues && nowValues) {
    const removed = oldValues.filter((v) => !nowValues.some((w) => same(v, w)));
    const added = nowValues.filter((v) => !oldValues.some((w) => same(v, w)));
    if (removed.length > 0) narrowed(`${dir}-enum-value-removed`, `no longer ${removed.map(show).join(', ')}`);
    if (added.length > 0) widened(`${dir}-enum-value-added`, `may now be ${added.map(show).join(', ')}`);
  } else if (oldValues && !nowValues) widened(`${dir}-enum-lifted`, `no longer limited to ${oldValues.map(show).join(', ')}`);
  else if (!oldValues && nowValues) narrowed(`${dir}-enum-imposed`, `now limited to ${nowValues.map(show).join(', ')}`);

  const judge: Judge = { dir, where, report, narrowed, widened };
  for (const key of UPPER) compareBound(old, now, key, (a, b) => b < a, judge);
  for (const key of LOWER) compareBound(old, now, key, (a, b) => b > a, judge);
  for (const key of ['pattern', 'format']) {
    if (old[key] === now[key]) continue;
    if (now[key] !== undefined) narrowed(`${dir}-${key}-changed`, `${key} ${show(old[key] ?? 'none')} became ${show(now[key])}`);
    if (old[key] !== undefined && now[key] === undefined) widened(`${dir}-${key}-changed`, `${key} ${show(old[key])} was lifted`);
    else if (old[key] !== undefined && now[key] !== undefined)
      widened(`${dir}-${key}-changed`, `${key} ${show(old[key])} became ${show(now[key])}`);
  }

  compareObject(old, now, judge);
  if (old.items !== undefined || now.items !== undefined)
    compareSchema((old.items ?? {}) as Schema, (now.items ?? {}) as Schema, dir, `${where}[]`, report);
  for (const key of ['anyOf', 'oneOf', 'allOf']) compareVariants(old, now, key, judge);
}

/** Where in the schemas a comparison stands, and how it reports a narrowing or a widening there. */
interface Judge {
  dir: Direction;
  where: string;
  report: Report;
  narrowed(rule: string, message: string): void;
  widened(rule: string, message: string): void;
}

function compareBound(
  old: Schema,
  now: Schema,
  key: string,
  tighter: (before: number, after: number) => boolean,
  { narrowed, widened }: Judge,
): void {
  const a = old[key] as number | undefined;
  const b = now[key] as number | undefined;
  if (a === b) return;
  const rule = 'limit-lowered';
  if (a === undefined) narrowed(rule, `new ${key} ${b}`);
  else if (b === undefined) widened('limit-raised', `${key} ${a} was lifted`);
  else if (tighter(a, b)) narrowed(rule, `${key} went from ${a} to ${b}`);
  else widened('limit-raised', `${key} went from ${a} to ${b}`);
}

function compareObject(old: Schema, now: Schema, { dir, where, report, narrowed, widened }: Judge): void {
  const oldProps = (old.properties ?? {}) as Record<string, Schema>;
  const nowProps = (now.properties ?? {}) as Record<string, Schema>;
  const oldRequired = new Set((old.required ?? []) as string[]);
  const nowRequired = new Set((now.required ?? []) as string[]);
  const at = (name: string) => (where === 'body' || where.endsWith('response') ? `${where} field ${name}` : `${where}.${name}`);
  for (const [name, schema] of Object.entries(oldProps)) {
    const current = nowProps[name];
    if (!current) {
      if (dir === 'response') report('breaking', 'response-field-removed', `${at(name)} was removed`);
      // A request that refuses unknown fields refuses one it used to take.
      else if (now.additionalProperties === false) report('breaking', 'request-input-removed', `${at(name)} is no longer accepted`);
      else report('compatible', 'request-field-removed', `${at(name)} is no longer read`);
      continue;
    }
    if (dir === 'response' && oldRequired.has(name) && !nowRequired.has(name))
      report('breaking', 'response-field-optional', `${at(name)} may now be missing`);
    if (dir === 'request' && !oldRequired.has(name) && nowRequired.has(name))
      report('breaking', 'request-input-required', `${at(name)} became required`);
    if (dir === 'request' && oldRequired.has(name) && !nowRequired.has(name))
      report('compatible', 'request-field-optional', `${at(name)} became optional`);
    compareSchema(schema, current, dir, at(name), report);
  }
  for (const [name] of Object.entries(nowProps)) {
    if (oldProps[name]) continue;
    if (dir === 'request' && nowRequired.has(name)) report('breaking', 'request-input-required', `new required ${at(name)}`);
    else if (dir === 'request') report('compatible', 'request-field-added', `new optional ${at(name)}`);
    // A response field a client never saw: a client ignores it (our clients and the spec's rule).
    else report('compatible', 'response-field-added', `new ${at(name)}`);
  }
  const closed = (s: Schema) => s.additionalProperties === false;
  if (!closed(old) && closed(now) && old.type === 'object') narrowed(`${dir}-closed`, 'no longer takes fields it does not name');
  if (closed(old) && !closed(now) && now.type === 'object') widened(`${dir}-opened`, 'may now carry fields it does not name');
  if (typeof old.additionalProperties === 'object' && typeof now.additionalProperties === 'object')
    compareSchema(old.additionalProperties as Schema, now.additionalProperties as Schema, dir, `${where}{}`, report);
}

/** Alternatives compared as wholes: one that disappeared or appeared, not how it changed inside. */
function compareVariants(old: Schema, now: Schema, key: string, { dir, where, report, narrowed, widened }: Judge): void {
  const a = (old[key] ?? []) as Schema[];
  const b = (now[key] ?? []) as Schema[];
  if (same(a, b)) return;
  // Pairs at the same place are compared inside, as a change to one variant (or one part of an allOf,
  // as zod-to-openapi writes a nullable named schema: allOf [$ref, {type: [object, null]}]).
  if (a.length === b.length) {
    for (let i = 0; i < a.length; i++) compareSchema(a[i]!, b[i]!, dir, `${where} (variant ${i + 1})`, report);
    return;
  }
  if (key === 'allOf') {
    // All must hold: one more narrows, one fewer widens.
    if (b.length > a.length) narrowed(`${dir}-type-narrowed`, 'must now match one more schema');
    else widened(`${dir}-type-widened`, 'must now match one schema fewer');
    return;
  }
  const removed = a.filter((v) => !b.some((w) => same(v, w))).length;
  const added = b.filter((v) => !a.some((w) => same(v, w))).length;
  if (removed > 0) narrowed(`${dir}-type-narrowed`, `${removed} of its alternatives removed`);
  if (added > 0) widened(`${dir}-type-widened`, `${added} new alternative(s)`);
}
