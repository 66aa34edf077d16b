import type { z } from 'zod';

/**
 * A schema's accepting path, compiled once from its Zod definition into plain closures: for a
 * value the schema accepts, the same result as `schema.parse` (fields stripped, defaults and
 * overwrites applied), without the issue bookkeeping Zod does for every node of every value.
 *
 * It decides acceptance only: a value it does not accept gives FAIL, and the caller asks Zod
 * itself, whose issues are the error messages (so a refusal is never worded twice, and a node
 * compiled stricter than Zod costs time, not a wrong answer). Nodes and checks it does not know
 * run through Zod (`_zod.run` / `_zod.check`): it never needs to know every kind to be exact.
 * test/runtime/core/compiled-schema.test.ts holds it to Zod on every contract's schemas; the
 * serializers written from the same definitions are in compiled-serializer.ts.
 */
export const FAIL: unique symbol = Symbol('fail');
export type Compiled = (value: unknown) => unknown;

const parsers = new WeakMap<z.ZodType, Compiled>();

/** The compiled accepting path of a schema (made on first use, then kept with the schema). */
export function compiledSchema(schema: z.ZodType): Compiled {
  return made(parsers, schema, compile);
}

/** What `make` makes of a schema, made once and kept with it. */
export function made<F extends (value: unknown) => unknown>(cache: WeakMap<z.ZodType, F>, schema: z.ZodType, make: (node: Node) => F): F {
  const known = cache.get(schema);
  if (known) return known;
  // A schema that contains itself (through a getter) meets its own entry while being compiled.
  let compiled: F | undefined;
  cache.set(schema, ((value: unknown) => compiled!(value)) as F);
  compiled = make(schema as unknown as Node);
  cache.set(schema, compiled);
  return compiled;
}

export interface Check {
  _zod: { def: { check: string; when?: (payload: Payload) => boolean } & Record<string, unknown>; check(payload: Payload): unknown };
}
export interface Node {
  _zod: {
    def: { type: string; checks?: Check[] } & Record<string, unknown>;
    traits: Set<string>;
    optin?: 'optional' | 'defaulted';
    optout?: 'optional';
    run(payload: Payload, ctx: object): Payload | Promise<Payload>;
    check?(payload: Payload): unknown;
  };
}
interface Payload {
  value: unknown;
  issues: unknown[];
}

const CTX = Object.freeze({ async: false });

/** Zod's own run of a node: exact for any kind, at Zod's cost. */
function throughZod(node: Node): Compiled {
  return (value) => {
    const payload = node._zod.run({ value, issues: [] }, CTX);
    if (payload instanceof Promise) throw new Error('Asynchronous schemas are not supported in contracts');
    return payload.issues.length === 0 ? payload.value : FAIL;
  };
}

function compile(node: Node): Compiled {
  const def = node._zod.def;
  const typed = typeCheck(node);
  if (!typed) return throughZod(node);
  // As Zod runs a node: its type first, then its checks in order (a string format is a check of its own).
  const checks = [...(node._zod.traits.has('$ZodCheck') ? [node as unknown as Check] : []), ...(def.checks ?? [])];
  if (checks.length === 0) return typed;
  // After the type check a string or an array is never nullish: Zod's length checks' guard holds.
  const sized = def.type === 'string' || def.type === 'array';
  const steps = checks.map((check) => compileCheck(check, sized));
  return (value) => {
    let out = typed(value);
    if (out === FAIL) return FAIL;
    for (const step of steps) {
      out = step(out);
      if (out === FAIL) return FAIL;
    }
    return out;
  };
}

/** The node's own parse (before its checks), or undefined for a kind left to Zod. */
function typeCheck(node: Node): Compiled | undefined {
  const def = node._zod.def;
  if ((def as { coerce?: boolean }).coerce) return undefined;
  switch (def.type) {
    case 'string':
      return (value) => (typeof value === 'string' ? value : FAIL);
    case 'number':
      return (value) => (typeof value === 'number' && Number.isFinite(value) ? value : FAIL);
    case 'boolean':
      return (value) => (typeof value === 'boolean' ? value : FAIL);
    case 'null':
      return (value) => (value === null ? value : FAIL);
    case 'unknown':
    case 'any':
      return (value) => value;
    case 'never':
      return () => FAIL;
    case 'enum': {
      const values = new Set(Object.values(def.entries as Record<string, unknown>));
      // Zod's enum values: numeric enums list their names too; left to Zod.
      if (Object.entries(def.entries as Record<string, unknown>).some(([key, value]) => typeof value !== 'string' || key !== value))
        return undefined;
      return (value) => (values.has(value) ? value : FAIL);
    }
    case 'literal': {
      const values = new Set(def.values as unknown[]);
      return (value) => (values.has(value) ? value : FAIL);
    }
    case 'nullable': {
      const inner = compiledSchema(def.innerType as z.ZodType);
      return (value) => (value === null ? value : inner(value));
    }
    case 'optional': {
      const innerNode = def.innerType as Node;
      if (innerNode._zod.optin === 'defaulted') return undefined;
      const inner = compiledSchema(innerNode as unknown as z.ZodType);
      return (value) => (value === undefined ? value : inner(value));
    }
    case 'array':
      return compileArray(node);
    case 'object':
      return compileObject(node);
    case 'union':
      return firstAccepting((def.options as z.ZodType[]).map(compiledSchema));
    default:
      return undefined;
  }
}

/** A union as Zod runs it: the first option that accepts the value answers. */
export function firstAccepting(options: ((value: unknown) => unknown)[]): Compiled {
  return (value) => {
    for (const option of options) {
      const out = option(value);
      if (out !== FAIL) return out;
    }
    return FAIL;
  };
}

function compileArray(node: Node): Compiled {
  const element = compiledSchema(node._zod.def.element as z.ZodType);
  return (value) => {
    if (!Array.isArray(value)) return FAIL;
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = element(value[i]);
      if (item === FAIL) return FAIL;
      out[i] = item;
    }
    return out;
  };
}

/** Zod's object parse on its accepting path: declared keys in order, the rest stripped (or refused when strict). */
function compileObject(node: Node): Compiled | undefined {
  const def = node._zod.def as unknown as { shape: Record<string, Node>; catchall?: Node };
  const strict = def.catchall?._zod.def.type === 'never';
  if (def.catchall && !strict) return undefined;
  const shape = def.shape;
  const fields = Object.keys(shape)
    .filter((key) => key !== '__proto__')
    .map((key) => {
      const schema = shape[key]!;
      return { key, run: compiledSchema(schema as unknown as z.ZodType), optin: schema._zod.optin, optout: schema._zod.optout };
    });
  const declared = new Set(Object.keys(shape));
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return FAIL;
    const input = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const { key, run, optin, optout } of fields) {
      const present = key in input;
      // As Zod's handlePropertyResult: an absent optional key contributes nothing.
      if (!present && optout === 'optional' && optin === 'optional') continue;
      const result = run(input[key]);
      if (result === FAIL) {
        if (optin !== undefined && optout === 'optional' && !present) continue;
        return FAIL;
      }
      if (!present && optin === undefined) return FAIL;
      if (result === undefined) {
        if (present || (optin === 'defaulted' && optout !== 'optional')) out[key] = undefined;
      } else out[key] = result;
    }
    if (strict) for (const key in input) if (!declared.has(key)) return FAIL;
    return out;
  };
}

/** Formats whose check is their pattern alone (Zod's $ZodCheckStringFormat), tested inline. */
export const PATTERN_FORMATS = new Set(['uuid', 'guid', 'datetime', 'date', 'regex']);
/** One check on an accepted value: the common ones inline, any other through its own Zod code. */
export function compileCheck(check: Check, sized: boolean): (value: unknown) => unknown {
  const def = check._zod.def;
  if (sized) {
    switch (def.check) {
      case 'max_length': {
        const max = def.maximum as number;
        return (value) => ((value as { length: number }).length <= max ? value : FAIL);
      }
      case 'min_length': {
        const min = def.minimum as number;
        return (value) => ((value as { length: number }).length >= min ? value : FAIL);
      }
      case 'length_equals': {
        const length = def.length as number;
        return (value) => ((value as { length: number }).length === length ? value : FAIL);
      }
      case 'string_format': {
        const pattern = def.pattern as RegExp | undefined;
        if (!pattern || !PATTERN_FORMATS.has(def.format as string)) break;
        return (value) => {
          pattern.lastIndex = 0;
          return pattern.test(value as string) ? value : FAIL;
        };
      }
    }
  }
  if (!def.when) {
    switch (def.check) {
      case 'custom': {
        // A refinement ($ZodCustom's check): the value passes when its function answers truthy.
        // (`.check(fn)` and `.superRefine` have no `fn`: they take Zod's payload, below.)
        if (typeof def.fn !== 'function') break;
        const fn = def.fn as (value: unknown) => unknown;
        return (value) => {
          const result = fn(value);
          if (result instanceof Promise) throw new Error('Asynchronous checks are not supported in contracts');
          return result ? value : FAIL;
        };
      }
      case 'number_format':
        if (def.format === 'safeint') return (value) => (Number.isSafeInteger(value) ? value : FAIL);
        break;
      case 'overwrite': {
        const tx = def.tx as (value: unknown) => unknown;
        return tx;
      }
      case 'greater_than': {
        const [bound, inclusive] = [def.value as number, def.inclusive as boolean];
        return inclusive ? (value) => ((value as number) >= bound ? value : FAIL) : (value) => ((value as number) > bound ? value : FAIL);
      }
      case 'less_than': {
        const [bound, inclusive] = [def.value as number, def.inclusive as boolean];
        return inclusive ? (value) => ((value as number) <= bound ? value : FAIL) : (value) => ((value as number) < bound ? value : FAIL);
      }
    }
  }
  return (value) => {
    const payload: Payload = { value, issues: [] };
    if (def.when && !def.when(payload)) return value;
    const result = check._zod.check(payload);
    if (result instanceof Promise) throw new Error('Asynchronous checks are not supported in contracts');
    return payload.issues.length === 0 ? payload.value : FAIL;
  };
}
