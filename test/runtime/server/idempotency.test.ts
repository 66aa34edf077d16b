import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { memoryIdempotency, type IdempotencyStore, type StoredResponse } from '../../../runtime/server';
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

  it('refuses a key on an operation that issues credentials, and stores nothing of its answer', async () => {
    const store = recordingStore();
    const { app, probe } = createFixture({ idempotency: store });
    const res = await request(app).post('/api/v1/secrets').set('Idempotency-Key', 'key-4').send({ label: 'x' });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect((body.errors as { path: string }[])[0]!.path).toBe('/headers/idempotency-key');
    expect(probe.calls.issueSecret).toBeUndefined();
    const plain = await request(app).post('/api/v1/secrets').send({ label: 'x' });
    expect(plain.status).toBe(201);
    expect(store.finished).toEqual([]);
  });

  it('scopes a key to the session: the same key from another session runs for that session', async () => {
    const fixture = createFixture();
    const session1 = await fixture.token('user-1', ['user'], 'session-1');
    const session2 = await fixture.token('user-1', ['user'], 'session-2');
    const send = (token: string) =>
      request(fixture.app)
        .post('/api/v1/attempts')
        .set('Authorization', `Bearer ${token}`)
        .set('Idempotency-Key', 'key-5')
        .send({ code: 'right' });
    expect((await send(session1)).body).toEqual({ data: { sessionId: 'session-1' } });
    const other = await send(session2);
    expect(other.body).toEqual({ data: { sessionId: 'session-2' } });
    expect(other.headers['idempotent-replayed']).toBeUndefined();
    expect(fixture.probe.calls.tryCode).toBe(2);
  });

  it('a replay settles a failure-only limit as the success it was, with its own RateLimit headers', async () => {
    const fixture = createFixture();
    const token = await fixture.token('user-2', ['user'], 'session-3');
    const attempt = (code: string, key?: string) => {
      const req = request(fixture.app).post('/api/v1/attempts').set('Authorization', `Bearer ${token}`);
      if (key) req.set('Idempotency-Key', key);
      return req.send({ code });
    };
    const first = await attempt('right', 'key-6');
    expect(first.status).toBe(200);
    // Replays must not eat the failure budget (2): after three replays, two failures still get 403.
    for (let i = 0; i < 3; i++) {
      const replay = await attempt('right', 'key-6');
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.headers.ratelimit).toBe('"tryCode";r=1;t=60');
    }
    expectProblem(await attempt('wrong'), 403, 'FORBIDDEN');
    expectProblem(await attempt('wrong'), 403, 'FORBIDDEN');
    expectProblem(await attempt('wrong'), 429, 'RATE_LIMITED');
    expect(fixture.probe.calls.tryCode).toBe(3);
  });

  it('stores no rate-limit headers with an answer', async () => {
    const store = recordingStore();
    const fixture = createFixture({ idempotency: store });
    const token = await fixture.token('user-3', ['user'], 'session-4');
    await request(fixture.app)
      .post('/api/v1/attempts')
      .set('Authorization', `Bearer ${token}`)
      .set('Idempotency-Key', 'key-7')
      .send({ code: 'right' });
    expect(store.finished).toHaveLength(1);
    expect(Object.keys(store.finished[0]!.headers ?? {}).map((h) => h.toLowerCase())).not.toContain('ratelimit');
  });
});

/** The memory store, recording every answer it is asked to keep. */
function recordingStore(): IdempotencyStore & { finished: StoredResponse[] } {
  const inner = memoryIdempotency();
  const finished: StoredResponse[] = [];
  return {
    finished,
    begin: (key, fingerprint) => inner.begin(key, fingerprint),
    abandon: (key, fingerprint) => inner.abandon(key, fingerprint),
    async finish(key, fingerprint, response) {
      finished.push(response);
      await inner.finish(key, fingerprint, response);
    },
  };
}
