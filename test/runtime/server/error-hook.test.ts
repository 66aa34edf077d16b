import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createFixture } from './fixture';

/** createApp's onUnexpectedError: where a 500's error goes besides the log (an error tracker). */
describe('onUnexpectedError', () => {
  it('gets the error of a 500 with where it happened, and nothing for a client mistake or a known refusal', async () => {
    const reported: { error: unknown; context: Record<string, unknown> }[] = [];
    const { app } = createFixture({ onUnexpectedError: (error, context) => void reported.push({ error, context }) });
    const crash = await request(app).get('/api/v1/boom');
    expect(crash.status).toBe(500);
    expect(reported).toHaveLength(1);
    expect((reported[0]!.error as Error).message).toBe('secret detail at /srv/app.ts');
    expect(reported[0]!.context).toEqual({ requestId: crash.body.requestId, method: 'GET', route: '/api/v1/boom' });

    expect((await request(app).get('/api/v1/items/not-a-number')).status).toBe(400);
    expect((await request(app).get('/api/v1/gone')).status).toBe(410);
    expect(reported).toHaveLength(1);
  });

  it('a hook that throws changes nothing for the client, and is logged', async () => {
    const { app, logLines } = createFixture({
      onUnexpectedError: () => {
        throw new Error('tracker down');
      },
    });
    const crash = await request(app).get('/api/v1/boom');
    expect(crash.status).toBe(500);
    expect(crash.body.code).toBe('INTERNAL');
    expect(logLines.some((line) => line.msg === 'the error-reporting hook failed')).toBe(true);
  });
});
