import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createFixture, waitFor } from './fixture';

describe('access log', () => {
  it('writes exactly one JSON line per request with method, contract route, status, durationMs and reqId', async () => {
    const fixture = createFixture();
    const res = await request(fixture.app).get('/api/v1/items/7?scale=1');
    const reqId = res.headers['x-request-id'] as string;
    const line = await fixture.accessLine(reqId);
    expect(line).toMatchObject({ msg: 'request', method: 'GET', route: '/api/v1/items/{id}', status: 200, reqId });
    expect(typeof line.durationMs).toBe('number');
    expect(line.durationMs as number).toBeGreaterThanOrEqual(0);
    // Give a stray second line the chance to appear before counting.
    await request(fixture.app).get('/api/v1/ping');
    await waitFor(() => fixture.logLines.find((l) => l.msg === 'request' && l.route === '/api/v1/ping'));
    expect(fixture.logLines.filter((l) => l.msg === 'request' && l.reqId === reqId)).toHaveLength(1);
  });

  it('logs the status of problems, and the route of an unmatched path as a fixed label', async () => {
    const fixture = createFixture();
    const invalid = await request(fixture.app).post('/api/v1/items').send({});
    expect(await fixture.accessLine(invalid.headers['x-request-id'] as string)).toMatchObject({
      method: 'POST',
      route: '/api/v1/items',
      status: 400,
    });
    const missing = await request(fixture.app).get('/no/such/path');
    const line = await fixture.accessLine(missing.headers['x-request-id'] as string);
    expect(line).toMatchObject({ method: 'GET', status: 404, route: 'unmatched' });
  });

  it('logs one line per request under load of several requests', async () => {
    const fixture = createFixture();
    const responses = await Promise.all(Array.from({ length: 5 }, (_, i) => request(fixture.app).get(`/api/v1/items/${i + 1}`)));
    for (const res of responses) {
      await fixture.accessLine(res.headers['x-request-id'] as string);
    }
    const ids = responses.map((r) => r.headers['x-request-id'] as string);
    expect(fixture.logLines.filter((l) => l.msg === 'request' && ids.includes(l.reqId as string))).toHaveLength(5);
  });

  it('never holds the Authorization header, the token or the query string', async () => {
    const fixture = createFixture();
    const token = await fixture.token('user-1', ['user']);
    const ok = await request(fixture.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`);
    expect(ok.status).toBe(200);
    const refused = await request(fixture.app).get('/api/v1/admin/stats').set('Authorization', `Bearer ${token}`);
    expect(refused.status).toBe(403);
    const bad = await request(fixture.app).get('/api/v1/me').set('Authorization', `Bearer ${token}x`);
    expect(bad.status).toBe(401);
    const query = await request(fixture.app).get('/api/v1/items?tag=query-secret-value');
    for (const res of [ok, refused, bad, query]) await fixture.accessLine(res.headers['x-request-id'] as string);

    const text = fixture.rawLog.join('\n');
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split('.')[2]!);
    expect(text.toLowerCase()).not.toContain('authorization');
    expect(text.toLowerCase()).not.toContain('bearer');
    expect(text).not.toContain('query-secret-value');
  });
});

describe('/metrics', () => {
  it('exposes http_request_duration_seconds labelled with the contract route after a request', async () => {
    const fixture = createFixture();
    const res = await request(fixture.app).get('/api/v1/items/7');
    await fixture.accessLine(res.headers['x-request-id'] as string);
    const missing = await request(fixture.app).get('/random/abc123');
    await fixture.accessLine(missing.headers['x-request-id'] as string);

    const metrics = await request(fixture.app).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    const text = metrics.text;
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    const bucket = text.split('\n').find((l) => l.startsWith('http_request_duration_seconds_count{') && l.includes('route="/api/v1/items/{id}"'));
    expect(bucket).toBeDefined();
    expect(bucket).toContain('method="GET"');
    expect(bucket).toContain('status="200"');
    expect(bucket).toMatch(/ 1$/);
    // One label per contract route, never per concrete path.
    expect(text).not.toContain('route="/api/v1/items/7"');
    expect(text).not.toContain('/random/abc123');
  });
});
