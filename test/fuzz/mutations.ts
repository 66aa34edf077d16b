import { generate, jsonType, typesOf, type GenOptions, type Pools } from './generate';
import type { Rng } from '../../runtime/core/seeded-random';
import { merged, type SchemaChecker } from './schemas';
import type { Operation, Parameter, Schema } from './spec';
import {
  clone,
  paramText,
  routesElsewhere,
  validInputs,
  type Case,
  type CaseContext,
  type Expectation,
  type Inputs,
  type Raw,
} from './cases';

/**
 * The invalid requests and probes of an operation: each breaks ONE rule of a valid request the
 * runtime accepted (see cases.ts for the rules), and states the refusal it must get.
 */

const HUGE_BODY_CHARS = 300_000; // past the 100 KiB default BODY_LIMIT_BYTES
const LONG_PATH_CHARS = 4_000;
const LONG_QUERY_CHARS = 8_000; // a whole request line under Node's 16 KiB header limit
/** Values sent per field of those that break one rule through one code path: every run covers every rule, runs with other seeds the other values. */
const PER_FIELD = 1;

const VALIDATION = (pointer?: string): Expectation => ({ statuses: [400], codes: ['VALIDATION_FAILED'], pointer });

/**
 * The probes and invalid requests of an operation, each made from one of `bases`: valid requests
 * the runtime let through its input validation, so that what refuses a broken one is the broken
 * rule and nothing else. Without such a base a plain one is used, and then the refusal is not
 * required to name the broken field (the caller reports the missing base).
 */
export function mutatedCases(op: Operation, ctx: CaseContext, bases: Inputs[]): Case[] {
  const out: Case[] = [];
  const plain: GenOptions = { rng: ctx.rng, pools: ctx.pools, checker: ctx.checker, mode: 'plain' };
  for (const m of mutationsOf(op, ctx.checker, ctx.rng)) {
    const base =
      bases.length > 0 ? withoutOptionalHeaders(op, ctx.rng.pick(bases)) : validInputs(op, plain, op.secured ? 'account' : 'none');
    const inputs = m.apply(base, ctx.rng);
    if (!inputs) continue;
    const expect = m.expect && bases.length === 0 ? { ...m.expect, pointer: undefined } : m.expect;
    out.push({ kind: m.kind, label: m.label, inputs, expect });
  }
  return out;
}

/** A base without the optional headers it drew (a reused Idempotency-Key would answer for it). */
function withoutOptionalHeaders(op: Operation, inputs: Inputs): Inputs {
  const next = clone(inputs);
  for (const p of op.parameters) if (p.in === 'header' && !p.required) delete next.headers[p.name];
  return next;
}

interface Mutation {
  kind: 'invalid' | 'probe';
  label: string;
  expect?: Expectation;
  /** The broken request made from a valid one; undefined when the change does not apply to it. */
  apply(base: Inputs, rng: Rng): Inputs | undefined;
}

/** One way to change a single value: `schema` ones are checked to break the schema. */
interface ValueChange {
  kind: 'invalid' | 'probe';
  rule: 'schema' | 'design';
  label: string;
  /** A new value, or (parameters only) bytes already percent-encoded. */
  make(current: unknown): unknown | { encoded: string };
  /** Other answers that are right besides 400 VALIDATION_FAILED at the field (malformed path encodings may not route). */
  alsoOk?: Partial<Expectation>;
}

/**
 * Rules are broken one at a time, each constraint of each field. Where several values break the
 * same rule through the same code path (five malformed encodings, six wrong types), a seeded one
 * (PER_FIELD) is sent per field: every run covers every rule, and runs with other seeds the other values.
 */
function mutationsOf(op: Operation, checker: SchemaChecker, rng: Rng): Mutation[] {
  const out: Mutation[] = [];
  for (const p of op.parameters) {
    if (p.in === 'cookie') continue;
    out.push(...parameterMutations(op, p, checker, rng));
  }
  if (op.parameters.some((p) => p.in === 'query')) out.push(...queryMutations(op));
  if (op.body) out.push(...bodyMutations(op, checker, rng));
  if (op.secured) out.push(...authMutations(rng));
  return out;
}

// --- parameters --------------------------------------------------------------------------------

function parameterMutations(op: Operation, p: Parameter, checker: SchemaChecker, rng: Rng): Mutation[] {
  const where = p.in === 'header' ? `header ${p.name}` : `${p.in} ${p.name}`;
  const pointer = `/${p.in === 'path' ? 'params' : p.in === 'header' ? 'headers' : 'query'}/${p.in === 'header' ? p.name.toLowerCase() : p.name}`;
  const out: Mutation[] = [];
  const cursorCodes = p.in === 'query' && p.name === 'cursor' ? ['INVALID_CURSOR'] : [];

  if (p.required && p.in !== 'path') {
    out.push({
      kind: 'invalid',
      label: `${where}: required, missing`,
      expect: VALIDATION(pointer),
      apply(base) {
        const next = clone(base);
        if (p.in === 'query') next.query = next.query.filter(([k]) => k !== p.name);
        else delete next.headers[p.name];
        return next;
      },
    });
  }

  for (const change of parameterChanges(p, rng)) {
    out.push({
      kind: change.kind,
      label: `${where}: ${change.label}`,
      expect:
        change.kind === 'invalid'
          ? {
              statuses: [400, ...(change.alsoOk?.statuses ?? [])],
              codes: ['VALIDATION_FAILED', ...cursorCodes, ...(change.alsoOk?.codes ?? [])],
              pointer,
              parentOk: change.alsoOk?.parentOk,
            }
          : undefined,
      apply(base) {
        const next = clone(base);
        const current =
          p.in === 'path'
            ? next.path[p.name]
            : p.in === 'query'
              ? next.query.find(([k]) => k === p.name)?.[1]
              : { value: next.headers[p.name] };
        const made = change.make(current && 'value' in current ? current.value : undefined);
        const raw: Raw = typeof made === 'object' && made !== null && 'encoded' in made ? (made as { encoded: string }) : { value: made };
        if (change.rule === 'schema' && 'value' in raw && checker.isValid(p.schema, coerceParam(p.schema, paramText(raw.value))))
          return undefined;
        if (p.in === 'path') {
          const encoded = 'encoded' in raw ? raw.encoded : encodeURIComponent(paramText(raw.value));
          if (routesElsewhere(op, p.name, encoded)) return undefined;
          next.path[p.name] = raw;
        } else if (p.in === 'query') {
          next.query = [...next.query.filter(([k]) => k !== p.name), [p.name, raw]];
        } else {
          if ('encoded' in raw) return undefined;
          const text = paramText(raw.value);
          // Header values are byte strings: Node refuses to send control characters or code points past U+00FF.
          if (/[^\t\x20-\x7e\x80-\xff]/.test(text)) return undefined;
          next.headers[p.name] = text;
        }
        return next;
      },
    });
  }

  if (p.in === 'query' && !typesOf(p.schema).includes('array')) {
    out.push({
      kind: 'invalid',
      label: `${where}: given twice (not an array)`,
      expect: { statuses: [400], codes: ['VALIDATION_FAILED', ...cursorCodes], pointer },
      apply(base, rng) {
        const next = clone(base);
        const value = generate(p.schema, { rng, pools: emptyPools, checker, mode: 'plain' }, p.name);
        next.query = [...next.query.filter(([k]) => k !== p.name), [p.name, { value }], [p.name, { value }]];
        return next;
      },
    });
  }
  return out;
}

const emptyPools = { get: () => [], add: () => undefined, record: () => undefined } as unknown as Pools;

/** A parameter's text as the runtime reads it (`"5"` is the integer 5), to check it against its schema. */
function coerceParam(schema: Schema, text: string): unknown {
  const types = typesOf(schema);
  if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) return Number(text);
  if (types.includes('boolean') && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

function parameterChanges(p: Parameter, rng: Rng): ValueChange[] {
  const s = merged(p.schema);
  const types = typesOf(s);
  const out: ValueChange[] = [];
  const isPath = p.in === 'path';
  const isHeader = p.in === 'header';
  // A query that cannot be decoded cannot be split into fields either; a path that cannot be decoded may not route.
  const undecodable: Partial<Expectation> = isPath ? { statuses: [404], codes: ['NOT_FOUND'], parentOk: true } : { parentOk: true };

  if (types.includes('string')) out.push(...stringChanges(s, isPath ? 'path' : isHeader ? 'header' : 'query', rng));
  if (types.includes('integer') || types.includes('number')) {
    out.push(...numberChanges(s, rng).map((c) => ({ ...c, make: (v: unknown) => String(c.make(v)) })));
    for (const text of rng.sample(['abc', '1e400', '99999999999999999999999', '-99999999999999999999999', '', '0x10'], PER_FIELD)) {
      if (isPath && text === '') continue;
      out.push({ kind: 'invalid', rule: 'schema', label: `not a number: ${JSON.stringify(text)}`, make: () => text });
    }
  }
  if (types.includes('boolean')) out.push({ kind: 'invalid', rule: 'schema', label: 'not a boolean', make: () => 'maybe' });
  if (isHeader) return out;

  // Encodings: the same rules for paths and queries (DESIGN §3); a path that cannot be decoded may not route at all.
  const encodings: [string, string][] = [
    ['malformed percent-encoding %ZZ', 'a%ZZ'],
    ['truncated percent-encoding %E0%A4%A', 'a%E0%A4%A'],
    ['invalid UTF-8 %FF', 'a%FFb'],
    ['lone surrogate as CESU-8 %ED%A0%80', 'a%ED%A0%80b'],
    ['overlong UTF-8 %C0%AF', 'a%C0%AFb'],
  ];
  for (const [label, encoded] of rng.sample(encodings, PER_FIELD)) {
    out.push({ kind: 'invalid', rule: 'design', label, make: () => ({ encoded }), alsoOk: undecodable });
  }
  out.push({ kind: 'invalid', rule: 'design', label: 'NUL (%00)', make: (v) => insertAt(textOf(v), '\u0000') });
  const long = isPath ? LONG_PATH_CHARS : LONG_QUERY_CHARS;
  out.push({ kind: 'invalid', rule: 'schema', label: `${long} characters`, make: () => 'a'.repeat(long) });
  if (rng.bool(0.5)) out.push({ kind: 'probe', rule: 'design', label: 'percent-encoded Unicode', make: () => 'ñandú 🎻' });
  return out;
}

function textOf(value: unknown): string {
  return typeof value === 'string' && value.length > 0 ? value : 'abc';
}

function insertAt(text: string, insert: string): string {
  const at = Math.floor(text.length / 2);
  return text.slice(0, at) + insert + text.slice(at);
}

// --- values (body fields and parameters) -------------------------------------------------------

function stringChanges(s: Schema, where: 'json' | 'path' | 'query' | 'header', rng: Rng): ValueChange[] {
  const out: ValueChange[] = [];
  const min = s.minLength as number | undefined;
  const max = s.maxLength as number | undefined;
  const format = s.format as string | undefined;
  const canEmpty = where !== 'path';
  if (min !== undefined && min > 0 && (min > 1 || canEmpty)) {
    out.push({ kind: 'invalid', rule: 'schema', label: `shorter than minLength ${min}`, make: () => 'a'.repeat(min - 1) });
  }
  if (max !== undefined) {
    out.push({ kind: 'invalid', rule: 'schema', label: `longer than maxLength ${max}`, make: () => 'x'.repeat(max + 1) });
    // maxLength counts the text as sent: trimming it first must not let a longer one through.
    if (!format && !s.enum && !s.pattern && where !== 'header' && max >= 1) {
      out.push({
        kind: 'invalid',
        rule: 'schema',
        label: `longer than maxLength ${max} with a blank at each end`,
        make: () => ` ${'x'.repeat(max - 1)} `,
      });
    }
  }
  if (Array.isArray(s.enum)) out.push({ kind: 'invalid', rule: 'schema', label: 'not one of the enum', make: () => 'fuzz-not-in-enum' });
  if (typeof s.pattern === 'string') {
    const re = new RegExp(s.pattern, 'u');
    const miss = ['abc', 'ABC', '123456', ' ', 'a b', '-', '1234567', '😀'].find((c) => !re.test(c));
    if (miss !== undefined) out.push({ kind: 'invalid', rule: 'schema', label: `not matching /${s.pattern}/`, make: () => miss });
  }
  for (const [label, value] of rng.sample(formatBreakers(format), PER_FIELD))
    out.push({ kind: 'invalid', rule: 'schema', label, make: () => value });
  if (format === 'date-time') {
    out.push({ kind: 'invalid', rule: 'design', label: 'year 0000', make: () => '0000-01-01T00:00:00Z' });
    for (const value of rng.sample(
      [
        '0001-01-01T00:00:00Z',
        '9999-12-31T23:59:59.999Z',
        '0001-01-01T00:00:00+14:00',
        '9999-12-31T23:59:59-12:00',
        '2026-06-01t12:00:00.123456789z',
      ],
      2,
    )) {
      out.push({ kind: 'probe', rule: 'design', label: `edge timestamp ${value}`, make: () => value });
    }
  }
  if (format === 'uri' || format === 'url' || format === 'iri') {
    out.push({ kind: 'probe', rule: 'design', label: 'IRI (non-ASCII path and query)', make: () => 'https://ejemplo.com/tango/a😀?q=ñ' });
    out.push({ kind: 'probe', rule: 'design', label: 'IRI (non-ASCII host)', make: () => 'https://münchen.example/milonga' });
  }
  if (where === 'json') {
    out.push({ kind: 'invalid', rule: 'design', label: 'NUL (U+0000)', make: (v) => insertAt(textOf(v), '\u0000') });
    // JSON.stringify writes a lone surrogate as a `\ud800` escape: well-formed JSON, ill-formed text.
    const [label, surrogate] = rng.pick([
      ['lone high surrogate \\ud800', '\ud800'],
      ['lone low surrogate \\udc00', '\udc00'],
      ['lone high surrogate at the end', '\udbff'],
    ] as const);
    out.push({
      kind: 'invalid',
      rule: 'design',
      label,
      make: (v) => (surrogate === '\udbff' ? textOf(v) + surrogate : insertAt(textOf(v), surrogate)),
    });
    if (!format && !s.enum && !s.pattern && (max === undefined || max >= 4)) {
      const clipText = (text: string) => [...text].slice(0, max ?? 64).join('');
      out.push(
        rng.pick([
          { kind: 'probe', rule: 'design', label: 'astral characters up to maxLength (code points)', make: () => '🎻'.repeat(max ?? 64) },
          {
            kind: 'probe',
            rule: 'design',
            label: 'mixed scripts, RTL, combining marks, U+2028, BOM',
            make: () => clipText('e\u0301 \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \u4e2d\u6587 \u2028\ufeff\u200d x'),
          },
        ] satisfies ValueChange[]),
      );
    }
  }
  return out;
}

function formatBreakers(format: string | undefined): [string, string][] {
  switch (format) {
    case 'uuid':
      return [
        ['not a UUID', 'not-a-uuid'],
        ['UUID with a non-hex digit', '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3g'],
        ['UUID in braces', '{0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d}'],
      ];
    case 'date-time':
      return [
        ['month 13', '2026-13-01T00:00:00Z'],
        ['February 30', '2026-02-30T12:00:00Z'],
        ['hour 24', '2026-01-01T24:00:00Z'],
        ['date without time', '2026-01-01'],
        ['no offset', '2026-01-01T10:00:00'],
        ['five-digit year', '10000-01-01T00:00:00Z'],
      ];
    case 'date':
      return [
        ['February 30', '2026-02-30'],
        ['not a date', 'yesterday'],
      ];
    case 'email':
      return [['no @', 'tango.example.com']];
    case 'uri':
    case 'url':
      return [
        ['not a URI', 'not a uri'],
        ['relative reference', '/tango/milonga'],
      ];
    default:
      return [];
  }
}

function numberChanges(s: Schema, rng: Rng): ValueChange[] {
  const out: ValueChange[] = [];
  const types = typesOf(s);
  if (typeof s.minimum === 'number')
    out.push({ kind: 'invalid', rule: 'schema', label: `below minimum ${s.minimum}`, make: () => (s.minimum as number) - 1 });
  if (typeof s.maximum === 'number')
    out.push({ kind: 'invalid', rule: 'schema', label: `above maximum ${s.maximum}`, make: () => (s.maximum as number) + 1 });
  if (typeof s.exclusiveMinimum === 'number')
    out.push({ kind: 'invalid', rule: 'schema', label: 'at exclusiveMinimum', make: () => s.exclusiveMinimum });
  if (typeof s.exclusiveMaximum === 'number')
    out.push({ kind: 'invalid', rule: 'schema', label: 'at exclusiveMaximum', make: () => s.exclusiveMaximum });
  if (types.includes('integer') && !types.includes('number'))
    out.push({ kind: 'invalid', rule: 'schema', label: 'not an integer', make: () => 1.5 });
  const [label, huge] = rng.pick([
    ['huge number 1e308', 1e308],
    ['huge negative number -1e308', -1e308],
    ['2^53 + 2', 2 ** 53 + 2],
  ] as const);
  out.push({ kind: 'invalid', rule: 'schema', label, make: () => huge });
  return out;
}

const WRONG_TYPES: unknown[] = ['fuzz', 12345, 1.5, true, null, {}, []];

function jsonChanges(s: Schema, rng: Rng): ValueChange[] {
  const types = typesOf(s);
  const out: ValueChange[] = [];
  const wrongTypes = WRONG_TYPES.filter((wrong) => {
    const t = jsonType(wrong);
    return !(types.includes(t) || (t === 'integer' && types.includes('number')));
  });
  for (const wrong of rng.sample(wrongTypes, PER_FIELD))
    out.push({ kind: 'invalid', rule: 'schema', label: `wrong type ${jsonType(wrong)}`, make: () => structuredClone(wrong) });
  if (types.includes('string')) out.push(...stringChanges(s, 'json', rng));
  if (types.includes('integer') || types.includes('number')) out.push(...numberChanges(s, rng));
  if (types.includes('array')) {
    const minItems = s.minItems as number | undefined;
    const maxItems = s.maxItems as number | undefined;
    if (minItems !== undefined && minItems > 0) {
      out.push({
        kind: 'invalid',
        rule: 'schema',
        label: `fewer than minItems ${minItems}`,
        make: (v) => (Array.isArray(v) ? v : []).slice(0, minItems - 1),
      });
    }
    if (maxItems !== undefined) {
      out.push({
        kind: 'invalid',
        rule: 'schema',
        label: `more than maxItems ${maxItems}`,
        make: (v) => Array.from({ length: maxItems + 1 }, (_, i) => (Array.isArray(v) && v.length > 0 ? v[i % v.length] : 'x')),
      });
    }
    if (s.uniqueItems === true)
      out.push({
        kind: 'invalid',
        rule: 'schema',
        label: 'duplicate items',
        make: (v) => (Array.isArray(v) && v.length > 0 ? [v[0], v[0]] : v),
      });
  }
  return out;
}

// --- bodies ------------------------------------------------------------------------------------

/** Where a value sits in the body, as JSON Pointer segments, and its schema. */
interface Location {
  segments: (string | number)[];
  schema: Schema;
}

function locations(schema: Schema, segments: (string | number)[] = [], depth = 0): Location[] {
  const s = merged(schema);
  const out: Location[] = [{ segments, schema }];
  if (depth >= 4 || s.oneOf || s.anyOf) return out;
  for (const [key, sub] of Object.entries((s.properties as Record<string, Schema> | undefined) ?? {}))
    out.push(...locations(sub, [...segments, key], depth + 1));
  if (typeof s.items === 'object') out.push(...locations(s.items as Schema, [...segments, 0], depth + 1));
  return out;
}

const pointerOf = (segments: (string | number)[]) =>
  ['/body', ...segments.map((s) => String(s).replaceAll('~', '~0').replaceAll('/', '~1'))].join('/');

/** The body's JSON with the path to `segments` made to exist (plain valid values where missing). */
function withPath(body: unknown, root: Schema, segments: (string | number)[], rng: Rng, checker: SchemaChecker): unknown {
  if (segments.length === 0) return body;
  const gen: GenOptions = { rng, pools: emptyPools, checker, mode: 'plain' };
  let container = body as Record<string | number, unknown>;
  let schema = merged(root);
  for (let i = 0; i < segments.length - 1; i++) {
    const seg = segments[i]!;
    const sub = typeof seg === 'number' ? (schema.items as Schema) : (schema.properties as Record<string, Schema>)[seg]!;
    let child = container[seg];
    if (child === undefined || child === null || typeof child !== 'object' || (Array.isArray(child) && child.length === 0)) {
      child = generate(sub, gen, String(seg));
      if (Array.isArray(child) && child.length === 0) child = [generate(merged(sub).items as Schema, gen, String(seg))];
      container[seg] = child;
    }
    container = child as Record<string | number, unknown>;
    schema = merged(sub);
  }
  return body;
}

function setAt(body: unknown, segments: (string | number)[], value: unknown): unknown {
  if (segments.length === 0) return value;
  let container = body as Record<string | number, unknown>;
  for (const seg of segments.slice(0, -1)) container = container[seg] as Record<string | number, unknown>;
  container[segments.at(-1)!] = value;
  return body;
}

function getAt(body: unknown, segments: (string | number)[]): unknown {
  let node = body;
  for (const seg of segments) node = (node as Record<string | number, unknown> | undefined)?.[seg];
  return node;
}

function bodyMutations(op: Operation, checker: SchemaChecker, rng: Rng): Mutation[] {
  const root = op.body!.schema;
  const out: Mutation[] = [];
  const jsonOf = (inputs: Inputs) => (inputs.body && 'json' in inputs.body ? inputs.body.json : undefined);

  // One value at a time.
  for (const loc of locations(root)) {
    const s = merged(loc.schema);
    const where = loc.segments.length === 0 ? 'body' : `body ${pointerOf(loc.segments).slice(5)}`;
    // The body as a whole gets its wrong types below, as raw JSON texts.
    for (const change of loc.segments.length > 0 ? jsonChanges(s, rng) : []) {
      out.push({
        kind: change.kind,
        label: `${where}: ${change.label}`,
        expect:
          change.kind === 'invalid'
            ? {
                statuses: [400],
                codes: ['VALIDATION_FAILED', ...(/surrogate/.test(change.label) ? ['MALFORMED_JSON'] : [])],
                pointer: pointerOf(loc.segments),
              }
            : undefined,
        apply(base, rng) {
          const next = clone(base);
          const json = withPath(jsonOf(next), root, loc.segments, rng, checker);
          const value = change.make(getAt(json, loc.segments));
          const mutated = setAt(json, loc.segments, value);
          if (change.rule === 'schema' && checker.isValid(root, mutated)) return undefined;
          next.body = { json: mutated };
          return next;
        },
      });
    }
    // Each required field left out, each undeclared one added.
    const required = (s.required as string[] | undefined) ?? [];
    for (const key of required) {
      out.push({
        kind: 'invalid',
        label: `${where}: required field ${key} missing`,
        expect: VALIDATION(pointerOf([...loc.segments, key])),
        apply(base, rng) {
          const next = clone(base);
          const json = withPath(jsonOf(next), root, [...loc.segments, key], rng, checker);
          const parent = getAt(json, loc.segments);
          if (typeof parent !== 'object' || parent === null) return undefined;
          delete (parent as Record<string, unknown>)[key];
          next.body = { json };
          return next;
        },
      });
    }
    // DESIGN §4: unknown body fields are refused (typos surface as 400); nested, where the schema closes the object.
    const closed =
      s.additionalProperties === false || (loc.segments.length === 0 && s.additionalProperties === undefined && !s.patternProperties);
    if (typesOf(s).includes('object') && s.properties && closed) {
      out.push({
        kind: 'invalid',
        label: `${where}: unknown field`,
        expect: VALIDATION(pointerOf([...loc.segments, 'fuzzUnknownField'])),
        apply(base, rng) {
          const next = clone(base);
          const json = withPath(jsonOf(next), root, [...loc.segments, 'fuzzUnknownField'], rng, checker);
          const parent = getAt(json, loc.segments);
          if (typeof parent !== 'object' || parent === null || Array.isArray(parent)) return undefined;
          (parent as Record<string, unknown>).fuzzUnknownField = 'surprise';
          next.body = { json };
          return next;
        },
      });
    }
  }

  const rootIsObject = typesOf(root).includes('object');
  const raw = (
    label: string,
    expect: Expectation,
    bytes: (text: string, json: unknown) => Buffer | undefined,
    contentType?: string | null,
    kind: 'invalid' | 'probe' = 'invalid',
  ): Mutation => ({
    kind,
    label: `body: ${label}`,
    expect: kind === 'invalid' ? expect : undefined,
    apply(base) {
      const next = clone(base);
      const json = jsonOf(next);
      const made = bytes(JSON.stringify(json), json);
      if (made === undefined && label !== 'missing') return undefined;
      next.body = { bytes: made, contentType };
      return next;
    },
  });
  const malformed: Expectation = { statuses: [400], codes: ['MALFORMED_JSON'] };

  const unknownKey: Expectation = { statuses: [400], codes: ['VALIDATION_FAILED'] };
  const prepend = (t: string, member: string) => Buffer.from(t === '{}' ? `{${member}}` : `{${member},${t.slice(1)}`);

  if (op.body!.required) out.push(raw('missing', VALIDATION('/body'), () => undefined));
  out.push(
    rng.pick([
      raw('sent as text/plain', { statuses: [415], codes: ['UNSUPPORTED_MEDIA_TYPE'] }, (t) => Buffer.from(t), 'text/plain'),
      raw('without Content-Type', { statuses: [415], codes: ['UNSUPPORTED_MEDIA_TYPE'] }, (t) => Buffer.from(t), null),
      raw(
        'sent as application/x-www-form-urlencoded',
        { statuses: [415], codes: ['UNSUPPORTED_MEDIA_TYPE'] },
        () => Buffer.from('title=milonga'),
        'application/x-www-form-urlencoded',
      ),
    ]),
  );
  out.push(
    ...rng.sample(
      [
        raw('malformed JSON (truncated)', malformed, (t) => Buffer.from(t.length > 1 ? t.slice(0, -1) : `${t}{`)),
        raw('malformed JSON (trailing comma)', malformed, (t) =>
          Buffer.from(t.startsWith('{') && t !== '{}' ? `${t.slice(0, -1)},}` : `${t},`),
        ),
        raw('malformed JSON (single quotes)', malformed, () => Buffer.from("{'title': 'milonga'}")),
        raw('malformed JSON (NaN)', malformed, () => Buffer.from('{"n": NaN}')),
      ],
      2,
    ),
  );

  // Invalid UTF-8 inside a string value, where a lossy decoder would let it through as U+FFFD.
  const badBytes: [string, number[]][] = [
    ['invalid UTF-8 byte 0xFF', [0xff]],
    ['overlong UTF-8 0xC0 0xAF', [0xc0, 0xaf]],
    ['lone surrogate as CESU-8 bytes 0xED 0xA0 0x80', [0xed, 0xa0, 0x80]],
    ['truncated UTF-8 sequence 0xE2 0x82', [0xe2, 0x82]],
  ];
  for (const [label, bytes] of rng.sample(badBytes, 2)) {
    out.push(
      raw(label, malformed, (text) => {
        const at = firstStringValue(text);
        const buffer = Buffer.from(text, 'utf8');
        if (at === undefined) return Buffer.concat([Buffer.from('{"'), Buffer.from(bytes), Buffer.from('":1}')]);
        const offset = Buffer.byteLength(text.slice(0, at), 'utf8');
        return Buffer.concat([buffer.subarray(0, offset), Buffer.from(bytes), buffer.subarray(offset)]);
      }),
    );
  }
  // A number JSON can write but a double cannot hold, in a numeric field of the body.
  const numeric = Object.entries((merged(root).properties as Record<string, Schema> | undefined) ?? {}).find(([, sub]) =>
    typesOf(sub).some((t) => t === 'integer' || t === 'number'),
  );
  if (numeric) {
    const [key] = numeric;
    out.push(
      raw(
        'number 1e400 (past double range)',
        { statuses: [400], codes: ['VALIDATION_FAILED', 'MALFORMED_JSON'], pointer: pointerOf([key]) },
        (_, json) => {
          const text = JSON.stringify({ ...(json as object), [key]: 123456789 });
          return Buffer.from(text.replace(`${JSON.stringify(key)}:123456789`, `${JSON.stringify(key)}:1e400`));
        },
      ),
    );
  }
  const wrongTops = ['[]', '"text"', '42', 'null', 'true'].filter((wrong) => !checker.isValid(root, JSON.parse(wrong)));
  for (const wrong of rng.sample(wrongTops, 2)) out.push(raw(`top level is ${wrong}`, VALIDATION('/body'), () => Buffer.from(wrong)));
  out.push(
    raw(
      `${HUGE_BODY_CHARS.toLocaleString('en')}-character string`,
      { statuses: [413, 400], codes: ['PAYLOAD_TOO_LARGE', 'VALIDATION_FAILED'] },
      (t) => {
        const at = firstStringValue(t);
        const huge = 'a'.repeat(HUGE_BODY_CHARS);
        if (at !== undefined) return Buffer.from(t.slice(0, at) + huge + t.slice(at));
        return Buffer.from(rootIsObject ? `{"fuzzHuge":"${huge}"${t === '{}' ? '' : `,${t.slice(1, -1)}`}}` : `"${huge}"`);
      },
    ),
  );

  if (rootIsObject) {
    out.push(raw('__proto__ key', VALIDATION('/body/__proto__'), (t) => prepend(t, '"__proto__":{"roles":["admin"],"isAdmin":true}')));
    out.push(
      raw('constructor.prototype key', VALIDATION('/body/constructor'), (t) => prepend(t, '"constructor":{"prototype":{"isAdmin":true}}')),
    );
    // The refusal of these must itself fit the Problem schema (at most 100 errors, paths of at most 500 characters).
    out.push(
      raw('1,000 unknown fields', unknownKey, (t) => prepend(t, Array.from({ length: 1000 }, (_, i) => `"fuzz${i}":${i}`).join(','))),
    );
    out.push(raw('unknown field with a 3,000-character name', unknownKey, (t) => prepend(t, `"${'k'.repeat(3000)}":1`)));
    out.push(
      ...rng.sample(
        [
          raw('nested __proto__ key', unknownKey, (t) => prepend(t, '"fuzzNested":{"__proto__":{"isAdmin":true}}')),
          raw('unknown field nested 5,000 deep', { statuses: [400], codes: ['VALIDATION_FAILED', 'MALFORMED_JSON'] }, (t) =>
            prepend(t, `"fuzzDeep":${'['.repeat(5000)}${']'.repeat(5000)}`),
          ),
          raw('unknown field named with NUL', unknownKey, (t) => prepend(t, '"a\\u0000b":1')),
          raw('unknown field named with a lone surrogate', { statuses: [400], codes: ['VALIDATION_FAILED', 'MALFORMED_JSON'] }, (t) =>
            prepend(t, '"a\\ud800b":1'),
          ),
        ],
        2,
      ),
    );
  }
  // Valid JSON at the edges: only the general assertions apply.
  const edges = [
    raw(
      'UTF-8 byte order mark before the JSON',
      VALIDATION(),
      (t) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t)]),
      undefined,
      'probe',
    ),
    raw(
      'pretty-printed, charset=utf-8',
      VALIDATION(),
      (_, json) => Buffer.from(JSON.stringify(json, null, 2)),
      'application/json; charset=utf-8',
      'probe',
    ),
  ];
  if (rootIsObject) {
    edges.push(
      raw(
        'duplicate keys',
        VALIDATION(),
        (t, json) => {
          const first = json && typeof json === 'object' ? Object.keys(json)[0] : undefined;
          return first ? prepend(t, `${JSON.stringify(first)}:${JSON.stringify((json as Record<string, unknown>)[first])}`) : undefined;
        },
        undefined,
        'probe',
      ),
    );
  }
  out.push(rng.pick(edges));
  return out;
}

/** Index just inside the first string value of a JSON text (after its opening quote), if any. */
function firstStringValue(text: string): number | undefined {
  const match = /:\s*"/.exec(text) ?? (/^\s*"/.test(text) ? /"/.exec(text) : null);
  return match ? match.index + match[0].length : undefined;
}

// --- queries and credentials -------------------------------------------------------------------

function queryMutations(op: Operation): Mutation[] {
  const integers = op.parameters.filter(
    (p) => p.in === 'query' && typesOf(p.schema).includes('integer') && typeof merged(p.schema).minimum === 'number',
  );
  return [
    {
      kind: 'invalid',
      label: 'query: malformed percent-encoding in an undeclared parameter',
      expect: { statuses: [400], codes: ['VALIDATION_FAILED'] },
      apply(base) {
        const next = clone(base);
        next.query = [...next.query, ['fuzzUndeclared', { encoded: 'a%ZZ' }]];
        return next;
      },
    },
    {
      kind: 'probe',
      label: 'query: a 2,500-character undeclared parameter, no filters, integers at their minimum (Link header length)',
      apply(base) {
        const next = clone(base);
        // Only what is required: filters could leave too few results for a next page (and its Link).
        const required = new Set(op.parameters.filter((p) => p.in === 'query' && p.required && !integers.includes(p)).map((p) => p.name));
        next.query = [
          ...next.query.filter(([k]) => required.has(k)),
          ...integers.map((p) => [p.name, { value: merged(p.schema).minimum }] as [string, Raw]),
          ['fuzzPadding', { value: 'p'.repeat(2500) }],
        ];
        return next;
      },
    },
  ];
}

function authMutations(rng: Rng): Mutation[] {
  const refused: Expectation = { statuses: [401], codes: ['UNAUTHENTICATED', 'TOKEN_EXPIRED'] };
  const auth = (label: string, value: Inputs['auth']): Mutation => ({
    kind: 'invalid',
    label: `credentials: ${label}`,
    expect: refused,
    apply: (base) => ({ ...clone(base), auth: value }),
  });
  return [
    auth('none', 'none'),
    rng.pick([
      auth('a bearer token that is no JWT', { header: 'Bearer not-a-token' }),
      auth('an unsigned JWT (alg none)', {
        header:
          'Bearer eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiIwYjZmMWMxZS04ZDVlLTRhNTctOWE0My02ZDBhNGIxZjJjM2QiLCJyb2xlcyI6WyJhZG1pbiJdfQ.',
      }),
      auth('Basic credentials', { header: 'Basic ZnV6ejpmdXp6' }),
      auth('an empty bearer token', { header: 'Bearer ' }),
    ]),
  ];
}
