import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoint } from '../../../runtime/contract';
import {
  ApiError,
  createApp,
  type HandlerFor,
  type IdempotencyStore,
  memoryIdempotency,
  settlingIdempotency,
} from '../../../runtime/server';
import { AUDIENCE, CURSOR_SECRET, captureLog, expectProblem, ISSUER, PROBLEM_BASE, SECRET } from './fixture';

/**
 * A request with an Idempotency-Key that fails frees its key — also when the handler succeeded
 * but its result could not be sent — so the client's retry runs again instead of waiting 24 h.
 * A store out of reach once the handler has run does not turn the work done into an error, and what
 * it did not take is settled once it is back.
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

const appWith = (idempotency?: IdempotencyStore, log = captureLog().log, unavailable?: (error: unknown) => ApiError | undefined) =>
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
    unavailable,
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
  it('answers what the handler did; a retry replays it; once the store is back it has the answer for every instance', async () => {
    // Redis gone between the claim and storing the answer: the claim stands, the answer is not kept yet.
    const memory = memoryIdempotency();
    let storeDown = true;
    const store: IdempotencyStore = {
      ...memory,
      finish: (...args) => (storeDown ? Promise.reject(new Error('Connection is closed.')) : memory.finish(...args)),
    };
    const captured = captureLog();
    const flaky = appWith(store, captured.log);
    const before = calls;
    const send = (to = flaky) => request(to).post('/api/v1/records').set('Idempotency-Key', 'lost-answer').send({ n: 8 });
    const first = await send();
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ data: { value: 8 } });
    expect(captured.lines).toContainEqual(
      expect.objectContaining({ level: 'error', msg: 'storing the answer to an Idempotency-Key failed' }),
    );
    // This instance keeps the answer: a retry here replays it; another instance (the shared store) is told to wait.
    const retry = await send();
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual({ data: { value: 8 } });
    const other = appWith(memory);
    expectProblem(await send(other), 409, 'CONFLICT');

    storeDown = false;
    let stored = await send(other);
    for (const deadline = Date.now() + 5000; stored.status === 409 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      stored = await send(other);
    }
    expect(stored.status).toBe(201);
    expect(stored.headers['idempotent-replayed']).toBe('true');
    expect(stored.body).toEqual({ data: { value: 8 } });
    expect(captured.lines).toContainEqual(
      expect.objectContaining({ level: 'info', msg: 'an Idempotency-Key the store did not take is settled' }),
    );
    // Nothing was done twice.
    expect(calls - before).toBe(1);
  });

  it('a failure whose key the store could not free: freed once it is back, and the retry runs', async () => {
    const memory = memoryIdempotency();
    let storeDown = true;
    const store: IdempotencyStore = {
      ...memory,
      abandon: (key, fingerprint) => (storeDown ? Promise.reject(new Error('Connection is closed.')) : memory.abandon(key, fingerprint)),
    };
    // As the server's hook does for Redis' errors: a store out of reach is 503, not a 500.
    const flaky = appWith(store, captureLog().log, (error) =>
      error instanceof Error && error.message === 'Connection is closed.'
        ? new ApiError('SERVICE_UNAVAILABLE', 'The store is out of reach', { headers: { 'Retry-After': '5' } })
        : undefined,
    );
    const send = (n: unknown) => request(flaky).post('/api/v1/records').set('Idempotency-Key', 'lost-failure').send({ n });
    // A body the contract refuses is answered before any claim; one the handler fails on is not.
    const saved = calls;
    calls = 0;
    try {
      expectProblem(await send(9), 500, 'INTERNAL');
      // Still down: the key cannot be freed, so the retry cannot be claimed either.
      expectProblem(await send(9), 503, 'SERVICE_UNAVAILABLE');
      storeDown = false;
      const retry = await send(9);
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual({ data: { value: 9 } });
    } finally {
      calls += saved;
    }
  });
});

describe('what an instance keeps for a store out of reach', () => {
  it('is bounded by the bytes of the answers: the oldest goes first, said in the log', async () => {
    let up = false;
    const outage = () => (up ? Promise.resolve() : Promise.reject(new Error('Connection is closed.')));
    const down: IdempotencyStore = {
      begin: () => outage().then(() => ({ state: 'claimed' as const })),
      finish: outage,
      abandon: outage,
    };
    const captured = captureLog();
    const store = settlingIdempotency(down, captured.log);
    const answer = (mib: number) => ({ status: 201, body: 'x'.repeat(mib * 1024 * 1024), headers: {} });
    await expect(store.finish('first', 'A', answer(10))).rejects.toThrow();
    await expect(store.finish('second', 'B', answer(10))).rejects.toThrow();
    // 20 MiB is past the 16 kept: the first answer is dropped, the second still replays here.
    expect(await store.begin('second', 'B')).toMatchObject({ state: 'done' });
    await expect(store.begin('first', 'A')).rejects.toThrow('Connection is closed.');
    expect(captured.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'an Idempotency-Key the store did not take was dropped: it stays claimed until it expires',
      }),
    );
    // Back: what is kept is settled at the next try, and its timer stops.
    up = true;
  });
});
