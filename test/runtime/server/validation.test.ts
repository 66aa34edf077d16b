import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createFixture, errorPaths, expectProblem } from './fixture';

const { app, probe } = createFixture();

interface FieldError {
  path: string;
  code: string;
  message: string;
}

describe('input validation', () => {
  it('answers an invalid body field with 400 VALIDATION_FAILED and a JSON-pointer path', async () => {
    const res = await request(app).post('/api/v1/items').send({ title: '' });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(body.title).toBe('Validation failed');
    expect(body.detail).toBe('1 field is invalid');
    const errors = body.errors as FieldError[];
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ path: '/body/title', code: 'too_small', message: expect.any(String) });
  });

  it('reports every invalid field, counting them in the detail', async () => {
    const res = await request(app)
      .post('/api/v1/items')
      .send({ title: 'x'.repeat(101), startsAt: 'soon' });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body).sort()).toEqual(['/body/startsAt', '/body/title']);
    expect(body.detail).toBe('2 fields are invalid');
  });

  it('reports a missing required field at its path', async () => {
    const res = await request(app).post('/api/v1/items').send({});
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body)).toEqual(['/body/title']);
  });

  it('refuses an unknown body field with code unrecognized_key at /body/<field>', async () => {
    const res = await request(app).post('/api/v1/items').send({ title: 'ok', titel: 'typo' });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ path: '/body/titel', code: 'unrecognized_key', message: expect.any(String) }]);
  });

  it('reports a .refine() failure at the path the refinement names', async () => {
    const res = await request(app).post('/api/v1/items').send({ title: 'ok', startsAt: 10, endsAt: 5 });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ path: '/body/endsAt', code: 'custom', message: 'endsAt must be after startsAt' }]);
  });

  it('reports nested fields with nested pointers', async () => {
    const res = await request(app)
      .post('/api/v1/items')
      .send({ title: 'ok', nested: { note: 5 } });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body)).toEqual(['/body/nested/note']);
  });

  it('reports an invalid query value at /query/<name>', async () => {
    const res = await request(app).get('/api/v1/items?limit=0');
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body)).toEqual(['/query/limit']);
  });

  it('reports a query value over the maximum and a non-number at /query/<name>', async () => {
    const over = await request(app).get('/api/v1/items?limit=101');
    expect(errorPaths(expectProblem(over, 400, 'VALIDATION_FAILED'))).toEqual(['/query/limit']);
    const nan = await request(app).get('/api/v1/items/2?scale=lots');
    expect(errorPaths(expectProblem(nan, 400, 'VALIDATION_FAILED'))).toEqual(['/query/scale']);
  });

  it('reports an invalid path parameter at /params/<name>', async () => {
    const res = await request(app).get('/api/v1/items/abc');
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body)).toEqual(['/params/id']);
    expect(body.instance).toBe('/api/v1/items/abc');
  });

  it('reports a missing declared header at /headers/<name>', async () => {
    const res = await request(app).get('/api/v1/tenant');
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body)).toEqual(['/headers/x-tenant']);
    const ok = await request(app).get('/api/v1/tenant').set('X-Tenant', 'acme');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ data: { tenant: 'acme' } });
  });

  it('coerces path and query strings to numbers before the handler sees them', async () => {
    const res = await request(app).get('/api/v1/items/21?scale=2');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { id: 42, title: 'Item 21' } });
    const seen = probe.inputs.getItem as { params: { id: unknown }; query: { scale: unknown } };
    expect(seen.params.id).toBe(21);
    expect(seen.query.scale).toBe(2);
  });

  it('applies query defaults (limit 20 on a paged endpoint)', async () => {
    const res = await request(app).get('/api/v1/items');
    expect(res.status).toBe(200);
    const seen = probe.inputs.listItems as { page: { limit: number; after: unknown }; query: Record<string, unknown> };
    expect(seen.page).toEqual({ limit: 20, after: null });
    expect(seen.query).toEqual({});
  });

  it('reads a query key declared as an array as an array, even with one value', async () => {
    expect((await request(app).get('/api/v1/filter?tags=tango')).body).toEqual({ data: { tags: ['tango'] } });
    expect((await request(app).get('/api/v1/filter?tags=tango&tags=vals')).body).toEqual({ data: { tags: ['tango', 'vals'] } });
    expect((await request(app).get('/api/v1/filter')).body).toEqual({ data: { tags: [] } });
  });
});
