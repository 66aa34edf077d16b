import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ALLOWED_ORIGIN, createFixture, DEPRECATED_SINCE, expectProblem, SUNSET } from './fixture';

const { app } = createFixture();

describe('rate limits declared in a contract', () => {
  it('counts down in RateLimit headers, then answers 429 RATE_LIMITED with Retry-After', async () => {
    const limitedApp = createFixture().app;
    const first = await request(limitedApp).get('/api/v1/limited');
    const second = await request(limitedApp).get('/api/v1/limited');
    const third = await request(limitedApp).get('/api/v1/limited');

    for (const res of [first, second]) {
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-policy']).toBe('"limited";q=2;w=60');
    }
    expect(first.headers.ratelimit).toMatch(/^"limited";r=1;t=\d+$/);
    expect(second.headers.ratelimit).toMatch(/^"limited";r=0;t=\d+$/);

    expectProblem(third, 429, 'RATE_LIMITED');
    const retryAfter = Number(third.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(third.headers['ratelimit-policy']).toBe('"limited";q=2;w=60');
    expect(third.headers.ratelimit).toMatch(/^"limited";r=0;t=\d+$/);
  });

  it('keeps counts per app and does not limit other operations', async () => {
    const fresh = createFixture().app;
    for (let i = 0; i < 2; i++) await request(fresh).get('/api/v1/limited');
    expect((await request(fresh).get('/api/v1/ping')).status).toBe(200);
    expect((await request(fresh).get('/api/v1/ping')).headers.ratelimit).toBeUndefined();
  });
});

describe('deprecation', () => {
  it('sends Deprecation (@unix seconds) and Sunset (HTTP date) on a deprecated endpoint', async () => {
    const res = await request(app).get('/api/v1/legacy');
    expect(res.status).toBe(200);
    expect(res.headers.deprecation).toBe(`@${Date.parse(DEPRECATED_SINCE) / 1000}`);
    expect(res.headers.deprecation).toBe('@1767225600');
    expect(res.headers.sunset).toBe('Thu, 31 Dec 2026 23:59:59 GMT');
    expect(Date.parse(res.headers.sunset as string)).toBe(Date.parse(SUNSET));
  });

  it('sends neither header on an endpoint that is not deprecated', async () => {
    const res = await request(app).get('/api/v1/ping');
    expect(res.headers.deprecation).toBeUndefined();
    expect(res.headers.sunset).toBeUndefined();
  });
});

describe('request ids', () => {
  it('puts X-Request-Id on every response: success, problem, 404 and /metrics', async () => {
    for (const res of [
      await request(app).get('/api/v1/ping'),
      await request(app).get('/api/v1/items/abc'),
      await request(app).get('/nowhere'),
      await request(app).get('/metrics'),
    ]) {
      expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    }
  });

  it('echoes a well-formed incoming X-Request-Id, also in problem bodies', async () => {
    const ok = await request(app).get('/api/v1/ping').set('X-Request-Id', 'req_01J-abc.123:z');
    expect(ok.headers['x-request-id']).toBe('req_01J-abc.123:z');
    const problem = await request(app).get('/nowhere').set('X-Request-Id', 'trace-77');
    expect(expectProblem(problem, 404, 'NOT_FOUND').requestId).toBe('trace-77');
  });

  it.each([
    ['with spaces', 'bad id with spaces'],
    ['300 characters long', 'a'.repeat(300)],
    ['with a quote and angle brackets', '"><script>'],
  ])('replaces an incoming X-Request-Id %s', async (_name, given) => {
    const res = await request(app).get('/nowhere').set('X-Request-Id', given);
    const id = res.headers['x-request-id'] as string;
    expect(id).not.toBe(given);
    expect(id).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    expect(res.body.requestId).toBe(id);
  });

  it('generates a different id for every request', async () => {
    const a = await request(app).get('/api/v1/ping');
    const b = await request(app).get('/api/v1/ping');
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });
});

describe('standard headers', () => {
  it('sends Server-Timing on contract routes, problems and other routes', async () => {
    for (const res of [await request(app).get('/api/v1/ping'), await request(app).get('/nowhere'), await request(app).get('/metrics')]) {
      expect(res.headers['server-timing']).toMatch(/^app;dur=\d+(\.\d+)?$/);
    }
  });

  it('never sends X-Powered-By', async () => {
    for (const res of [await request(app).get('/api/v1/ping'), await request(app).get('/nowhere'), await request(app).get('/metrics')]) {
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('sends the helmet security headers, also on problems', async () => {
    for (const res of [await request(app).get('/api/v1/ping'), await request(app).get('/nowhere')]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    }
  });
});

describe('CORS', () => {
  it('allows a configured origin and exposes the API headers', async () => {
    const res = await request(app).get('/api/v1/ping').set('Origin', ALLOWED_ORIGIN);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(res.headers.vary).toMatch(/Origin/);
    const exposed = (res.headers['access-control-expose-headers'] as string).split(',').map((h) => h.trim());
    expect(exposed).toEqual(expect.arrayContaining(['X-Request-Id', 'Link', 'Retry-After', 'RateLimit', 'Deprecation', 'Sunset']));
  });

  it('does not allow another origin', async () => {
    const res = await request(app).get('/api/v1/ping').set('Origin', 'https://evil.example.test');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a preflight from the allowed origin, and not for another origin', async () => {
    const ok = await request(app)
      .options('/api/v1/items')
      .set('Origin', ALLOWED_ORIGIN)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type,authorization');
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(ok.headers['access-control-allow-methods']).toContain('POST');

    const other = await request(app)
      .options('/api/v1/items')
      .set('Origin', 'https://evil.example.test')
      .set('Access-Control-Request-Method', 'POST');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
