import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoint } from '../../../runtime/contract';
import { createApp, type HandlerFor, type IdempotencyStore, memoryIdempotency } from '../../../runtime/server';
import { AUDIENCE, CURSOR_SECRET, captureLog, expectProblem, ISSUER, PROBLEM_BASE, SECRET } from './fixture';

/**
 * A request with an Idempotency-Key that fails frees its key — also when the handler succeeded
 * but its result could not be sent — so the client's retry runs again instead of waiting 24 h.
 * A store out of reach once the handler has run does not turn the work done into an error.
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

const appWith = (idempotency?: IdempotencyStore, log = captureLog().log) =>
  createApp({
    routes: [{ endpoint: record, handler }],
    services: {},
    api: { errors: {}, problemBaseUrl: PROBLEM_BASE },
    openapi: {},
    auth: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE },
    cursorSecret: CURSOR_SECRET,
    log,
    corsOrigins: [],
    idempotency,
  });
const app = appWith();

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

describe('Idempotency-Key when its store fails after the handler ran', () => {
  it('answers what the handler did, logs the failure, and a retry runs nothing twice', async () => {
    // Redis gone between the claim and storing the answer: the claim stands, the answer is not kept.
    const memory = memoryIdempotency();
    const store: IdempotencyStore = { ...memory, finish: () => Promise.reject(new Error('Connection is closed.')) };
    const captured = captureLog();
    const flaky = appWith(store, captured.log);
    const before = calls;
    const send = () => request(flaky).post('/api/v1/records').set('Idempotency-Key', 'lost-answer').send({ n: 8 });
    const first = await send();
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ data: { value: 8 } });
    expect(captured.lines).toContainEqual(
      expect.objectContaining({ level: 'error', msg: 'storing the answer to an Idempotency-Key failed' }),
    );
    // The key is still claimed: a retry is told to wait, and the work is not done twice.
    expectProblem(await send(), 409, 'CONFLICT');
    expect(calls - before).toBe(1);
  });
});
