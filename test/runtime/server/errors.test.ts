import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createFixture, expectProblem, waitFor } from './fixture';

const fixture = createFixture();
const { app } = fixture;

describe('errors and response filtering', () => {
  it('turns an unexpected handler error into 500 INTERNAL that leaks nothing', async () => {
    const res = await request(app).get('/api/v1/boom');
    const body = expectProblem(res, 500, 'INTERNAL');
    expect(body.title).toBe('Internal server error');
    expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'instance', 'requestId', 'status', 'title', 'type']);
    expect(res.text).not.toContain('secret detail');
    expect(res.text).not.toContain('/srv/app.ts');
    expect(res.text).not.toContain('.ts');
    expect(res.text).not.toMatch(/\bat\s+\S+\s+\(/); // no stack frame
    expect(res.text).not.toContain('Error:');
  });

  it('logs the full error, stack included, with the same request id', async () => {
    const res = await request(app).get('/api/v1/boom');
    const requestId = res.body.requestId as string;
    const line = await waitFor(() => fixture.logLines.find((l) => l.reqId === requestId && l.level === 'error'));
    const err = line.err as { message: string; stack: string };
    expect(err.message).toBe('secret detail at /srv/app.ts');
    expect(err.stack).toContain('secret detail at /srv/app.ts');
    expect(err.stack).toMatch(/\n\s+at /);
    const access = await fixture.accessLine(requestId);
    expect(access.status).toBe(500);
  });

  it('drops fields the response schema does not declare (no passwordHash leaves)', async () => {
    const res = await request(app).get('/api/v1/items/7');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { id: 7, title: 'Item 7' } });
    expect(res.text).not.toContain('passwordHash');
    expect(res.text).not.toContain('argon2');
    expect(res.text).not.toContain('internalNote');
  });

  it('answers 500 INTERNAL when a handler result breaks its response schema, and logs it', async () => {
    const res = await request(app).get('/api/v1/broken');
    const body = expectProblem(res, 500, 'INTERNAL');
    expect(res.text).not.toContain('not-a-number');
    const line = await waitFor(() => fixture.logLines.find((l) => l.reqId === body.requestId && l.level === 'error'));
    expect((line.err as { message: string }).message).toContain('broken');
  });

  it('answers an ApiError with a registered domain code with that code and status', async () => {
    const res = await request(app).get('/api/v1/gone');
    const body = expectProblem(res, 410, 'ITEM_GONE');
    expect(body).toMatchObject({ title: 'Item gone', detail: 'The item was archived', instance: '/api/v1/gone' });
  });

  it('answers an ApiError with an unregistered code as 500 INTERNAL without its detail', async () => {
    const res = await request(app).get('/api/v1/unregistered');
    expectProblem(res, 500, 'INTERNAL');
    expect(res.text).not.toContain('NOT_A_REGISTERED_CODE');
    expect(res.text).not.toContain('must not leak');
  });
});
