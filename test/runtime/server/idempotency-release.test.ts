import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoint } from '../../../runtime/contract';
import { createApp, type HandlerFor } from '../../../runtime/server';
import { AUDIENCE, CURSOR_SECRET, captureLog, expectProblem, ISSUER, PROBLEM_BASE, SECRET } from './fixture';

/**
 * A request with an Idempotency-Key that fails frees its key — also when the handler succeeded
 * but its result could not be sent — so the client's retry runs again instead of waiting 24 h.
 */
const record = endpoint({
  method: 'POST',
  version: 1,
  path: '/records',
  operationId: 'record',
  summary: 'Record a value',
  tags: ['records'],
  auth: 'public',
  body: z.object({ n: z.number() }),
  response: { status: 201, body: z.object({ value: z.unknown() }) },
});

let calls = 0;
const handler: HandlerFor<typeof record, object> = ({ body }) => {
  calls++;
  // The first answer cannot be encoded as JSON (a BigInt): a 500 after the handler ran.
  return { value: calls === 1 ? BigInt(body.n) : body.n };
};

const app = createApp({
  routes: [{ endpoint: record, handler }],
  services: {},
  api: { errors: {}, problemBaseUrl: PROBLEM_BASE },
  openapi: {},
  auth: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE },
  cursorSecret: CURSOR_SECRET,
  log: captureLog().log,
  corsOrigins: [],
});

describe('Idempotency-Key after a failed answer', () => {
  it('lets the retry run again rather than answer 409 "still running"', async () => {
    const send = () => request(app).post('/api/v1/records').set('Idempotency-Key', 'retry-me').send({ n: 7 });
    expectProblem(await send(), 500, 'INTERNAL');
    const retry = await send();
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual({ data: { value: 7 } });
    expect(calls).toBe(2);
    const replay = await send();
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(calls).toBe(2);
  });
});
