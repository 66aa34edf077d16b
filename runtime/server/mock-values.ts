import { z } from 'zod';
import { Rng } from '../core/seeded-random';
import { matching, regexOf } from './mock-pattern';

/**
 * Values made up from a schema, for mock servers: valid against it (each one is checked by Zod,
 * whose input side it is drawn from), and the same for the same schema and seed. Drawn from the
 * schema's JSON Schema (`z.toJSONSchema`, input side), which states formats, bounds, patterns,
 * enums and unions plainly; what JSON Schema cannot say (a `.refine`) is caught by the check, and
 * another draw is tried.
 *
 * Choices: a union answers its first option (contracts list the main case first), a nullable
 * value is null one time in five, an optional field is present two times in three, an array has
 * one to three items (within its bounds), text is lower-case words, numbers without bounds stay
 * within 0–1000, timestamps fall in 2026–2027.
 */
export function mockValue<S extends z.ZodType>(schema: S, seed: string): z.input<S> {
  const json = jsonSchemaOf(schema);
  let failure: z.ZodError | undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    const value = draw(json, new Draw(json, new Rng(attempt === 0 ? seed : `${seed}\n${attempt}`)), 0);
    const checked = schema.safeParse(value);
    if (checked.success) return value as z.input<S>;
    failure = checked.error;
  }
  throw new Error(`No value could be made up for this schema (${describe(schema)}): ${failure?.message}`);
}

/** JSON Schema as far as this module reads it. */
type Node = Record<string, unknown> & { $defs?: Record<string, Node> };

const jsonSchemas = new WeakMap<z.ZodType, Node>();

function jsonSchemaOf(schema: z.ZodType): Node {
  let json = jsonSchemas.get(schema);
  if (!json) {
    json = z.toJSONSchema(schema, {
      io: 'input',
      unrepresentable: 'any',
      // A Date has no JSON Schema; a Date object satisfies both z.date() and z.coerce.date().
      override: ({ zodSchema, jsonSchema }) => {
        if (zodSchema._zod.def.type === 'date') (jsonSchema as Node)['x-date'] = true;
      },
    }) as Node;
    jsonSchemas.set(schema, json);
  }
  return json;
}

function describe(schema: z.ZodType): string {
  const id = z.globalRegistry.get(schema)?.id;
  return id ? `${id}, a ${schema._zod.def.type}` : `a ${schema._zod.def.type}`;
}

/** One draw: the root (for `$ref`s) and the random stream. */
class Draw {
  constructor(
    readonly root: Node,
    readonly rng: Rng,
  ) {}

  resolve(node: Node): Node {
    let current = node;
    for (let hops = 0; typeof current.$ref === 'string' && hops < 32; hops++) {
      const ref = current.$ref as string;
      const target = ref === '#' ? this.root : this.root.$defs?.[ref.replace(/^#\/\$defs\//, '')];
      if (!target) throw new Error(`Unresolvable $ref ${ref}`);
      const { $ref: _, ...rest } = current;
      current = { ...target, ...rest };
    }
    return current;
  }
}

/** Past this depth, optional fields are left out and arrays are as short as allowed (recursive schemas end). */
const MAX_DEPTH = 6;

function draw(given: Node, d: Draw, depth: number): unknown {
  const node = merged(d.resolve(given), d);
  const { rng } = d;
  if (node['x-date']) return new Date(timestamp(rng));
  if ('const' in node) return node.const;
  if (Array.isArray(node.enum)) return rng.pick(node.enum);
  const options = (node.anyOf ?? node.oneOf) as Node[] | undefined;
  if (options) {
    const nonNull = options.filter((option) => d.resolve(option).type !== 'null');
    if (nonNull.length < options.length && (nonNull.length === 0 || rng.bool(0.2) || depth > MAX_DEPTH)) return null;
    return draw(nonNull[0]!, d, depth + 1);
  }
  let type = node.type as string | string[] | undefined;
  if (Array.isArray(type)) {
    const nonNull = type.filter((t) => t !== 'null');
    type = nonNull.length < type.length && (nonNull.length === 0 || rng.bool(0.2)) ? 'null' : nonNull[0];
  }
  switch (type) {
    case 'null':
      return null;
    case 'boolean':
      return rng.bool();
    case 'integer':
    case 'number':
      return number(node, rng, type === 'integer');
    case 'string':
      return text(node, rng);
    case 'array':
      return array(node, d, depth);
    case 'object':
      return object(node, d, depth);
    default:
      // Anything goes (`z.unknown()`): a word is as good as any value.
      return node.properties ? object(node, d, depth) : word(rng);
  }
}

/** `allOf` (an intersection, several string checks) folded into one node; its patterns all kept. */
function merged(node: Node, d: Draw): Node {
  if (!Array.isArray(node.allOf)) return node;
  const { allOf, ...rest } = node;
  let out: Node = rest;
  const patterns: string[] = typeof rest.pattern === 'string' ? [rest.pattern] : [];
  for (const part of allOf as Node[]) {
    const resolved = merged(d.resolve(part), d);
    if (typeof resolved.pattern === 'string') patterns.push(resolved.pattern);
    out = {
      ...out,
      ...resolved,
      properties: { ...(out.properties as object), ...(resolved.properties as object) },
      required: [...((out.required as string[]) ?? []), ...((resolved.required as string[]) ?? [])],
    };
  }
  if (!out.type && Object.keys(out.properties as object).length > 0) out.type = 'object';
  if (patterns.length > 0) out.pattern = patterns[0];
  return out;
}

function object(node: Node, d: Draw, depth: number): Record<string, unknown> {
  const { rng } = d;
  const out: Record<string, unknown> = {};
  const required = new Set((node.required as string[] | undefined) ?? []);
  const properties = (node.properties as Record<string, Node> | undefined) ?? {};
  for (const [key, schema] of Object.entries(properties)) {
    if (required.has(key) || (depth < MAX_DEPTH && rng.bool(2 / 3))) out[key] = draw(schema, d, depth + 1);
  }
  // A record (`z.record(z.string(), …)`): a few entries.
  const extra = node.additionalProperties;
  if (Object.keys(properties).length === 0 && extra !== undefined && extra !== false) {
    const names = (node.propertyNames as Node | undefined) ?? { type: 'string', maxLength: 12 };
    const count = depth < MAX_DEPTH ? rng.int(1, 3) : 0;
    for (let i = 0; i < count; i++) {
      const key = draw({ minLength: 1, ...names }, d, depth + 1);
      out[String(key)] = draw(extra === true ? {} : (extra as Node), d, depth + 1);
    }
  }
  return out;
}

function array(node: Node, d: Draw, depth: number): unknown[] {
  const { rng } = d;
  const tuple = node.prefixItems as Node[] | undefined;
  if (tuple) return tuple.map((item) => draw(item, d, depth + 1));
  const min = (node.minItems as number | undefined) ?? 0;
  const max = (node.maxItems as number | undefined) ?? Number.MAX_SAFE_INTEGER;
  const low = depth >= MAX_DEPTH ? min : Math.max(min, 1);
  const length = Math.min(max, rng.int(low, Math.max(low, Math.min(low + 2, max))));
  const items = (node.items as Node | undefined) ?? {};
  const out: unknown[] = [];
  const seen = new Set<string>();
  for (let tries = 0; out.length < length && tries < length * 5; tries++) {
    const item = draw(items, d, depth + 1);
    if (node.uniqueItems) {
      const key = JSON.stringify(item);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push(item);
  }
  return out;
}

/** Bounds at the safe-integer limits (`z.number().int()`) are no bounds: numbers stay small. */
function number(node: Node, rng: Rng, integer: boolean): number {
  const bound = (value: unknown) => (typeof value === 'number' && Math.abs(value) < Number.MAX_SAFE_INTEGER ? value : undefined);
  const exclusiveMin = bound(node.exclusiveMinimum);
  const exclusiveMax = bound(node.exclusiveMaximum);
  const step = (node.multipleOf as number | undefined) ?? (integer ? 1 : undefined);
  const nudge = step ?? 0.5;
  let min = bound(node.minimum) ?? (exclusiveMin === undefined ? undefined : exclusiveMin + nudge);
  let max = bound(node.maximum) ?? (exclusiveMax === undefined ? undefined : exclusiveMax - nudge);
  if (exclusiveMin !== undefined && exclusiveMax !== undefined && !step && exclusiveMax - exclusiveMin <= 1) {
    min = exclusiveMin + (exclusiveMax - exclusiveMin) / 4;
    max = exclusiveMax - (exclusiveMax - exclusiveMin) / 4;
  }
  min ??= max === undefined ? 0 : Math.min(0, max - 1000);
  max ??= min + 1000;
  if (step) {
    const low = Math.ceil(min / step);
    const high = Math.floor(max / step);
    return rng.int(low, Math.max(low, high)) * step;
  }
  return Math.round((min + rng.next() * (max - min)) * 100) / 100;
}

function text(node: Node, rng: Rng): string {
  const format = node.format as string | undefined;
  const pattern = typeof node.pattern === 'string' ? node.pattern : undefined;
  const formatted = format ? FORMATS[format]?.(rng) : undefined;
  // A format's pattern may be narrower than the format (a datetime without fractions): it decides.
  if (formatted !== undefined && (!pattern || regexOf(pattern)?.test(formatted))) return formatted;
  if (pattern) {
    const fromPattern = matching(pattern, rng);
    if (fromPattern !== undefined) return fromPattern;
  }
  const min = (node.minLength as number | undefined) ?? 0;
  const max = (node.maxLength as number | undefined) ?? Math.max(min, 60);
  const length = rng.int(Math.min(Math.max(min, 3), max), Math.max(min, Math.min(max, 40)));
  return words(rng, min, length);
}

const WORDS =
  'alma abrazo baile bandoneon barrio calle cafe corazon cortina dance embrace floor friday gancho luna milonga music night ocho orquesta paso ronda salon sunday tanda tango vals voleo'.split(
    ' ',
  );

function word(rng: Rng): string {
  return rng.pick(WORDS);
}

/** Words joined by spaces, ending at a word when that leaves at least `min` characters, else padded to `min`. */
function words(rng: Rng, min: number, max: number): string {
  let out = word(rng);
  for (let next = word(rng); out.length + 1 + next.length <= max; next = word(rng)) out += ` ${next}`;
  if (out.length > max) out = out.slice(0, max);
  while (out.length < min) out += 'o';
  return out;
}

const hex = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.pick('0123456789abcdef')).join('');
const two = (n: number) => String(n).padStart(2, '0');

/** An instant of 2026–2027, whole milliseconds. */
function timestamp(rng: Rng): number {
  return Date.UTC(2026, 0, 1) + Math.floor(rng.next() * 2 * 365 * 86_400) * 1000;
}

const FORMATS: Record<string, (rng: Rng) => string> = {
  uuid: (rng) => `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-${rng.pick('89ab')}${hex(rng, 3)}-${hex(rng, 12)}`,
  guid: (rng) => FORMATS.uuid!(rng),
  'date-time': (rng) => new Date(timestamp(rng)).toISOString(),
  date: (rng) => new Date(timestamp(rng)).toISOString().slice(0, 10),
  time: (rng) => `${two(rng.int(0, 23))}:${two(rng.int(0, 59))}:${two(rng.int(0, 59))}`,
  duration: (rng) => `PT${rng.int(1, 12)}H${rng.int(0, 59)}M`,
  email: (rng) => `${word(rng)}.${word(rng)}@example.com`,
  uri: (rng) => `https://example.com/${word(rng)}/${rng.int(1, 999)}`,
  url: (rng) => FORMATS.uri!(rng),
  'uri-reference': (rng) => `/${word(rng)}/${rng.int(1, 999)}`,
  hostname: (rng) => `${word(rng)}.example.com`,
  ipv4: (rng) => `192.0.2.${rng.int(1, 254)}`,
  ipv6: (rng) => `2001:db8::${hex(rng, 4)}`,
};
