import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Timestamp, Uuid, httpUrl } from '../../../runtime/contract';
import { mockValue } from '../../../runtime/server';

/** Every seed of a few gives a value the schema accepts. */
function values<S extends z.ZodType>(schema: S, count = 25): z.input<S>[] {
  return Array.from({ length: count }, (_, i) => {
    const value = mockValue(schema, `seed-${i}`);
    expect(schema.safeParse(value).success, JSON.stringify(value)).toBe(true);
    return value;
  });
}

describe('mockValue', () => {
  it('makes up strings of every format the contracts use', () => {
    const schema = z.object({
      id: Uuid,
      at: Timestamp,
      plainAt: z.iso.datetime(),
      secondsAt: z.iso.datetime({ precision: 0 }),
      day: z.iso.date(),
      time: z.iso.time(),
      duration: z.iso.duration(),
      email: z.email(),
      url: httpUrl(),
      ipv4: z.ipv4(),
      ipv6: z.ipv6(),
      code: z.string().regex(/^\d{6}$/),
      username: z.string().regex(/^[a-z0-9][a-z0-9_.-]{2,29}$/),
      slug: z.string().regex(/^(?:[a-z]+-)*[a-z]+$/),
    });
    const made = values(schema);
    for (const value of made) {
      expect(value.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(value.secondsAt).not.toContain('.');
      expect(value.code).toMatch(/^\d{6}$/);
    }
    // Made up, not a fixed placeholder: values vary between seeds.
    expect(new Set(made.map((v) => v.id)).size).toBe(made.length);
  });

  it('keeps within the bounds of strings, numbers and arrays', () => {
    const schema = z.object({
      short: z.string().min(2).max(4),
      exact: z.string().length(7),
      trimmed: z.string().trim().min(1).max(200),
      long: z.string().min(300).max(400),
      count: z.number().int().min(0),
      ratio: z.number().gt(0).lt(1),
      small: z.number().int().min(-5).max(-3),
      fives: z.number().int().positive().multipleOf(5).max(50),
      tags: z.array(z.string().max(10)).min(2).max(3),
      none: z.array(z.string()).max(0),
      unique: z
        .array(z.enum(['a', 'b', 'c']))
        .min(3)
        .max(3),
    });
    for (const value of values(schema)) {
      expect(value.short.length).toBeGreaterThanOrEqual(2);
      expect(value.short.length).toBeLessThanOrEqual(4);
      expect(value.exact).toHaveLength(7);
      expect(value.trimmed).toBe(value.trimmed.trim());
      expect(value.tags.length).toBeGreaterThanOrEqual(2);
      expect(value.none).toEqual([]);
      // Numbers without a bound stay readable.
      expect(value.count).toBeLessThanOrEqual(1000);
    }
  });

  it('picks enum and literal values, and the first option of a union', () => {
    const Session = z.object({ status: z.literal('authenticated'), token: z.string().max(50) });
    const Challenge = z.object({ status: z.literal('mfa_required'), challenge: z.string().max(50) });
    const schema = z.object({
      kind: z.enum(['milonga', 'practica', 'festival']),
      literal: z.literal('Bearer'),
      login: z.discriminatedUnion('status', [Session, Challenge]),
      either: z.union([z.number().int().min(1).max(9), z.string().max(3)]),
    });
    const made = values(schema, 40);
    expect(new Set(made.map((v) => v.kind))).toEqual(new Set(['milonga', 'practica', 'festival']));
    for (const value of made) {
      expect(value.literal).toBe('Bearer');
      expect(value.login.status).toBe('authenticated');
      expect(typeof value.either).toBe('number');
    }
  });

  it('makes nullable values null now and then, and optional fields absent now and then', () => {
    const schema = z.object({ city: z.string().max(20).nullable(), bio: z.string().max(20).optional(), role: z.enum(['a']).nullish() });
    const made = values(schema, 60);
    expect(made.some((v) => v.city === null)).toBe(true);
    expect(made.some((v) => typeof v.city === 'string')).toBe(true);
    expect(made.some((v) => !('bio' in v))).toBe(true);
    expect(made.some((v) => typeof v.bio === 'string')).toBe(true);
  });

  it('handles records, tuples, nested and recursive objects, dates and unknown values', () => {
    interface Comment {
      text: string;
      replies: Comment[];
    }
    const CommentSchema: z.ZodType<Comment> = z.lazy(() => z.object({ text: z.string().max(30), replies: z.array(CommentSchema) }));
    const schema = z.object({
      details: z.record(z.string(), z.unknown()),
      pair: z.tuple([z.string().max(5), z.number().int().min(1).max(2)]),
      comment: CommentSchema,
      at: z.date(),
      key: z.object({ createdAt: z.coerce.date(), id: z.string() }),
      anything: z.unknown(),
    });
    for (const value of values(schema, 10)) {
      expect(Object.keys(value.details).length).toBeGreaterThan(0);
      expect(value.pair).toHaveLength(2);
      expect(value.at).toBeInstanceOf(Date);
    }
  });

  it('tries again until a refinement holds, and says which schema it could not satisfy', () => {
    const ordered = z.object({ startsAt: Timestamp, endsAt: Timestamp }).refine((v) => Date.parse(v.endsAt) > Date.parse(v.startsAt));
    values(ordered, 10);
    const impossible = z
      .string()
      .max(10)
      .refine(() => false)
      .meta({ id: 'Impossible' });
    expect(() => mockValue(impossible, 'x')).toThrow(/No value could be made up for this schema \(Impossible, a string\)/);
  });

  it('gives the same value for the same seed, and another for another seed', () => {
    const schema = z.object({ id: Uuid, name: z.string().max(40), tags: z.array(z.string().max(10)).max(5), at: Timestamp });
    expect(mockValue(schema, 'seed A')).toEqual(mockValue(schema, 'seed A'));
    expect(mockValue(schema, 'seed A')).not.toEqual(mockValue(schema, 'seed B'));
  });
});
