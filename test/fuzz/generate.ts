import type { Rng } from '../../runtime/core/seeded-random';
import { merged, type SchemaChecker } from './schemas';
import { refName, type Schema } from './spec';

/**
 * Valid values from JSON Schema, drawn from a seeded PRNG. Every value is checked against its
 * schema before use (a generator bug must not pass for a runtime bug). Values the API handed out
 * earlier (ids, usernames, cursors) are kept in pools by field name and reused now and then, so
 * requests reach existing records and the handlers' success paths, not only their 404s.
 */

export class Pools {
  private readonly values = new Map<string, unknown[]>();

  add(name: string, value: unknown): void {
    if (value === null || value === undefined || value === '') return;
    let list = this.values.get(name);
    if (!list) {
      list = [];
      this.values.set(name, list);
    }
    if (list.includes(value)) return;
    list.push(value);
    if (list.length > 200) list.shift();
  }

  get(name: string): readonly unknown[] {
    return this.values.get(name) ?? [];
  }

  /** The names of the pools holding UUIDs, sorted. */
  uuidPools(): string[] {
    return [...this.values.entries()]
      .filter(([name, values]) => name !== '*uuid' && values.some((v) => typeof v === 'string' && UUID.test(v)))
      .map(([name]) => name)
      .sort();
  }

  /**
   * Remembers the values of an answer (or of a request that succeeded): each scalar under its
   * field name; the `id` of a `#/components/schemas/Event` also as `eventId` and `event`; every
   * UUID under `*uuid`.
   */
  record(schema: Schema | undefined, value: unknown, name?: string): void {
    if (typeof value === 'string' || typeof value === 'number') {
      if (name) this.add(name, value);
      if (typeof value === 'string' && UUID.test(value)) this.add('*uuid', value);
      return;
    }
    const s = schema ? merged(schema) : undefined;
    if (Array.isArray(value)) {
      for (const item of value.slice(0, 20)) this.record(typeof s?.items === 'object' ? (s.items as Schema) : undefined, item, name);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const component = schema && refName(schema);
    const id = (value as { id?: unknown }).id;
    if (component && typeof id === 'string') {
      const base = component[0]!.toLowerCase() + component.slice(1);
      this.add(`${base}Id`, id);
      this.add(base, id);
    }
    const properties = (s?.properties as Record<string, Schema> | undefined) ?? {};
    const branches = (s?.oneOf ?? s?.anyOf) as Schema[] | undefined;
    for (const [key, child] of Object.entries(value)) {
      const childSchema =
        properties[key] ?? branches?.map((b) => (merged(b).properties as Record<string, Schema> | undefined)?.[key]).find(Boolean);
      this.record(childSchema, child, key);
    }
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface GenOptions {
  rng: Rng;
  pools: Pools;
  checker: SchemaChecker;
  /**
   * `random`: optional fields now and then, lengths anywhere in range, any text.
   * `plain`: required fields only, short alphanumeric text: a clean base to break one rule of.
   * `header`: visible ASCII only (a header value is a byte string).
   */
  mode: 'random' | 'plain' | 'header';
  /** Draw every UUID from this pool (when it has any): requests whose ids all name one kind of record. */
  uuidPool?: string;
}

/** A value valid against the schema; throws (naming the schema) when none can be found. */
export function generate(schema: Schema, options: GenOptions, name?: string): unknown {
  for (let attempt = 0; attempt < 30; attempt++) {
    const value = draw(schema, options, name, 0);
    if (options.checker.isValid(schema, value)) return value;
  }
  throw new Error(
    `test/fuzz cannot generate a valid value for ${name ?? 'a value'} of schema ${JSON.stringify(schema)}: teach test/fuzz/generate.ts`,
  );
}

/** The JSON types a schema allows (all of them when it says nothing). */
export function typesOf(schema: Schema): string[] {
  const s = merged(schema);
  if (Array.isArray(s.type)) return s.type as string[];
  if (typeof s.type === 'string') return s.type === 'integer' ? ['integer'] : [s.type];
  if (s.enum) return [...new Set((s.enum as unknown[]).map(jsonType))];
  if (s.const !== undefined) return [jsonType(s.const)];
  if (s.properties) return ['object'];
  if (s.items) return ['array'];
  return ['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'];
}

export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function draw(schema: Schema, options: GenOptions, name: string | undefined, depth: number): unknown {
  const { rng } = options;
  const s = merged(schema);
  const pooled = fromPool(s, options, name);
  if (pooled !== undefined) return pooled;
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum)) {
    const choices = options.mode === 'plain' ? s.enum.filter((v) => v !== null) : s.enum;
    return rng.pick(choices.length > 0 ? choices : s.enum);
  }
  const branches = (s.oneOf ?? s.anyOf) as Schema[] | undefined;
  if (branches) return draw(rng.pick(branches), options, name, depth + 1);

  let types = typesOf(s);
  if (types.length > 1 && types.includes('null')) {
    if (options.mode === 'random' && rng.bool(0.15)) return null;
    types = types.filter((t) => t !== 'null');
  }
  switch (rng.pick(types)) {
    case 'null':
      return null;
    case 'boolean':
      return rng.bool();
    case 'integer':
    case 'number':
      return drawNumber(s, options, types.includes('number') && !types.includes('integer'));
    case 'array': {
      const min = (s.minItems as number | undefined) ?? 0;
      const max = (s.maxItems as number | undefined) ?? min + 4;
      const length = options.mode === 'plain' ? Math.max(min, Math.min(1, max)) : rng.int(min, Math.min(max, min + 3));
      const items = typeof s.items === 'object' ? (s.items as Schema) : {};
      const out: unknown[] = [];
      for (let i = 0; i < length * 3 && out.length < length; i++) {
        const item = draw(items, options, name, depth + 1);
        if (!s.uniqueItems || !out.some((o) => JSON.stringify(o) === JSON.stringify(item))) out.push(item);
      }
      return out;
    }
    case 'object': {
      const properties = (s.properties as Record<string, Schema> | undefined) ?? {};
      const required = new Set((s.required as string[] | undefined) ?? []);
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries(properties)) {
        if (required.has(key) || (options.mode === 'random' && depth < 4 && rng.bool(0.6))) out[key] = draw(sub, options, key, depth + 1);
      }
      return out;
    }
    default:
      return drawString(s, options, name);
  }
}

/** Now and then a value the API gave out before under this name (only one the schema accepts). */
function fromPool(s: Schema, options: GenOptions, name: string | undefined): unknown {
  const { rng, pools, checker } = options;
  if (options.uuidPool && s.format === 'uuid') {
    const ids = pools.get(options.uuidPool).filter((v) => typeof v === 'string' && UUID.test(v));
    if (ids.length > 0) return rng.pick(ids);
  }
  if (!name || options.mode === 'header') return undefined;
  const byName = [...pools.get(name), ...pools.get(`next${name[0]!.toUpperCase()}${name.slice(1)}`)].filter((v) => checker.isValid(s, v));
  if (byName.length > 0 && rng.bool(0.6)) return rng.pick(byName);
  if (s.format === 'uuid' && rng.bool(0.5)) {
    const any = pools.get('*uuid');
    if (any.length > 0) return rng.pick(any);
  }
  return undefined;
}

function drawNumber(s: Schema, options: GenOptions, fractional: boolean): number {
  const { rng } = options;
  let min = (s.minimum as number | undefined) ?? -1_000_000;
  let max = (s.maximum as number | undefined) ?? 1_000_000;
  if (typeof s.exclusiveMinimum === 'number') min = Math.max(min, s.exclusiveMinimum + 1);
  if (typeof s.exclusiveMaximum === 'number') max = Math.min(max, s.exclusiveMaximum - 1);
  if (s.minimum === undefined && s.maximum !== undefined) min = Math.min(0, max);
  if (s.maximum === undefined && s.minimum !== undefined) max = Math.max(min + 1000, min);
  const roll = rng.next();
  let value = roll < 0.15 ? min : roll < 0.3 ? max : rng.int(Math.ceil(min), Math.floor(max));
  if (fractional && rng.bool(0.5) && value < max) value += 0.5;
  const step = s.multipleOf as number | undefined;
  if (step) value = Math.max(Math.ceil(min / step), Math.min(Math.floor(max / step), Math.round(value / step))) * step;
  return value;
}

/** Text: mostly letters and digits; sometimes the rest of Unicode that is valid (no NUL, no lone surrogates). */
const ALPHABETS = {
  alnum: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  digits: '0123456789',
  visible: Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join(''),
  text: 'abcdefghijklmnopqrstuvwxyz ÁÉÍÓÚáéíóúñÑüçß.,;:!?¿¡-_\'"()/\\&%#@*+=<>[]{}|~`^$\t\n\r\u00a0\u2028\u200b\u200d\u0301\u05d0\u0627\u4e2d\u6587\u3042\uac00\u0416\ufeff\ufffd\u007f\u0001',
};

function drawString(s: Schema, options: GenOptions, name: string | undefined): string {
  const { rng } = options;
  const min = (s.minLength as number | undefined) ?? 0;
  const max = (s.maxLength as number | undefined) ?? Math.max(min, 64);
  const format = s.format as string | undefined;
  const formatted = format ? drawFormat(format, options) : undefined;
  if (formatted !== undefined) return formatted;

  const pattern = typeof s.pattern === 'string' ? new RegExp(s.pattern, 'u') : undefined;
  const alphabets =
    options.mode === 'header'
      ? [ALPHABETS.visible]
      : options.mode === 'plain'
        ? [ALPHABETS.alnum]
        : [ALPHABETS.alnum, ALPHABETS.alnum, ALPHABETS.text, ALPHABETS.visible];
  for (let attempt = 0; attempt < 40; attempt++) {
    // Patterns get simpler alphabets after a few tries (`^\d{6}$` needs digits).
    const alphabet = pattern && attempt >= 10 ? (attempt % 2 ? ALPHABETS.digits : ALPHABETS.alnum) : rng.pick(alphabets);
    let length: number;
    if (options.mode === 'plain') length = Math.max(min, Math.min(max, 12));
    else {
      const roll = rng.next();
      length = roll < 0.1 ? min : roll < 0.2 ? max : rng.int(min, Math.min(max, min + 24));
    }
    let text = '';
    for (let i = 0; i < length; i++) text += rng.pick(alphabet);
    if (!pattern || pattern.test(text)) return text;
  }
  throw new Error(`test/fuzz cannot generate text for ${name ?? 'a field'} matching /${String(s.pattern)}/: teach test/fuzz/generate.ts`);
}

function drawFormat(format: string, options: GenOptions): string | undefined {
  const { rng } = options;
  const hex = (n: number) => Array.from({ length: n }, () => rng.pick('0123456789abcdef')).join('');
  const two = (n: number) => String(n).padStart(2, '0');
  switch (format) {
    case 'uuid':
      return `${hex(8)}-${hex(4)}-4${hex(3)}-${rng.pick('89ab')}${hex(3)}-${hex(12)}`;
    case 'date-time': {
      const date = new Date(
        Date.UTC(2000 + rng.int(0, 99), rng.int(0, 11), rng.int(1, 28), rng.int(0, 23), rng.int(0, 59), rng.int(0, 59), rng.int(0, 999)),
      );
      return date.toISOString();
    }
    case 'date':
      return `${2000 + rng.int(0, 99)}-${two(rng.int(1, 12))}-${two(rng.int(1, 28))}`;
    case 'time':
      return `${two(rng.int(0, 23))}:${two(rng.int(0, 59))}:${two(rng.int(0, 59))}Z`;
    case 'email':
      return `${word(rng, 8)}@example.com`;
    case 'uri':
    case 'url':
    case 'iri':
    case 'uri-reference':
      return `https://${word(rng, 6)}.example.com/${word(rng, rng.int(0, 12))}`;
    case 'hostname':
      return `${word(rng, 8)}.example.com`;
    case 'ipv4':
      return `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
    default:
      return undefined;
  }
}

function word(rng: Rng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += rng.pick('abcdefghijklmnopqrstuvwxyz0123456789');
  return out;
}
