import Fastify from 'fastify';
import { z } from 'zod';
import { Event, NewEvent } from '../../contracts/events';
import { PageInfo, Uuid } from '../../runtime/contract';
import { announce, BENCH_PATH, bearerChecker, eventPage, nextKey, storedEvent } from '../payload';

/**
 * Fastify 5 as its users run it: the body checked by ajv and the answer written by
 * fast-json-stringify, both compiled from JSON Schemas, here the ones Zod makes of the same
 * contract schemas (what JSON Schema cannot say, such as the years 0001–9999 of a timestamp, is
 * not checked). No logger: Fastify's default. The bearer token is checked with jose in a hook.
 */
const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};
const bearerValid = bearerChecker();
const cursor = Buffer.from(JSON.stringify(nextKey)).toString('base64url');
// `example` (the contracts' documentation) is a keyword ajv's strict mode does not know.
const app = Fastify({ ajv: { customOptions: { keywords: ['example'] } } });
app.post(
  BENCH_PATH,
  {
    schema: {
      body: jsonSchema(NewEvent, 'input'),
      response: { 201: jsonSchema(z.object({ data: Event }), 'output') },
    },
  },
  async (request, reply) => {
    reply.code(201);
    return { data: storedEvent(request.body as Record<string, unknown>) };
  },
);
// The page query as JSON Schema says it (ajv coerces the query string's types).
app.get(
  BENCH_PATH,
  {
    schema: {
      querystring: {
        type: 'object',
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
          cursor: { type: 'string', minLength: 1, maxLength: 512 },
        },
      },
      response: { 200: jsonSchema(z.object({ data: z.array(Event), page: PageInfo }), 'output') },
    },
  },
  async (request) => ({
    data: eventPage.slice(0, (request.query as { limit: number }).limit),
    page: { nextCursor: cursor, hasMore: true },
  }),
);
app.get(
  `${BENCH_PATH}/:eventId`,
  {
    schema: {
      params: jsonSchema(z.object({ eventId: Uuid }), 'input'),
      response: { 200: jsonSchema(z.object({ data: Event }), 'output'), 401: { type: 'object' } },
    },
    preHandler: async (request, reply) => {
      const valid = await bearerValid(request.headers.authorization);
      if (!valid) return reply.code(401).send({});
    },
  },
  async () => ({ data: eventPage[0] }),
);
await app.listen({ port: 0, host: '127.0.0.1' });
announce((app.server.address() as { port: number }).port);
