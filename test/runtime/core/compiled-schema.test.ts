import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compiledSchema, FAIL } from '../../../runtime/core/compiled-schema';
import { compiledSerializer } from '../../../runtime/core/compiled-serializer';
import { createRoutes } from '../../../generated/server/routes';
import { generate, Pools } from '../../fuzz/generate';
import { Rng } from '../../../runtime/core/seeded-random';
import { SchemaChecker } from '../../fuzz/schemas';
import { documentedResponse, operations, type Schema } from '../../fuzz/spec';

/**
 * The compiled schema answers as Zod does: the same data for a value Zod accepts, FAIL for one it
 * refuses; its serializer writes the JSON text of Zod's data, or FAIL.
 */
function agrees(schema: z.ZodType, value: unknown, where = ''): void {
  const zod = schema.safeParse(value);
  const compiled = compiledSchema(schema)(value);
  const json = compiledSerializer(schema)(value);
  const label = `${where} ${JSON.stringify(value)?.slice(0, 300)}`;
  if (zod.success) {
    expect(compiled, label).not.toBe(FAIL);
    expect(compiled, label).toStrictEqual(zod.data);
    expect(json, label).toBe(JSON.stringify(zod.data));
  } else {
    const refused = `${label} (Zod refused: ${zod.error.issues[0]?.message})`;
    expect(compiled, refused).toBe(FAIL);
    expect(json, refused).toBe(FAIL);
  }
}

/** Values near a valid one: each field dropped, emptied, retyped, stretched; an unknown field; whitespace around text. */
function variants(value: unknown): unknown[] {
  const out: unknown[] = [value, undefined, null, 0, '', [], {}, 'x'];
  if (Array.isArray(value)) out.push([...value, ...value], value.slice(1), [null]);
  if (typeof value === 'string') out.push(` ${value} `, value.repeat(40), value.toUpperCase(), `${value}\u0000`);
  if (typeof value === 'number') out.push(value + 0.5, -value, value * 1e6, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    out.push({ ...record, unknownField: 1 });
    for (const key of Object.keys(record)) {
      const { [key]: _dropped, ...rest } = record;
      out.push(rest, { ...rest, [key]: undefined });
      for (const replacement of variants(record[key]).slice(1, 12)) out.push({ ...record, [key]: replacement });
    }
  }
  return out;
}

describe('a compiled schema', () => {
  it('strips, defaults and overwrites as Zod does, and refuses what Zod refuses', () => {
    const Tag = z.string().max(10).trim().min(1);
    const schema = z
      .object({
        name: Tag,
        note: z.string().optional(),
        count: z.number().int().min(0).default(3),
        kind: z.enum(['a', 'b']).nullable(),
        tags: z.array(Tag).max(3).optional(),
        either: z.union([z.literal(1), z.string().min(2)]).optional(),
        at: z.iso.datetime().optional(),
        id: z.uuid().optional(),
        coerced: z.preprocess((v) => (typeof v === 'string' ? Number(v) : v), z.number()).optional(),
      })
      .refine((o) => o.name !== 'forbidden', { path: ['name'] });
    const base = {
      name: ' milonga ',
      count: 2,
      kind: 'a',
      tags: [' x ', 'y'],
      either: 1,
      at: '2026-12-03T22:00:00Z',
      id: '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d',
      coerced: '12',
    };
    for (const value of [...variants(base), { ...base, name: 'forbidden' }, { ...base, either: 'ab' }, { ...base, note: undefined }])
      agrees(schema, value);
    for (const value of [[1, undefined, 'x'], [], [{}]]) agrees(z.array(z.unknown()), value);
    const strict = z.strictObject({ a: z.string() });
    for (const value of variants({ a: 'x' })) agrees(strict, value);
  });

  it("writes the JSON of Zod's data: escapes, numbers, booleans, enums, refinements, fields after optional ones", () => {
    const schema = z.object({
      maybe: z.string().optional(),
      text: z.string(),
      count: z.number(),
      flag: z.boolean(),
      kind: z.enum(['a', 'b"c']),
      at: z.iso.datetime({ offset: true }).refine((value) => (value.startsWith('2') ? 1 : 0)),
      id: z.uuid(),
      day: z.iso.date(),
      later: z.number().optional(),
      last: z.string().trim(),
    });
    const base = {
      text: 'plain',
      count: 1,
      flag: false,
      kind: 'a',
      at: '2026-12-03T22:00:00.000+01:00',
      id: '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d',
      day: '2026-12-03',
      last: ' x ',
    };
    const values: unknown[] = [base, { maybe: 'first', ...base }, { ...base, later: 2 }, { ...base, at: '1999-01-01T00:00:00Z' }];
    for (const text of ['quote " and \\ back', 'line\nbreak\u0001', '\u2028\u2029', 'lone \ud800 surrogate', '😀 pair', ''])
      values.push({ ...base, text }, { ...base, last: ` ${text} ` }, { ...base, maybe: text });
    for (const count of [-0, 1e21, 5e-324, -1.5, 2 ** 53 + 2, Number.MAX_VALUE]) values.push({ ...base, count });
    values.push({ ...base, flag: true }, { ...base, flag: 1 }, { ...base, kind: 'b"c' }, { ...base, kind: 'c' });
    for (const value of values) agrees(schema, value);
    expect(compiledSerializer(schema)({ ...base, kind: 'b"c', count: -0 })).toContain('"count":0,"flag":false,"kind":"b\\"c"');
    const later = z.object({ first: z.string().optional(), second: z.string() });
    expect(compiledSerializer(later)({ second: 'a' })).toBe('{"second":"a"}');
    // A format named like Zod's with a pattern of its own is escaped like any text.
    const own = z.object({ day: z.stringFormat('date', /^.*$/) });
    for (const day of ['a"b', 'back\\slash', 'line\nbreak']) agrees(own, { day });
    // An enum's own checks, and checks written with .check / .superRefine, are kept.
    const checked = z.object({
      kind: z.enum(['a', 'b']).refine((value) => value === 'a'),
      loud: z.enum(['a', 'b']).overwrite((value) => value.toUpperCase() as 'a'),
      maybe: z
        .enum(['a', 'b'])
        .refine((value) => value === 'b')
        .nullable(),
      even: z.number().check((ctx) => {
        if (ctx.value % 2 !== 0) ctx.issues.push({ code: 'custom', message: 'odd', input: ctx.value });
      }),
      short: z.string().superRefine((value, ctx) => {
        if (value.length > 3) ctx.addIssue({ code: 'custom', message: 'long' });
      }),
    });
    const fine = { kind: 'a', loud: 'b', maybe: null, even: 2, short: 'abc' };
    for (const value of [
      fine,
      { ...fine, kind: 'b' },
      { ...fine, maybe: 'a' },
      { ...fine, maybe: 'b' },
      { ...fine, even: 3 },
      { ...fine, short: 'abcd' },
    ])
      agrees(checked, value);
    const pending = z.object({ at: z.string().refine(async () => true) });
    expect(() => compiledSerializer(pending)({ at: 'x' })).toThrow(/Asynchronous checks/);
  });

  it('compiles a schema that contains itself', () => {
    const Node: z.ZodType<{ name: string; children: unknown[] }> = z.object({
      name: z.string(),
      get children() {
        return z.array(Node);
      },
    });
    agrees(Node, { name: 'a', children: [{ name: 'b', children: [] }] });
    agrees(Node, { name: 'a', children: [{ name: 'b' }] });
  });

  it('agrees with Zod on every contract schema, for valid values drawn from the spec and values near them', () => {
    const routes = createRoutes({} as never);
    const byId = new Map(operations().map((op) => [op.id, op]));
    const options = { rng: new Rng('compiled-schema'), pools: new Pools(), checker: new SchemaChecker(), mode: 'random' as const };
    let compared = 0;
    const check = (schema: z.ZodType | undefined, spec: Schema | undefined, where: string) => {
      if (!schema || !spec) return;
      for (let run = 0; run < 1; run++) {
        for (const value of variants(generate(spec, options, where))) {
          agrees(schema, value, where);
          compared++;
        }
      }
    };
    for (const { endpoint } of routes) {
      const op = byId.get(endpoint.operationId)!;
      if (op.body?.mediaType === 'application/json') check(endpoint.requestBody, op.body.schema, `${op.id} body`);
      const response = endpoint.response as { status: number; body?: z.ZodType; page?: z.ZodType };
      const json = documentedResponse(op, response.status)?.content['application/json']?.schema as Schema | undefined;
      const data = json && ((json.properties as Record<string, Schema> | undefined)?.data as Schema | undefined);
      if (response.body) check(response.body, data, `${op.id} response`);
      if (response.page) {
        check(response.page, data?.items as Schema | undefined, `${op.id} page item`);
        check(z.array(response.page), data, `${op.id} page`);
      }
    }
    expect(compared).toBeGreaterThan(2000);
  });
});
