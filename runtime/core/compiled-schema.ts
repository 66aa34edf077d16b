import { z } from 'zod';

/**
 * A schema's accepting path, compiled once from its Zod definition into plain closures: for a
 * value the schema accepts, the same result as `schema.parse` (fields stripped, defaults and
 * overwrites applied), without the issue bookkeeping Zod does for every node of every value.
 *
 * It decides acceptance only: a value it does not accept gives FAIL, and the caller asks Zod
 * itself, whose issues are the error messages (so a refusal is never worded twice, and a node
 * compiled stricter than Zod costs time, not a wrong answer). Nodes and checks it does not know
 * run through Zod (`_zod.run` / `_zod.check`): it never needs to know every kind to be exact.
 * test/runtime/core/compiled-schema.test.ts holds it to Zod on every contract's schemas.
 */
export const FAIL: unique symbol = Symbol('fail');
export type Compiled = (value: unknown) => unknown;

const parsers = new WeakMap<z.ZodType, Compiled>();

/** The compiled accepting path of a schema (made on first use, then kept with the schema). */
export function compiledSchema(schema: z.ZodType): Compiled {
  return made(parsers, schema, compile);
}

/** What `make` makes of a schema, made once and kept with it. */
function made<F extends (value: unknown) => unknown>(cache: WeakMap<z.ZodType, F>, schema: z.ZodType, make: (node: Node) => F): F {
  const known = cache.get(schema);
  if (known) return known;
  // A schema that contains itself (through a getter) meets its own entry while being compiled.
  let compiled: F | undefined;
  cache.set(schema, ((value: unknown) => compiled!(value)) as F);
  compiled = make(schema as unknown as Node);
  cache.set(schema, compiled);
  return compiled;
}

interface Check {
  _zod: { def: { check: string; when?: (payload: Payload) => boolean } & Record<string, unknown>; check(payload: Payload): unknown };
}
interface Node {
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
function firstAccepting(options: ((value: unknown) => unknown)[]): Compiled {
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
const PATTERN_FORMATS = new Set(['uuid', 'guid', 'datetime', 'date', 'regex']);
/**
 * Whether a format check uses Zod's own pattern for uuid, guid, date-time or date, whose matches hold
 * only characters JSON writes as they are (hex digits, digits, `-:.+TZ`). Not the format's name
 * alone: `z.stringFormat('date', /.../)` names a format with a pattern of its own.
 */
function plainJsonPattern(c: Check['_zod']['def']): boolean {
  const pattern = c.pattern as RegExp;
  if (pattern.flags !== '') return false;
  const { regexes } = z;
  switch (c.format) {
    case 'uuid':
      return [undefined, 1, 2, 3, 4, 5, 6, 7, 8].some((version) => regexes.uuid(version).source === pattern.source);
    case 'guid':
      return pattern.source === regexes.guid.source;
    case 'date':
      return pattern.source === regexes.date.source;
    case 'datetime':
      return pattern.source === regexes.datetime(c as Parameters<typeof regexes.datetime>[0]).source;
    default:
      return false;
  }
}

/** One check on an accepted value: the common ones inline, any other through its own Zod code. */
function compileCheck(check: Check, sized: boolean): (value: unknown) => unknown {
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

/**
 * JSON text of what `schema.parse(value)` returns, or FAIL when the compiled path does not accept
 * the value (ask Zod, as for `compiledSchema`); undefined when the parsed value is (a field left
 * out). One pass checks, strips and writes: no parsed copy of the value, no generic
 * `JSON.stringify` walk over it.
 */
export type Serializer = (value: unknown) => string | undefined | typeof FAIL;

const serializers = new WeakMap<z.ZodType, Serializer>();

export function compiledSerializer(schema: z.ZodType): Serializer {
  return made(serializers, schema, compileSerializer);
}

function compileSerializer(node: Node): Serializer {
  const def = node._zod.def;
  const plain = !def.checks?.length && !(def as { coerce?: boolean }).coerce;
  if (plain) {
    switch (def.type) {
      case 'object':
        return serializeObject(node) ?? stringified(node);
      case 'array': {
        const element = compiledSerializer(def.element as z.ZodType);
        return (value) => {
          if (!Array.isArray(value)) return FAIL;
          let out = '[';
          for (let i = 0; i < value.length; i++) {
            const item = element(value[i]);
            if (item === FAIL) return FAIL;
            out += `${i === 0 ? '' : ','}${item ?? 'null'}`;
          }
          return `${out}]`;
        };
      }
      case 'nullable': {
        const inner = compiledSerializer(def.innerType as z.ZodType);
        return (value) => (value === null ? 'null' : inner(value));
      }
      case 'optional': {
        if ((def.innerType as Node)._zod.optin === 'defaulted') break;
        const inner = compiledSerializer(def.innerType as z.ZodType);
        return (value) => (value === undefined ? undefined : inner(value));
      }
      case 'union':
        return firstAccepting((def.options as z.ZodType[]).map(compiledSerializer)) as Serializer;
    }
  }
  return stringified(node);
}

/** Any other node: its compiled parse, then JSON.stringify of what it gave. */
function stringified(node: Node): Serializer {
  const parse = compiledSchema(node as unknown as z.ZodType);
  return (value) => {
    const out = parse(value);
    return out === FAIL ? FAIL : out === undefined ? undefined : JSON.stringify(out);
  };
}

/**
 * compileObject's rules, writing each kept field's JSON as it goes, as generated code: one
 * function per object schema with its plain fields' checks inline (type, lengths, bounds, enum,
 * pattern formats, overwrites), so a page of items runs straight-line code instead of a closure
 * call per node. Any other field calls its own serializer.
 */
function serializeObject(node: Node): Serializer | undefined {
  const def = node._zod.def as unknown as { shape: Record<string, Node>; catchall?: Node };
  const strict = def.catchall?._zod.def.type === 'never';
  if (def.catchall && !strict) return undefined;
  const shape = def.shape;
  const refs: unknown[] = [];
  const ref = (value: unknown) => `refs[${refs.push(value) - 1}]`;
  const lines = ['if (typeof input !== "object" || input === null || Array.isArray(input)) return FAIL;', 'let out = "{", v, t;'];
  // Whether a field was written before this one, as far as the code can tell ahead of time: a comma
  // is then written without looking at what `out` holds.
  let before: 'no' | 'yes' | 'maybe' = 'no';
  for (const key of Object.keys(shape).filter((name) => name !== '__proto__')) {
    const field = shape[key]!;
    const { optin, optout } = field._zod;
    const write = ref(compiledSerializer(field as unknown as z.ZodType));
    const name = JSON.stringify(key);
    const comma = (known: typeof before) =>
      known === 'no'
        ? JSON.stringify(`${name}:`)
        : known === 'yes'
          ? JSON.stringify(`,${name}:`)
          : `(out.length === 1 ? "" : ",") + ${JSON.stringify(`${name}:`)}`;
    const emit = `if (t !== undefined) out += ${comma(before)} + t;`;
    // An absent key, as handlePropertyResult treats it (rare in a result: the field's own serializer).
    const absent =
      optout === 'optional' && optin === 'optional'
        ? ''
        : `t = ${write}(undefined);
           if (t === FAIL) { ${optin !== undefined && optout === 'optional' ? '' : 'return FAIL;'} }
           else { ${optin === undefined ? 'return FAIL;' : emit} }`;
    const inline = inlineValue(field, ref);
    lines.push(`v = input[${name}];`, `if (v === undefined && !(${name} in input)) { ${absent} } else {`);
    // A required plain field is written whenever the object is: its code sets `t` to JSON or returns FAIL.
    const always = inline !== undefined && optin === undefined && optout === undefined;
    lines.push(inline ?? `t = ${write}(v); if (t === FAIL) return FAIL;`, always ? `out += ${comma(before)} + t;` : emit, '}');
    before = always ? 'yes' : before === 'no' ? 'maybe' : before;
  }
  if (strict) lines.push(`for (const k in input) if (!${ref(new Set(Object.keys(shape)))}.has(k)) return FAIL;`);
  lines.push('return out + "}";');
  return new Function('refs', 'FAIL', `return function serialize(input) {\n${lines.join('\n')}\n};`)(refs, FAIL) as Serializer;
}

/**
 * Code setting `t` to the JSON of a plain field's present value `v` (or returning FAIL), or
 * undefined for a field that is not plain. Mirrors compile(): type, then the checks in order.
 */
function inlineValue(node: Node, ref: (value: unknown) => string): string | undefined {
  const def = node._zod.def;
  if ((def as { coerce?: boolean }).coerce) return undefined;
  if (def.type === 'nullable' || (def.type === 'optional' && (def.innerType as Node)._zod.optin !== 'defaulted')) {
    const inner = inlineValue(def.innerType as Node, ref);
    const empty = def.type === 'nullable' ? 'null' : 'undefined';
    return inner && `if (v === ${empty}) t = ${def.type === 'nullable' ? '"null"' : 'undefined'}; else { ${inner} }`;
  }
  let code: string;
  // How `t` gets the JSON of the checked `v`: JSON.stringify, unless the checks tell more.
  let json = 'JSON.stringify(v)';
  if (def.type === 'string') code = 'if (typeof v !== "string") return FAIL;';
  else if (def.type === 'number') {
    code = 'if (typeof v !== "number" || !Number.isFinite(v)) return FAIL;';
    // A finite number's JSON is its string form (the same algorithm, -0 written as 0 by both).
    json = '"" + v';
  } else if (def.type === 'boolean') {
    code = 'if (typeof v !== "boolean") return FAIL;';
    json = '(v ? "true" : "false")';
  } else if (def.type === 'enum') {
    const entries = Object.entries(def.entries as Record<string, unknown>);
    if (entries.some(([key, value]) => typeof value !== 'string' || key !== value)) return undefined;
    // Each value's JSON, looked up: a value not in the map is not in the enum. An enum with checks
    // of its own (a refinement, an overwrite) takes the general path.
    if (def.checks?.length) return undefined;
    const texts = new Map(entries.map(([, value]) => [value, JSON.stringify(value)]));
    return `t = ${ref(texts)}.get(v); if (t === undefined) return FAIL;`;
  } else return undefined;
  const checks = [...(node._zod.traits.has('$ZodCheck') ? [node as unknown as Check] : []), ...(def.checks ?? [])];
  const sized = def.type === 'string';
  for (const check of checks) {
    const c = check._zod.def;
    if (sized && c.check === 'max_length') code += `if (v.length > ${Number(c.maximum)}) return FAIL;`;
    else if (sized && c.check === 'min_length') code += `if (v.length < ${Number(c.minimum)}) return FAIL;`;
    else if (sized && c.check === 'string_format' && c.pattern && PATTERN_FORMATS.has(c.format as string)) {
      const pattern = ref(c.pattern);
      code += `${pattern}.lastIndex = 0; if (!${pattern}.test(v)) return FAIL;`;
      // What these formats match holds no character JSON escapes: the text goes between quotes as it is.
      if (plainJsonPattern(c)) json = '"\\"" + v + "\\""';
    } else if (!c.when && c.check === 'overwrite') {
      code += `v = ${ref(c.tx)}(v);`;
      json = 'JSON.stringify(v)';
    } else if (!c.when && c.check === 'custom' && typeof c.fn === 'function') {
      // A refinement, called directly: it answers whether `v` passes and never changes it.
      code += `t = ${ref(c.fn)}(v); if (t !== true) { if (t instanceof Promise) throw new Error("Asynchronous checks are not supported in contracts"); if (!t) return FAIL; }`;
    } else {
      code += `v = ${ref(compileCheck(check, sized))}(v); if (v === FAIL) return FAIL;`;
      json = 'JSON.stringify(v)';
    }
  }
  return `${code} t = ${json};`;
}
