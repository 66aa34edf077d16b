import Fastify from 'fastify';
import { z } from 'zod';
import { Event, NewEvent } from '../../contracts/events';
import { announce, BENCH_PATH, storedEvent } from '../payload';

/**
 * Fastify 5 as its users run it: the body checked by ajv and the answer written by
 * fast-json-stringify, both compiled from JSON Schemas, here the ones Zod makes of the same
 * contract schemas (what JSON Schema cannot say, such as the years 0001–9999 of a timestamp, is
 * not checked). No logger: Fastify's default.
 */
const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};
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
await app.listen({ port: 0, host: '127.0.0.1' });
announce((app.server.address() as { port: number }).port);
