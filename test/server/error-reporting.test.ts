import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../runtime/server';
import { errorReporter } from '../../server/error-reporting';

/** SENTRY_DSN: off by default; set, unexpected errors go to Sentry with where they happened and nothing else. */
describe('errorReporter', () => {
  it('is off without SENTRY_DSN (nothing is loaded)', async () => {
    let loaded = false;
    const hook = await errorReporter({ NODE_ENV: 'production', SENTRY_DSN: undefined }, async () => {
      loaded = true;
      return {};
    });
    expect(hook).toBeUndefined();
    expect(loaded).toBe(false);
  });

  it('with SENTRY_DSN, starts Sentry without personal data and sends each error with its context', async () => {
    const calls: { init?: Record<string, unknown>; captured: [unknown, Record<string, unknown>][] } = { captured: [] };
    const sentry = {
      init: (options: Record<string, unknown>) => {
        calls.init = options;
      },
      captureException: (error: unknown, hint: Record<string, unknown>) => void calls.captured.push([error, hint]),
    };
    const dsn = 'https://public@o1.ingest.example/2';
    const hook = await errorReporter({ NODE_ENV: 'production', SENTRY_DSN: dsn }, async () => sentry);
    expect(calls.init).toMatchObject({ dsn, environment: 'production', sendDefaultPii: false });
    const error = new Error('boom');
    hook!(error, { requestId: 'r-1', method: 'POST', route: '/api/v1/events', userId: 'u-1' });
    hook!(error, { event: 'message:send' });
    expect(calls.captured).toEqual([
      [error, { tags: { route: '/api/v1/events', method: 'POST' }, extra: { requestId: 'r-1' }, user: { id: 'u-1' } }],
      [error, { tags: { event: 'message:send' }, extra: {} }],
    ]);
  });

  it('refuses to start when SENTRY_DSN is set but @sentry/node is not installed, saying what to do', async () => {
    const refusal = errorReporter({ NODE_ENV: 'production', SENTRY_DSN: 'https://k@o1.ingest.example/2' }, () =>
      Promise.reject(new Error("Cannot find package '@sentry/node'")),
    );
    await expect(refusal).rejects.toThrow(ConfigError);
    await expect(refusal).rejects.toThrow(/npm install @sentry\/node/);
    // Without a loader given, the real import is tried: this project does not depend on it.
    await expect(errorReporter({ NODE_ENV: 'production', SENTRY_DSN: 'https://k@o1.ingest.example/2' })).rejects.toThrow(/not installed/);
  });
});
