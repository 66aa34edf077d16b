import { afterAll, describe, expect, it } from 'vitest';
import { type IdempotencyStore, memoryIdempotency, redisIdempotency } from '../../../runtime/server';
import { describeWith } from '../../support/services';
import { redisRun } from './http-client';

/**
 * What an Idempotency-Key store does with a settlement that comes late (a handler past its timeout,
 * one made again after an outage): it never overwrites an answer or another request's claim, and
 * never frees a key it does not hold. The same rules in memory and in Redis (one script each).
 */
const answer = (n: number) => ({ status: 201, body: JSON.stringify({ data: { n } }), headers: { 'content-type': 'application/json' } });

function rules(store: () => IdempotencyStore) {
  let next = 0;
  const key = () => `key-${++next}`;

  it('stores the answer of the request holding the claim, and replays it', async () => {
    const k = key();
    expect(await store().begin(k, 'A')).toEqual({ state: 'claimed' });
    await store().finish(k, 'A', answer(1));
    expect(await store().begin(k, 'A')).toEqual({ state: 'done', fingerprint: 'A', response: answer(1) });
  });

  it('a late answer of another request overwrites neither a claim nor an answer', async () => {
    const k = key();
    await store().begin(k, 'A');
    await store().finish(k, 'B', answer(2));
    expect(await store().begin(k, 'A')).toEqual({ state: 'in-progress' });
    await store().finish(k, 'A', answer(1));
    await store().finish(k, 'A', answer(3));
    expect(await store().begin(k, 'A')).toMatchObject({ state: 'done', response: answer(1) });
  });

  it('frees only its own claim: not an answer, not another request’s claim', async () => {
    const k = key();
    await store().begin(k, 'A');
    await store().abandon(k, 'B');
    expect(await store().begin(k, 'A')).toEqual({ state: 'in-progress' });
    await store().abandon(k, 'A');
    expect(await store().begin(k, 'A')).toEqual({ state: 'claimed' });
    await store().finish(k, 'A', answer(1));
    await store().abandon(k, 'A');
    expect(await store().begin(k, 'A')).toMatchObject({ state: 'done' });
  });

  it('keeps the answer of work done when its claim is gone (expired, or a store that lost it)', async () => {
    const k = key();
    await store().finish(k, 'A', answer(4));
    expect(await store().begin(k, 'A')).toMatchObject({ state: 'done', response: answer(4) });
  });
}

describe('in memory', () => {
  const memory = memoryIdempotency();
  rules(() => memory);
});

describeWith(['redis'], 'in Redis', () => {
  const run = redisRun('idempotency');
  const store = redisIdempotency(run.inspector, run.prefix);
  afterAll(() => run.sweep());
  rules(() => store);
});
