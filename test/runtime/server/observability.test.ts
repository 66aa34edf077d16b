import { createServer } from 'node:http';
import { messages } from '@electric-sql/pglite';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { pgTable, text } from 'drizzle-orm/pg-core';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerTokenMatches, metricsListener } from '../../../runtime/server';
import { testDatabaseUrl } from '../../support/database';
import { describeWith } from '../../support/services';
import { captureLog, createFixture, waitFor } from './fixture';

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
    const fixture = createFixture({ metricsAccess: 'public' });
    const res = await request(fixture.app).get('/api/v1/items/7');
    await fixture.accessLine(res.headers['x-request-id'] as string);
    const missing = await request(fixture.app).get('/random/abc123');
    await fixture.accessLine(missing.headers['x-request-id'] as string);

    const metrics = await request(fixture.app).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    const text = metrics.text;
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    const bucket = text
      .split('\n')
      .find((l) => l.startsWith('http_request_duration_seconds_count{') && l.includes('route="/api/v1/items/{id}"'));
    expect(bucket).toBeDefined();
    expect(bucket).toContain('method="GET"');
    expect(bucket).toContain('status="200"');
    expect(bucket).toMatch(/ 1$/);
    // One label per contract route, never per concrete path.
    expect(text).not.toContain('route="/api/v1/items/7"');
    expect(text).not.toContain('/random/abc123');
  });
});

describe('who may read /metrics', () => {
  const TOKEN = 'metrics-token-of-at-least-32-characters';

  it('is not served on the API listener unless asked for: 404', async () => {
    const fixture = createFixture();
    const res = await request(fixture.app).get('/metrics');
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('http_request_duration_seconds');
  });

  it('behind a bearer token: 401 without it or with a wrong one, 200 with it', async () => {
    const fixture = createFixture({ metricsAccess: { token: TOKEN } });
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN]) {
      const req = request(fixture.app).get('/metrics');
      const res = await (authorization ? req.set('Authorization', authorization) : req);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(res.text).not.toContain('http_request_duration_seconds');
    }
    const ok = await request(fixture.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('# TYPE http_request_duration_seconds histogram');
  });

  it('on a listener of its own (METRICS_PORT), with or without the token, and nothing else there', async () => {
    const fixture = createFixture();
    await request(fixture.app).get('/api/v1/ping');
    const open = createServer(metricsListener(fixture.app.metrics));
    const guarded = createServer(metricsListener(fixture.app.metrics, { token: TOKEN }));
    try {
      const ok = await request(open).get('/metrics');
      expect(ok.status).toBe(200);
      expect(ok.headers['content-type']).toMatch(/^text\/plain/);
      expect(ok.text).toContain('route="/api/v1/ping"');
      expect((await request(open).get('/api/v1/ping')).status).toBe(404);
      expect((await request(open).post('/metrics')).status).toBe(405);
      expect((await request(guarded).get('/metrics')).status).toBe(401);
      expect((await request(guarded).get('/metrics').set('Authorization', 'Bearer nope')).status).toBe(401);
      expect((await request(guarded).get('/metrics').set('Authorization', `Bearer ${TOKEN}`)).status).toBe(200);
    } finally {
      open.close();
      guarded.close();
    }
  });

  it('compares tokens whole: a prefix, a longer token or another scheme is no match', () => {
    expect(bearerTokenMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerTokenMatches(`bearer  ${TOKEN}`, TOKEN)).toBe(true);
    for (const header of [undefined, '', 'Bearer', 'Bearer ', `Bearer ${TOKEN} extra`, `Token ${TOKEN}`, `Bearer ${TOKEN.slice(1)}`]) {
      expect(bearerTokenMatches(header, TOKEN)).toBe(false);
    }
  });
});

describe('trusted proxies', () => {
  it('refuses to trust every proxy', () => {
    expect(() => createFixture({ trustProxy: true as never })).toThrow(TypeError);
    expect(() => createFixture({ trustProxy: 'true' })).toThrow(/"true" is not accepted/);
    expect(() => createFixture({ trustProxy: '10.0.0.300' })).toThrow(/neither an IP address/);
  });

  it('with a hop count, takes the address the nearest proxy saw: a forged X-Forwarded-For buys no fresh limit', async () => {
    const fixture = createFixture({ trustProxy: 1 });
    const statuses: number[] = [];
    for (const forged of ['1.1.1.1', '2.2.2.2', '3.3.3.3']) {
      statuses.push((await request(fixture.app).get('/api/v1/limited').set('X-Forwarded-For', `${forged}, 203.0.113.9`)).status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect((await request(fixture.app).get('/api/v1/limited').set('X-Forwarded-For', '203.0.113.10')).status).toBe(200);
  });

  it('with address ranges, believes only proxies inside them', async () => {
    const fixture = createFixture({ trustProxy: 'loopback, 10.0.0.0/8' });
    const statuses: number[] = [];
    // The peer (loopback) is trusted; so is 10.1.2.3; the client is the first untrusted address from the right.
    for (const chain of ['9.9.9.9, 198.51.100.7, 10.1.2.3', '8.8.8.8, 198.51.100.7', '198.51.100.7']) {
      statuses.push((await request(fixture.app).get('/api/v1/limited').set('X-Forwarded-For', chain)).status);
    }
    expect(statuses).toEqual([200, 200, 429]);
  });
});

/** A part of the hash no truncation keeps out of a message (PostgreSQL shortens a quoted row). */
const SALT = 'c2FsdHNhbHRzYWx0';
const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g';

describeWith(['postgres'], 'error logs of database errors', () => {
  let client: pg.Client;
  let db: NodePgDatabase;
  const accounts = pgTable('accounts', {
    email: text('email').notNull().unique(),
    passwordHash: text('password_hash').notNull(),
    nick: text('nick'),
  });

  beforeAll(async () => {
    // Real PostgreSQL (as in CI) through Drizzle, with a table only this connection sees.
    client = new pg.Client({ connectionString: testDatabaseUrl });
    await client.connect();
    await client.query(`CREATE TEMP TABLE accounts (email text NOT NULL UNIQUE, password_hash text NOT NULL, nick text CHECK (nick <> 'x'));
      INSERT INTO accounts VALUES ('taken@example.com', 'h', NULL);`);
    db = drizzle({ client });
  });
  afterAll(() => client?.end());

  /** The error a failed Drizzle query throws: a DrizzleQueryError around the driver's own. */
  async function failure(values: { email: string; passwordHash: string; nick?: string | null }): Promise<Error> {
    try {
      await db.insert(accounts).values(values);
    } catch (error) {
      return error as Error;
    }
    throw new Error('the insert was meant to fail');
  }

  /** What PGlite throws for a failed query: its protocol DatabaseError with the query, its parameters and options attached. */
  function pgliteError(): Error {
    const error = new messages.DatabaseError(
      'null value in column "password_hash" of relation "users" violates not-null constraint',
      200,
      'error',
    );
    return Object.assign(error, {
      severity: 'ERROR',
      code: '23502',
      detail: `Failing row contains (7, dancer, ${HASH}, null).`,
      table: 'users',
      column: 'password_hash',
      query: 'insert into "users" ("id", "username", "password_hash") values ($1, $2, $3)',
      params: [7, 'dancer', HASH],
      queryOptions: { rowMode: 'object' },
    });
  }

  it('keeps what explains a database error and drops the parameters: Drizzle on PostgreSQL, Drizzle on PGlite', async () => {
    const errors = [
      await failure({ email: 'taken@example.com', passwordHash: HASH }), // unique: detail quotes the key
      await failure({ email: 'new@example.com', passwordHash: HASH, nick: 'x' }), // check: detail quotes the row
      new DrizzleQueryError(
        'insert into "users" ("id", "username", "password_hash") values ($1, $2, $3)',
        [7, 'dancer', HASH],
        pgliteError(),
      ),
    ];
    // The shapes this guards against, as the drivers make them.
    expect(errors[0]!.message).toContain(HASH);
    expect((errors[0] as { params?: unknown[] }).params).toContain(HASH);
    expect((errors[1] as { cause?: { detail?: string } }).cause?.detail).toContain(SALT);

    const { raw, log } = captureLog();
    log.error({ err: errors[0] }, 'insert failed');
    log.error({ err: errors[1], reqId: 'r1' }, 'insert failed');
    log.error({ err: errors[2] }, 'insert failed');
    log.error(errors[0]); // the error alone: its message becomes the line's msg
    log.warn({ err: errors[2] });
    await waitFor(() => (raw.length >= 5 ? true : undefined));
    const text = raw.join('\n');
    expect(text).not.toContain(SALT);
    expect(text).not.toContain('taken@example.com');

    const [unique, check, embedded, alone, bare] = raw.map((line) => JSON.parse(line) as { msg: string; err: Record<string, unknown> });
    // What explains the failure stays: the statement, the code, the constraint, the table, the stack.
    expect(unique!.err.message).toContain('insert into "accounts"');
    expect(unique!.err.message).toContain('params: [redacted]');
    expect(unique!.err.stack).toMatch(/\n\s+at /);
    expect(unique!.err.query).toContain('insert into "accounts"');
    expect(unique!.err.cause).toMatchObject({
      code: '23505',
      constraint: 'accounts_email_key',
      table: 'accounts',
      detail: 'Key (email)=(…) already exists.',
    });
    expect(unique!.err).not.toHaveProperty('params');
    expect(check!.err.cause).toMatchObject({ code: '23514', constraint: 'accounts_nick_check', detail: 'Failing row contains (…).' });
    expect(embedded!.err.cause).toMatchObject({
      code: '23502',
      table: 'users',
      column: 'password_hash',
      query: expect.stringContaining('insert into "users"'),
    });
    expect(embedded!.err.cause).not.toHaveProperty('params');
    expect(embedded!.err.cause).not.toHaveProperty('queryOptions');
    expect(alone!.msg).toContain('params: [redacted]');
    expect(bare!.msg).toContain('params: [redacted]');
  });
});

describe('error logs of other shapes', () => {
  it('drops query parameters and secret-named fields of other shapes: pg query configs, Redis commands, nested causes', async () => {
    const { raw, log } = captureLog();
    const pgStyle = Object.assign(new Error('duplicate key value violates unique constraint "users_pkey"'), {
      code: '23505',
      severity: 'ERROR',
      query: { text: 'UPDATE users SET password_hash = $1 WHERE id = $2', values: [HASH, 7] },
    });
    const redisStyle = Object.assign(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), {
      command: { name: 'set', args: ['mt:idempotency:k', `{"accessToken":"${HASH}"}`] },
    });
    const wrapped = new Error('register failed', {
      cause: Object.assign(new Error('inner'), { parameters: [HASH], password: HASH, options: { passwordHash: HASH, retries: 2 } }),
    });
    const typeError = Object.assign(new Error(`invalid input syntax for type uuid: "${HASH}"`), { code: '22P02', severity: 'ERROR' });
    const aggregate = new AggregateError([Object.assign(new Error('one'), { params: [HASH] })], 'several');
    for (const err of [pgStyle, redisStyle, wrapped, typeError, aggregate]) log.error({ err }, 'failed');
    log.error({ error: pgStyle }, 'under another key');
    log.error({ note: `Failed query: select 1\nparams: ${HASH}` }, 'pasted by hand');
    await waitFor(() => (raw.length >= 7 ? true : undefined));
    expect(raw.join('\n')).not.toContain(SALT);

    const lines = raw.map((line) => JSON.parse(line) as { err: Record<string, unknown>; error: Record<string, unknown> });
    expect(lines[0]!.err).toMatchObject({ code: '23505', query: { text: 'UPDATE users SET password_hash = $1 WHERE id = $2' } });
    expect(lines[1]!.err.command).toEqual({ name: 'set' });
    expect(lines[2]!.err.cause).toEqual({ type: 'Error', message: 'inner', stack: expect.any(String), options: { retries: 2 } });
    expect(lines[3]!.err.message).toBe('invalid input syntax for type uuid: "[redacted]"');
    expect((lines[4]!.err.errors as unknown[])[0]).toMatchObject({ message: 'one' });
    expect(lines[5]!.error).toMatchObject({ code: '23505' });
  });
});
