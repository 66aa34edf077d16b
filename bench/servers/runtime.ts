import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { Event, NewEvent } from '../../contracts/events';
import { endpoint } from '../../runtime/contract';
import { createApp, createLogger } from '../../runtime/server';
import { announce, storedEvent } from '../payload';

/**
 * This runtime with its default stack on: request ids, JSON access log (to stdout), Prometheus
 * histogram, helmet, CORS, body checks, validation, response filtering and the envelope.
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

const app = createApp({
  routes: [{ endpoint: createEvent, handler: ({ body }: { body: Record<string, unknown> }) => storedEvent(body) }],
  services: {},
  api: { errors: {}, problemBaseUrl: 'https://mundotango.life/problems' },
  openapi: {},
  auth: { secret: randomBytes(32), issuer: 'bench', audience: 'bench' },
  cursorSecret: randomBytes(32),
  log: createLogger({ level: 'info' }),
  corsOrigins: ['https://mundotango.life'],
});
const server = createServer(app);
server.listen(0, '127.0.0.1', () => announce((server.address() as { port: number }).port));
