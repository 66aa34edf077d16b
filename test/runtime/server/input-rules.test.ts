import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { Problem } from '../../../runtime/contract';
import { createFixture, errorPaths, expectProblem, listenForFile } from './fixture';

// The API-wide input rules: every text is well-formed Unicode without NUL, bodies are strict
// UTF-8, query strings are valid percent-encoding, and problems stay within their own schema.
const fixture = createFixture({ bodyLimitBytes: 200_000 });
const { app, probe } = fixture;

const listening = listenForFile(app);

/** Sends exact bytes as a JSON body (supertest would re-encode a string). */
function postBytes(path: string, body: Buffer) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: listening.port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function createCalls(): number {
  return probe.calls.createItem ?? 0;
}

describe('text in bodies', () => {
  it('refuses NUL in a field, naming the field, and the handler never runs', async () => {
    const before = createCalls();
    const res = await request(app).post('/api/v1/items').set('content-type', 'application/json').send('{"title":"a\\u0000b"}');
    const problem = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(errorPaths(problem)).toEqual(['/body/title']);
    expect((problem.errors as { code: string }[])[0]!.code).toBe('forbidden_character');
    expect(createCalls()).toBe(before);
  });

  it('refuses NUL in a nested field and in a key', async () => {
    const nested = await request(app)
      .post('/api/v1/items')
      .set('content-type', 'application/json')
      .send('{"title":"t","nested":{"note":"\\u0000"}}');
    expect(errorPaths(expectProblem(nested, 400, 'VALIDATION_FAILED'))).toEqual(['/body/nested/note']);
    const key = await request(app)
      .post('/api/v1/items')
      .set('content-type', 'application/json')
      .send('{"title":"t","meta":{"k\\u0000":1}}');
    expect(errorPaths(expectProblem(key, 400, 'VALIDATION_FAILED'))).toEqual(['/body/meta/k\ufffd']);
  });

  it('refuses lone surrogates, and keeps a real surrogate pair', async () => {
    for (const text of ['x\\ud800y', 'x\\udfffy', '\\ud83d']) {
      const res = await request(app).post('/api/v1/items').set('content-type', 'application/json').send(`{"title":"${text}"}`);
      const problem = expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(problem.errors).toEqual([{ path: '/body/title', code: 'invalid_unicode', message: expect.any(String) }]);
    }
    const ok = await request(app).post('/api/v1/items').set('content-type', 'application/json').send('{"title":"\\ud83d\\udc83 milonga"}');
    expect(ok.status).toBe(201);
    expect(probe.inputs.createItem).toMatchObject({ body: { title: '💃 milonga' } });
  });

  it('refuses invalid UTF-8 bytes as malformed JSON instead of storing U+FFFD', async () => {
    const before = createCalls();
    for (const bytes of [[0xff], [0xc3], [0xed, 0xa0, 0x80]]) {
      const body = Buffer.concat([Buffer.from('{"title":"a'), Buffer.from(bytes), Buffer.from('"}')]);
      const res = await postBytes('/api/v1/items', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'MALFORMED_JSON', detail: 'The body is not valid UTF-8' });
    }
    expect(createCalls()).toBe(before);
    const fine = await postBytes('/api/v1/items', Buffer.from('{"title":"milonga en San Telmo ñ 💃"}'));
    expect(fine.status).toBe(201);
  });

  it('applies the rules to free-form values too', async () => {
    const res = await request(app).post('/api/v1/raw').set('content-type', 'application/json').send('[1, {"a": ["ok", "\\u0000"]}]');
    expect(errorPaths(expectProblem(res, 400, 'VALIDATION_FAILED'))).toEqual(['/body/1/a/1']);
  });
});

describe('text in queries, paths and headers', () => {
  it('refuses NUL in a query value, naming it', async () => {
    const res = await request(app).get('/api/v1/items?tag=a%00');
    expect(errorPaths(expectProblem(res, 400, 'VALIDATION_FAILED'))).toEqual(['/query/tag']);
  });

  it('refuses a malformed or non-UTF-8 percent-encoding in the query', async () => {
    for (const query of ['tag=%E0%A4%A', 'tag=%ZZ', 'tag=%', 'tag=%FF', 'tag=%ED%A0%80', '%E0=1']) {
      const res = await request(app).get(`/api/v1/items?${query}`);
      const problem = expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(problem.errors).toEqual([{ path: '/query', code: 'invalid_encoding', message: expect.any(String) }]);
    }
  });

  it('still reads well-formed queries: plus as space, repeated keys as arrays, encoded UTF-8', async () => {
    const res = await request(app).get('/api/v1/filter?tags=a+b&tags=%C3%B1&tags=%F0%9F%92%83');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { tags: ['a b', 'ñ', '💃'] } });
  });

  it('a query key spelling __proto__ is an ordinary unknown key', async () => {
    const res = await request(app).get('/api/v1/filter?__proto__=x&__proto__=y&tags=a');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { tags: ['a'] } });
  });
});

describe('problems stay within the Problem schema', () => {
  it('clips the instance of a 4,000-character path', async () => {
    const res = await request(app).get(`/api/v1/${'a'.repeat(4000)}`);
    const problem = expectProblem(res, 404, 'NOT_FOUND');
    expect((problem.instance as string).length).toBeLessThanOrEqual(2000);
    expect((problem.instance as string).startsWith('/api/v1/aaa')).toBe(true);
    expect(Problem.safeParse(problem).success).toBe(true);
  });

  it('lists at most 100 field errors and says how many there were', async () => {
    const fields = Object.fromEntries(Array.from({ length: 9000 }, (_, i) => [`unknown${i}`, 1]));
    const res = await request(app)
      .post('/api/v1/items')
      .send({ title: 't', ...fields });
    const problem = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(problem.errors).toHaveLength(100);
    expect(problem.detail).toBe('9000 fields are invalid (the first 100 are listed, 8900 more are not)');
    expect(res.text.length).toBeLessThan(20_000);
    expect(Problem.safeParse(problem).success).toBe(true);
  });

  it('clips a field error that echoes a huge key, without splitting a surrogate pair', async () => {
    const key = `${'💃'.repeat(600)}x`;
    const res = await request(app)
      .post('/api/v1/items')
      .send({ title: 't', [key]: 1 });
    const problem = expectProblem(res, 400, 'VALIDATION_FAILED');
    const [error] = problem.errors as { path: string; message: string }[];
    expect(error!.path.length).toBeLessThanOrEqual(500);
    expect(error!.path.endsWith('💃…')).toBe(true);
    expect(Problem.safeParse(problem).success).toBe(true);
  });
});
