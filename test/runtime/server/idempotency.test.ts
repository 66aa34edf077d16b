import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createFixture, expectProblem } from './fixture';

/** A POST with an Idempotency-Key runs once; a retry gets the first answer. */
describe('Idempotency-Key', () => {
  const post = (app: ReturnType<typeof createFixture>['app'], key: string | undefined, title: string) => {
    const req = request(app).post('/api/v1/items');
    if (key !== undefined) req.set('Idempotency-Key', key);
    return req.send({ title });
  };

  it('runs the handler once and replays the stored answer to a retry', async () => {
    const { app, probe } = createFixture();
    const first = await post(app, 'key-1', 'Milonga');
    const retry = await post(app, 'key-1', 'Milonga');
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(probe.calls.createItem).toBe(1);
  });

  it('refuses the same key with another request, and keeps keys apart without one', async () => {
    const { app, probe } = createFixture();
    await post(app, 'key-2', 'Milonga');
    expectProblem(await post(app, 'key-2', 'Práctica'), 422, 'IDEMPOTENCY_KEY_REUSED');
    await post(app, undefined, 'Milonga');
    await post(app, undefined, 'Milonga');
    expect(probe.calls.createItem).toBe(3);
  });

  it('refuses a malformed key with a field path', async () => {
    const { app } = createFixture();
    const body = expectProblem(await post(app, 'has spaces in it', 'x'), 400, 'VALIDATION_FAILED');
    expect((body.errors as { path: string }[])[0]!.path).toBe('/headers/idempotency-key');
  });

  it('frees the key when the request fails, so a corrected retry runs', async () => {
    const { app, probe } = createFixture();
    expectProblem(await post(app, 'key-3', ''), 400, 'VALIDATION_FAILED');
    expect((await post(app, 'key-3', 'Milonga')).status).toBe(201);
    expect(probe.calls.createItem).toBe(1);
  });
});
