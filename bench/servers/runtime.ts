import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import express from 'express';
import { z } from 'zod';
import { Event, NewEvent } from '../../contracts/events';
import { endpoint, paginated, Uuid } from '../../runtime/contract';
import { createApp, createContractMiddleware, createLogger } from '../../runtime/server';
import { announce, benchSecret, eventPage, nextKey, storedEvent, TOKEN } from '../payload';

/**
 * This runtime with its default stack on: request ids, JSON access log (to stdout), Prometheus
 * histogram, helmet, CORS, body checks, validation, response filtering and the envelope.
 * `--mounted`: the same routes mounted in an Express app (`app.use(api)` after express.json()),
 * as an Express user who keeps their Express runs them.
 */
const createEvent = endpoint({
  method: 'POST',
  version: 1,
  path: '/events',
  operationId: 'createEvent',
  summary: 'Create an event',
  tags: ['events'],
  auth: 'public',
  body: NewEvent,
  response: { status: 201, body: Event },
});
const listEvents = endpoint({
  method: 'GET',
  version: 1,
  path: '/events',
  operationId: 'listEvents',
  summary: 'List events',
  tags: ['events'],
  auth: 'public',
  response: paginated(Event),
});
const getEvent = endpoint({
  method: 'GET',
  version: 1,
  path: '/events/{eventId}',
  operationId: 'getEvent',
  summary: 'An event, for a signed-in user',
  tags: ['events'],
  auth: 'user',
  params: z.object({ eventId: Uuid }),
  response: { status: 200, body: Event },
});

const options = {
  routes: [
    { endpoint: createEvent, handler: ({ body }: { body: Record<string, unknown> }) => storedEvent(body) },
    {
      endpoint: listEvents,
      handler: ({ page }: { page: { limit: number } }) => ({ items: eventPage.slice(0, page.limit), next: nextKey }),
    },
    { endpoint: getEvent, handler: () => eventPage[0] },
  ],
  services: {},
  api: { errors: {}, problemBaseUrl: 'https://example.com/problems' },
  auth: { secret: benchSecret(), ...TOKEN },
  cursorSecret: randomBytes(32),
  log: createLogger({ level: 'info' }),
  corsOrigins: ['https://example.com'],
};
let app;
if (process.argv.includes('--mounted')) {
  app = express();
  app.use(express.json());
  app.use(createContractMiddleware(options));
} else {
  app = createApp({ ...options, openapi: {} });
}
const server = createServer(app);
server.listen(0, '127.0.0.1', () => announce((server.address() as { port: number }).port));
