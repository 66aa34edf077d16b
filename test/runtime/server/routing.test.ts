import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createFixture, expectProblem } from './fixture';

const { app } = createFixture();

function allowSet(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean)
    .sort();
}

describe('routing: 404 and 405', () => {
  it('answers an unknown route with 404 NOT_FOUND as a problem', async () => {
    const res = await request(app).get('/api/v1/nothing-here?x=1');
    const body = expectProblem(res, 404, 'NOT_FOUND');
    expect(body.instance).toBe('/api/v1/nothing-here');
    expect(body.title).toBe('Not found');
  });

  it('answers an unknown route outside /api with 404 too', async () => {
    const res = await request(app).post('/wp-login.php').send({ a: 1 });
    expectProblem(res, 404, 'NOT_FOUND');
  });

  it('answers a path that is not valid URL encoding with 404', async () => {
    const res = await request(app).get('/api/v1/items/%E0%A4%A');
    expectProblem(res, 404, 'NOT_FOUND');
  });

  it('answers a wrong method on a parameterised path with 405 and an Allow header (HEAD with GET)', async () => {
    const res = await request(app).put('/api/v1/items/5').send({ title: 'x' });
    const body = expectProblem(res, 405, 'METHOD_NOT_ALLOWED');
    expect(allowSet(res.headers.allow)).toEqual(['DELETE', 'GET', 'HEAD']);
    expect(body.instance).toBe('/api/v1/items/5');
  });

  it('answers a wrong method on a static path with 405 listing its methods', async () => {
    const res = await request(app).patch('/api/v1/items').send({});
    expectProblem(res, 405, 'METHOD_NOT_ALLOWED');
    expect(allowSet(res.headers.allow)).toEqual(['GET', 'HEAD', 'POST']);
  });

  it('does not list HEAD for a path without GET', async () => {
    const res = await request(app).get('/api/v1/submit');
    expectProblem(res, 405, 'METHOD_NOT_ALLOWED');
    expect(allowSet(res.headers.allow)).toEqual(['POST']);
  });

  it('serves HEAD on a GET route, without a body', async () => {
    const res = await request(app).head('/api/v1/items/3');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.text ?? '').toBe('');
  });

  it('matches a path with a trailing slash to its route', async () => {
    const res = await request(app).get('/api/v1/items/3/');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { id: 3, title: 'Item 3' } });
  });
});
