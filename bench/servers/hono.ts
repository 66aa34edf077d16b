import { serve } from '@hono/node-server';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { Event, NewEvent } from '../../contracts/events';
import { PageInfo, PageQuery, Uuid } from '../../runtime/contract';
import { announce, BENCH_PATH, bearerChecker, eventPage, nextKey, storedEvent } from '../payload';

/**
 * @hono/zod-openapi on @hono/node-server: the same Zod schemas check the request and describe the
 * answer; the bearer token is checked with jose in the handler.
 */
const bearerValid = bearerChecker();
const cursor = Buffer.from(JSON.stringify(nextKey)).toString('base64url');
const app = new OpenAPIHono();
const createEvent = createRoute({
  method: 'post',
  path: BENCH_PATH,
  request: { body: { content: { 'application/json': { schema: NewEvent } }, required: true } },
  responses: { 201: { description: 'Created', content: { 'application/json': { schema: z.object({ data: Event }) } } } },
});
app.openapi(createEvent, (c) => c.json({ data: storedEvent(c.req.valid('json')) as z.input<typeof Event> }, 201));
const listEvents = createRoute({
  method: 'get',
  path: BENCH_PATH,
  request: { query: PageQuery },
  responses: {
    200: { description: 'A page', content: { 'application/json': { schema: z.object({ data: z.array(Event), page: PageInfo }) } } },
  },
});
app.openapi(listEvents, (c) =>
  c.json(
    { data: eventPage.slice(0, c.req.valid('query').limit) as z.input<typeof Event>[], page: { nextCursor: cursor, hasMore: true } },
    200,
  ),
);
const getEvent = createRoute({
  method: 'get',
  path: `${BENCH_PATH}/{eventId}`,
  request: { params: z.object({ eventId: Uuid }) },
  responses: {
    200: { description: 'The event', content: { 'application/json': { schema: z.object({ data: Event }) } } },
    401: { description: 'No valid token' },
  },
});
app.openapi(getEvent, async (c) => {
  const valid = await bearerValid(c.req.header('authorization'));
  if (!valid) return c.body(null, 401);
  return c.json({ data: eventPage[0] as z.input<typeof Event> }, 200);
});
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => announce(info.port));
process.on('SIGTERM', () => server.close());
