import { serve } from '@hono/node-server';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { Event, NewEvent } from '../../contracts/events';
import { announce, BENCH_PATH, storedEvent } from '../payload';

/** @hono/zod-openapi on @hono/node-server: the same Zod schemas check the body and describe the answer. */
const app = new OpenAPIHono();
const createEvent = createRoute({
  method: 'post',
  path: BENCH_PATH,
  request: { body: { content: { 'application/json': { schema: NewEvent } }, required: true } },
  responses: { 201: { description: 'Created', content: { 'application/json': { schema: z.object({ data: Event }) } } } },
});
app.openapi(createEvent, (c) => c.json({ data: storedEvent(c.req.valid('json')) as z.input<typeof Event> }, 201));
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => announce(info.port));
process.on('SIGTERM', () => server.close());
