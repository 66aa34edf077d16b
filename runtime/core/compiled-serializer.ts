import { z } from 'zod';
import { type Check, compileCheck, compiledSchema, FAIL, firstAccepting, made, type Node, PATTERN_FORMATS } from './compiled-schema';

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
