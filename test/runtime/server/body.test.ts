import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { BODY_LIMIT, createFixture, errorPaths, expectProblem, listenForFile } from './fixture';

const fixture = createFixture();
const { app, probe } = fixture;

const listening = listenForFile(app);

/** A raw request sent in chunks with `Transfer-Encoding: chunked` (no Content-Length). */
function chunked(path: string, chunks: string[], contentType = 'application/json') {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: unknown }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: listening.port,
        path,
        method: 'POST',
        headers: { 'content-type': contentType, 'transfer-encoding': 'chunked', connection: 'close' },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : undefined });
        });
      },
    );
    // The server may answer 413 and close before every chunk is written; that is not a failure.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

function prototypeKeys(): string[] {
  return Object.getOwnPropertyNames(Object.prototype).sort();
}

describe('JSON body', () => {
  it('accepts a valid JSON body', async () => {
    const res = await request(app).post('/api/v1/items').send({ title: 'Hello' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ data: { id: 1, title: 'Hello' } });
  });

  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    const res = await request(app).post('/api/v1/items').set('Content-Type', 'application/json').send('{"title": "x",');
    expectProblem(res, 400, 'MALFORMED_JSON');
  });

  it('answers a text/plain body with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await request(app).post('/api/v1/items').set('Content-Type', 'text/plain').send('{"title":"x"}');
    expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a form-encoded body with 415', async () => {
    const res = await request(app).post('/api/v1/items').type('form').send({ title: 'x' });
    expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('accepts application/json with a charset and a +json media type', async () => {
    const a = await request(app).post('/api/v1/items').set('Content-Type', 'application/json; charset=utf-8').send('{"title":"a"}');
    expect(a.status).toBe(201);
    const b = await request(app).post('/api/v1/items').set('Content-Type', 'application/merge-patch+json').send('{"title":"b"}');
    expect(b.status).toBe(201);
  });

  it('answers a body over the limit with 413 when Content-Length announces it', async () => {
    const res = await request(app)
      .post('/api/v1/items')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ title: 'x', nested: { note: 'y'.repeat(BODY_LIMIT) } }));
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers a chunked body (no Content-Length) over the limit with 413', async () => {
    const chunks = ['{"title":"x","nested":{"note":"', ...Array.from({ length: 8 }, () => 'y'.repeat(256)), '"}}'];
    const res = await chunked('/api/v1/items', chunks);
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('accepts a chunked body under the limit', async () => {
    const res = await chunked('/api/v1/items', ['{"title":', '"chunked"}']);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ data: { id: 1, title: 'chunked' } });
  });

  it('refuses a top-level "__proto__" key with 400 naming it, and pollutes nothing', async () => {
    const before = prototypeKeys();
    const res = await request(app)
      .post('/api/v1/items')
      .set('Content-Type', 'application/json')
      .send('{"title":"x","__proto__":{"polluted":true}}');
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body)).toEqual(['/body/__proto__']);
    expect(prototypeKeys()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a nested {"constructor": {"prototype": {}}} with 400 naming its path', async () => {
    const before = prototypeKeys();
    const res = await request(app)
      .post('/api/v1/items')
      .set('Content-Type', 'application/json')
      .send('{"title":"x","nested":{"constructor":{"prototype":{"polluted":true}}}}');
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body)).toEqual(['/body/nested/constructor']);
    expect(prototypeKeys()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses the exact {"a": {"constructor": {"prototype": {}}}} shape with the path /body/a/constructor', async () => {
    const res = await request(app)
      .post('/api/v1/items')
      .set('Content-Type', 'application/json')
      .send('{"a":{"constructor":{"prototype":{}}}}');
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body)).toContain('/body/a/constructor');
  });

  it('refuses a "__proto__" key nested in a free-form record', async () => {
    const res = await request(app)
      .post('/api/v1/items')
      .set('Content-Type', 'application/json')
      .send('{"title":"x","meta":{"__proto__":{"isAdmin":true}}}');
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body)).toEqual(['/body/meta/__proto__']);
  });

  it('refuses a "__proto__" key spelled with JSON escapes ("\\u005f_proto__") like the plain one', async () => {
    const res = await request(app)
      .post('/api/v1/items')
      .set('Content-Type', 'application/json')
      .send('{"title":"x","meta":{"\\u005f_proto__":{"isAdmin":true}}}');
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body)).toEqual(['/body/meta/__proto__']);
  });

  it('never hands a handler an own "__proto__" key, even escaped, under a free-form body schema', async () => {
    probe.inputs.rawList = undefined;
    const res = await request(app)
      .post('/api/v1/raw')
      .set('Content-Type', 'application/json')
      .send('[{"\\u005f_proto__":{"isAdmin":true}}]');
    const seen = probe.inputs.rawList as { body: unknown[] } | undefined;
    const first = seen?.body[0];
    expect(typeof first === 'object' && first !== null && Object.hasOwn(first, '__proto__')).toBe(false);
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body)).toEqual(['/body/0/__proto__']);
  });

  it('refuses a plain "__proto__" key inside an array body', async () => {
    const res = await request(app).post('/api/v1/raw').set('Content-Type', 'application/json').send('[1, {"__proto__":{"isAdmin":true}}]');
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body)).toEqual(['/body/1/__proto__']);
  });

  it('treats an empty body on a body endpoint as a missing body (400 at /body)', async () => {
    const res = await request(app).post('/api/v1/items').set('Content-Type', 'application/json');
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(body)).toEqual(['/body']);
  });
});
