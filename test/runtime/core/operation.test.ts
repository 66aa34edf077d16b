import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runtimeErrors } from '../../../runtime/contract';
import { ApiError } from '../../../runtime/core/api-error';
import { checkOutput, createCore } from '../../../runtime/core/operation';
import { memoryLimiters } from '../../../runtime/core/rate-limit';

/**
 * The core every operation runs through, HTTP or socket: one rule decides what is the client's
 * failure (a 4xx other than 429) for failure-only limits, whatever the transport.
 */
const errors = { ...runtimeErrors, WRONG_CODE: { status: 401, title: 'Wrong code' }, BUSY: { status: 429, title: 'Busy' } };

function tryCodeOperation() {
  const core = createCore({ limiters: memoryLimiters, errors });
  const operation = core.compile({
    name: 'tryCode',
    rateLimits: [{ points: 2, windowSeconds: 60, key: 'ip', failuresOnly: true }],
    parts: ['payload'],
    input: { payload: z.object({ code: z.string().max(10) }) },
    output: (result) => checkOutput('tryCode', z.object({ ok: z.boolean() }), result),
  });
  const run = (fail: () => never | { ok: boolean }) =>
    core.execute(operation, {
      subject: { ip: '10.0.0.1', userId: undefined, body: undefined },
      read: () => ({ code: 'x' }),
      handler: fail,
    });
  return { run };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'none';
  } catch (error) {
    return error instanceof ApiError ? error.code : 'not an ApiError';
  }
}

describe('the core executor', () => {
  it('counts a domain 4xx as the client’s failure: the third wrong code is refused before the handler runs', async () => {
    const { run } = tryCodeOperation();
    let calls = 0;
    const wrong = () => {
      calls++;
      throw new ApiError('WRONG_CODE');
    };
    expect(await codeOf(run(wrong))).toBe('WRONG_CODE');
    expect(await codeOf(run(wrong))).toBe('WRONG_CODE');
    expect(await codeOf(run(wrong))).toBe('RATE_LIMITED');
    expect(calls).toBe(2);
  });

  it('does not count a 429, an unregistered code or a crash against the client, nor a success', async () => {
    const { run } = tryCodeOperation();
    expect(
      await codeOf(
        run(() => {
          throw new ApiError('BUSY');
        }),
      ),
    ).toBe('BUSY');
    expect(
      await codeOf(
        run(() => {
          throw new ApiError('NOT_REGISTERED');
        }),
      ),
    ).toBe('NOT_REGISTERED');
    expect(
      await codeOf(
        run(() => {
          throw new Error('crash');
        }),
      ),
    ).toBe('not an ApiError');
    expect(await codeOf(run(() => ({ ok: true })))).toBe('none');
    expect(
      await codeOf(
        run(() => {
          throw new ApiError('WRONG_CODE');
        }),
      ),
    ).toBe('WRONG_CODE');
  });

  it('refuses invalid input before the handler, and a result that breaks the contract after it', async () => {
    const core = createCore({ limiters: memoryLimiters, errors });
    const operation = core.compile({
      name: 'echo',
      rateLimits: [],
      parts: ['payload'],
      input: { payload: z.object({ n: z.number() }) },
      output: (result) => checkOutput('echo', z.object({ n: z.number() }), result),
    });
    const subject = { ip: '10.0.0.2', userId: undefined, body: undefined };
    let ran = false;
    const bad = core.execute(operation, {
      subject,
      read: () => ({ n: 'one' }),
      handler: () => {
        ran = true;
        return {};
      },
    });
    expect(await codeOf(bad)).toBe('VALIDATION_FAILED');
    expect(ran).toBe(false);
    const broken = core.execute(operation, { subject, read: () => ({ n: 1 }), handler: () => ({ n: 'one' }) });
    await expect(broken).rejects.toThrow('The result of echo breaks its response schema');
    const extra = await core.execute(operation, { subject, read: () => ({ n: 1 }), handler: () => ({ n: 1, secret: 'x' }) });
    expect(extra.value).toEqual({ n: 1 });
  });
});
