import { once } from 'node:events';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createContractMiddleware, type ContractMiddlewareOptions } from '../../../runtime/server';
import {
  ALLOWED_ORIGIN,
  AUDIENCE,
  BODY_LIMIT,
  CURSOR_SECRET,
  captureLog,
  createFixture,
  createProbe,
  domainErrors,
  errorPaths,
  expectProblem,
  fixtureRoutes,
  ISSUER,
  PROBLEM_BASE,
  SECRET,
} from './fixture';

/**
 * Express users keep their Express: the contract routes mounted with `app.use(api)` after the
 * app's own middleware answer exactly as the standalone app does — same validation, envelopes
 * and problems — while the app's middleware runs first and its own routes still answer.
 */
function mountOptions(): ContractMiddlewareOptions {
  return {
    routes: fixtureRoutes(createProbe()),
    services: {},
    api: { errors: domainErrors, problemBaseUrl: PROBLEM_BASE },
    auth: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE },
    cursorSecret: CURSOR_SECRET,
    log: captureLog().log,
    corsOrigins: [ALLOWED_ORIGIN],
    bodyLimitBytes: BODY_LIMIT,
  };
}

/** An existing Express app: a middleware of its own first (a session library, say), then the API, then its own routes. */
function expressApp(options: { jsonParser: boolean }) {
  const app = express();
  app.use((req, res, next) => {
    res.setHeader('X-Session', 'from-the-app');
    (req as { session?: string }).session = 'abc';
    next();
  });
  if (options.jsonParser) app.use(express.json());
  app.use(createContractMiddleware(mountOptions()));
  app.get('/hello', (req, res) => {
    res.json({ hello: (req as { session?: string }).session });
  });
  app.use((_req, res) => {
    res.status(404).send('the app’s own 404');
  });
  return app;
}

const standalone = createFixture();
const mounted = expressApp({ jsonParser: false });
const token = standalone.token('user-1');

/** Status, content type and body without the per-request id: what must be equal in both modes. */
async function answer(app: Parameters<typeof request>[0], send: (agent: ReturnType<typeof request>) => request.Test) {
  const res = await send(request(app));
  const body = res.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object') delete body.requestId;
  return { status: res.status, type: res.headers['content-type'], body, link: res.headers.link, allow: res.headers.allow };
}

const cases: [string, (agent: ReturnType<typeof request>) => request.Test][] = [
  ['a GET with a filtered body', (a) => a.get('/api/v1/items/7?scale=2')],
  ['a page with its Link', (a) => a.get('/api/v1/items?limit=2&tag=red')],
  ['a valid POST', (a) => a.post('/api/v1/items').set('Authorization', `Bearer ${token}`).send({ title: 'New' })],
  ['invalid input', (a) => a.post('/api/v1/items').set('Authorization', `Bearer ${token}`).send({ title: '', extra: 1 })],
  [
    'malformed JSON',
    (a) => a.post('/api/v1/items').set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send('{"title":'),
  ],
  ['a missing token', (a) => a.get('/api/v1/me')],
  ['a signed-in call', (a) => a.get('/api/v1/me').set('Authorization', `Bearer ${token}`)],
  ['a wrong method', (a) => a.put('/api/v1/items/5').send({})],
  ['a domain error', (a) => a.get('/api/v1/gone')],
  ['a handler that throws', (a) => a.get('/api/v1/boom')],
];

describe('contract routes mounted in an existing Express app', () => {
  it.each(cases)('answers %s exactly as the standalone app does', async (_name, send) => {
    const expected = await answer(standalone.app, send);
    const actual = await answer(mounted, send);
    expect(actual).toEqual(expected);
  });

  it('runs the app’s own middleware first and leaves its other routes to it', async () => {
    const api = await request(mounted).get('/api/v1/items/3');
    expect(api.headers['x-session']).toBe('from-the-app');
    expect(api.headers['x-request-id']).toBeTruthy();
    expect(api.body).toEqual({ data: { id: 3, title: 'Item 3' } });

    expect((await request(mounted).get('/hello')).body).toEqual({ hello: 'abc' });
    const unknown = await request(mounted).get('/api/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toBe('the app’s own 404');
  });

  it('validates a body the app’s express.json() already read, with the same problems', async () => {
    const parsing = expressApp({ jsonParser: true });
    const ok = await request(parsing).post('/api/v1/items').set('Authorization', `Bearer ${token}`).send({ title: 'Parsed' });
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ data: { id: 1, title: 'Parsed' } });

    const bad = await request(parsing).post('/api/v1/items').set('Authorization', `Bearer ${token}`).send({ title: 'x', admin: true });
    const problem = expectProblem(bad, 400, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual([expect.objectContaining({ path: '/body/admin', code: 'unrecognized_key' })]);
  });

  it('holds a body the app’s parsers read to the same rules: JSON only, the size limit, the input rules', async () => {
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use(express.json({ limit: '10mb' }));
    app.use(createContractMiddleware(mountOptions()));
    const post = () => request(app).post('/api/v1/items').set('Authorization', `Bearer ${token}`);

    // A cross-site HTML form is a "simple" request: it must not reach a JSON operation.
    expectProblem(await post().type('form').send('title=from-a-form'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await post().send({ title: 'x'.repeat(BODY_LIMIT) }), 413, 'PAYLOAD_TOO_LARGE');
    const poisoned = await post().set('Content-Type', 'application/json').send('{"title":"x","__proto__":{"admin":true}}');
    expect(errorPaths(expectProblem(poisoned, 400, 'VALIDATION_FAILED'))).toEqual(['/body/__proto__']);
  });

  it('refuses a compressed body the app’s parser inflated: the body limit counts what was sent', async () => {
    const app = express();
    app.use(express.json({ limit: '10mb' }));
    app.use(createContractMiddleware(mountOptions()));
    const server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      // 5 MB of JSON in a few kilobytes on the wire: inflated by the app, refused by the API.
      const zipped = gzipSync(JSON.stringify({ title: 'x', note: ' '.repeat(5_000_000) }));
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: (server.address() as AddressInfo).port,
            method: 'POST',
            path: '/api/v1/items',
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json',
              'content-encoding': 'gzip',
              'content-length': zipped.length,
            },
          },
          (answer) => {
            let text = '';
            answer.on('data', (chunk: Buffer) => {
              text += chunk.toString('utf8');
            });
            answer.on('end', () => resolve({ status: answer.statusCode!, body: text }));
          },
        );
        req.on('error', reject);
        req.end(zipped);
      });
      expect(res.status).toBe(415);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    } finally {
      server.close();
    }
  });

  it('leaves a CORS preflight on a contract path to the app', async () => {
    const res = await request(mounted).options('/api/v1/items').set('Origin', ALLOWED_ORIGIN).set('Access-Control-Request-Method', 'POST');
    expect(res.text).toBe('the app’s own 404');
  });
});
