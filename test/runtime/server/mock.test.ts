import { Writable } from 'node:stream';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineApi, defineErrors, endpoint, listContracts, paginated, upload, Uuid } from '../../../runtime/contract';
import { createLogger, createMockApp, type RouteDefinition } from '../../../runtime/server';

/** A small API of its own (nothing of Mundo Tango), served by the toolkit's mock. */
const Note = z.object({ id: Uuid, title: z.string().min(1).max(80), pinned: z.boolean(), createdAt: z.iso.datetime() });
const exampleNote = { id: '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d', title: 'Shopping', pinned: true, createdAt: '2026-01-01T10:00:00.000Z' };

const notes = {
  signIn: endpoint({
    method: 'POST',
    version: 1,
    path: '/sign-in',
    operationId: 'signIn',
    summary: 'Sign in',
    tags: ['notes'],
    auth: 'public',
    idempotencyKey: false,
    body: z.object({ name: z.string().min(1).max(20) }),
    response: { status: 200, body: z.object({ session: z.object({ token: z.string().max(4096), ttl: z.number().int() }) }) },
    errors: ['WRONG_NAME'],
  }),
  getNote: endpoint({
    method: 'GET',
    version: 1,
    path: '/notes/{noteId}',
    operationId: 'getNote',
    summary: 'One note',
    tags: ['notes'],
    auth: 'public',
    params: z.object({ noteId: Uuid }),
    response: { status: 200, body: Note },
    errors: ['NOTE_GONE'],
  }),
  getPinned: endpoint({
    method: 'GET',
    version: 1,
    path: '/notes/pinned',
    operationId: 'getPinned',
    summary: 'The pinned note',
    tags: ['notes'],
    auth: 'public',
    response: { status: 200, body: Note },
    examples: { response: exampleNote },
  }),
  listNotes: endpoint({
    method: 'GET',
    version: 1,
    path: '/notes',
    operationId: 'listNotes',
    summary: 'My notes',
    tags: ['notes'],
    auth: 'user',
    query: z.object({ pinned: z.string().max(5).pipe(z.stringbool()).optional() }),
    response: paginated(Note),
  }),
  createNote: endpoint({
    method: 'POST',
    version: 1,
    path: '/notes',
    operationId: 'createNote',
    summary: 'Write a note',
    tags: ['notes'],
    auth: 'user',
    body: z.object({ title: z.string().min(1).max(80) }),
    response: { status: 201, body: Note },
    rateLimit: { points: 5, windowSeconds: 60, key: 'user' },
  }),
  purge: endpoint({
    method: 'DELETE',
    version: 1,
    path: '/notes',
    operationId: 'purge',
    summary: 'Delete every note',
    tags: ['admin'],
    auth: { roles: ['admin'] },
    response: { status: 204 },
  }),
  exportNotes: endpoint({
    method: 'GET',
    version: 1,
    path: '/notes/export',
    operationId: 'exportNotes',
    summary: 'Every note as NDJSON',
    tags: ['notes'],
    auth: 'user',
    response: { status: 200, stream: { item: Note } },
  }),
  noteFile: endpoint({
    method: 'GET',
    version: 1,
    path: '/notes/{noteId}/file',
    operationId: 'noteFile',
    summary: 'A note as a file',
    tags: ['notes'],
    auth: 'public',
    params: z.object({ noteId: Uuid }),
    response: { status: 200, file: { types: ['text/plain'] } },
  }),
  attach: upload({
    version: 1,
    path: '/attachments',
    operationId: 'attach',
    summary: 'Attach a file',
    tags: ['notes'],
    auth: 'user',
    types: { 'image/png': { maxBytes: 1024 } },
    response: { body: z.object({ id: Uuid }) },
  }),
};

const notesApi = defineApi({
  info: { title: 'Notes', version: '1.0.0', description: 'Notes', license: { name: 'MIT' } },
  servers: [{ url: '/', description: 'here' }],
  basePath: '/v{version}',
  tags: { notes: 'Notes', admin: 'Admin' },
  problemBaseUrl: 'https://notes.example/problems',
  errors: defineErrors({ WRONG_NAME: { status: 401, title: 'Wrong name' }, NOTE_GONE: { status: 410, title: 'Note gone' } }),
  modules: { notes },
});

/** What a generated `createRoutes` does: each operation's handler, by first tag and operationId. */
function createRoutes(handlers: Record<string, Record<string, RouteDefinition['handler']>>): RouteDefinition[] {
  return listContracts(notesApi).map(({ endpoint: e }) => ({ endpoint: e, handler: handlers[e.tags[0]]![e.operationId]! }));
}

const quiet = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });

function mockApp(seed = 'test seed', roles: string[] = []) {
  return createMockApp({
    api: notesApi,
    createRoutes: createRoutes as (handlers: never) => RouteDefinition[],
    openapi: { openapi: '3.1.0', info: { title: 'Notes', version: '1' } },
    log: quiet,
    corsOrigins: [],
    mock: {
      seed,
      user: { roles },
      tokens: {
        issuer: 'https://notes.example',
        audience: 'notes',
        ttlSeconds: 600,
        accessTokenFields: ['token'],
        lifetimeFields: ['ttl'],
      },
    },
  });
}

const app = mockApp();
const noteId = '7c1e4b2a-5d3f-4e8a-9b6c-1a2d3e4f5a6b';

async function signIn(target = app): Promise<string> {
  const res = await request(target).post('/v1/sign-in').send({ name: 'ana' });
  expect(res.status).toBe(200);
  return res.body.data.session.token;
}

describe('createMockApp', () => {
  it('answers a made-up value valid against the response schema, the same for the same seed and request', async () => {
    const first = await request(app).get(`/v1/notes/${noteId}`);
    expect(first.status).toBe(200);
    expect(Note.parse(first.body.data)).toEqual(first.body.data);
    expect((await request(app).get(`/v1/notes/${noteId}`)).body).toEqual(first.body);
    expect((await request(mockApp()).get(`/v1/notes/${noteId}`)).body).toEqual(first.body);
    expect((await request(mockApp('another seed')).get(`/v1/notes/${noteId}`)).body).not.toEqual(first.body);
    expect((await request(app).get('/v1/notes/0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d')).body).not.toEqual(first.body);
  });

  it("answers the contract's example when it has one, and makes one up with Prefer: dynamic=true", async () => {
    expect((await request(app).get('/v1/notes/pinned')).body).toEqual({ data: exampleNote });
    const dynamic = await request(app).get('/v1/notes/pinned').set('Prefer', 'dynamic=true');
    expect(dynamic.body.data).not.toEqual(exampleNote);
    expect(Note.safeParse(dynamic.body.data).success).toBe(true);
  });

  it('validates requests as the runtime does, before anything is made up', async () => {
    const res = await request(app).get('/v1/notes/not-a-uuid');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: '/params/noteId' }] });
    const unknownField = await request(app).post('/v1/sign-in').send({ name: 'ana', nmae: 'x' });
    expect(unknownField.body).toMatchObject({ status: 400, errors: [{ path: '/body/nmae', code: 'unrecognized_key' }] });
  });

  it('hands out access tokens it accepts, naming the mock user with its roles', async () => {
    expect((await request(app).get('/v1/notes')).status).toBe(401);
    const signedIn = await request(app).post('/v1/sign-in').send({ name: 'ana' });
    expect(signedIn.body.data.session.ttl).toBe(600);
    const token = signedIn.body.data.session.token as string;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string; roles: string[] };
    expect(claims).toMatchObject({ iss: 'https://notes.example', aud: 'notes', roles: [] });
    const created = await request(app).post('/v1/notes').set('Authorization', `Bearer ${token}`).send({ title: 'Milk' });
    expect(created.status).toBe(201);
    expect(created.headers['ratelimit-policy']).toBe('"createNote";q=5;w=60');
    expect((await request(app).delete('/v1/notes').set('Authorization', `Bearer ${token}`)).status).toBe(403);

    const admin = mockApp('test seed', ['admin']);
    const adminToken = await signIn(admin);
    expect((await request(admin).delete('/v1/notes').set('Authorization', `Bearer ${adminToken}`)).status).toBe(204);
    // Another seed, another key: its tokens are refused.
    expect((await request(mockApp('another seed')).get('/v1/notes').set('Authorization', `Bearer ${token}`)).status).toBe(401);
  });

  it('pages with working cursors and Link headers, ending after the configured pages', async () => {
    const token = await signIn();
    const sizes: number[] = [];
    const ids = new Set<string>();
    let path: string | undefined = '/v1/notes?limit=4&pinned=true';
    while (path) {
      const res = await request(app).get(path).set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
      sizes.push(res.body.data.length);
      for (const note of res.body.data) ids.add(Note.parse(note).id);
      const link = /^<([^>]+)>; rel="next"$/.exec(res.headers.link ?? '');
      expect(res.body.page.hasMore).toBe(link !== null);
      if (link) expect(link[1]).toContain('pinned=true');
      path = link?.[1];
    }
    expect(sizes).toEqual([4, 4, 2]);
    expect(ids.size).toBe(10);
    const forged = await request(app).get('/v1/notes?cursor=abc.def').set('Authorization', `Bearer ${token}`);
    expect(forged.body).toMatchObject({ status: 400, code: 'INVALID_CURSOR' });
  });

  it('answers the documented problem a Prefer: code=… asks for, and a 400 naming the documented codes otherwise', async () => {
    const gone = await request(app).get(`/v1/notes/${noteId}`).set('Prefer', 'code=NOTE_GONE');
    expect(gone.status).toBe(410);
    expect(gone.headers['content-type']).toBe('application/problem+json');
    expect(gone.headers['preference-applied']).toBe('code=NOTE_GONE');
    expect(gone.body).toMatchObject({
      type: 'https://notes.example/problems/note-gone',
      title: 'Note gone',
      status: 410,
      code: 'NOTE_GONE',
      instance: `/v1/notes/${noteId}`,
    });
    expect(gone.body.requestId).toBe(gone.headers['x-request-id']);
    // Runtime codes count as documented too.
    const limited = await request(app)
      .post('/v1/notes')
      .set('Authorization', `Bearer ${await signIn()}`)
      .set('Prefer', 'respond-async, code=RATE_LIMITED')
      .send({ title: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('60');

    const undocumented = await request(app).get(`/v1/notes/${noteId}`).set('Prefer', 'code=WRONG_NAME');
    expect(undocumented.status).toBe(400);
    expect(undocumented.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ path: '/headers/prefer', code: 'undocumented_code' }],
    });
    expect(undocumented.body.errors[0].message).toBe('getNote documents VALIDATION_FAILED, NOT_FOUND, NOTE_GONE, INTERNAL');
  });

  it('streams three items, refuses file answers and uploads with 501 naming the operation', async () => {
    const token = await signIn();
    const stream = await request(app).get('/v1/notes/export').set('Authorization', `Bearer ${token}`);
    expect(stream.headers['content-type']).toContain('application/x-ndjson');
    const lines = stream.text.trim().split('\n');
    expect(lines.map((line) => Note.safeParse(JSON.parse(line)).success)).toEqual([true, true, true]);

    const file = await request(app).get(`/v1/notes/${noteId}/file`);
    expect(file.status).toBe(501);
    expect(file.body).toMatchObject({ code: 'NOT_IMPLEMENTED', detail: expect.stringContaining('noteFile') });

    const created = await request(app)
      .post('/v1/attachments')
      .set('Authorization', `Bearer ${token}`)
      .set('Tus-Resumable', '1.0.0')
      .set('Upload-Length', '10')
      .set('Upload-Metadata', `filetype ${Buffer.from('image/png').toString('base64')}`);
    expect(created.status).toBe(501);
    expect(created.body).toMatchObject({ code: 'NOT_IMPLEMENTED', detail: expect.stringContaining('attach') });
    expect((await request(app).post('/v1/attachments').set('Tus-Resumable', '1.0.0').set('Upload-Length', '10')).status).toBe(401);
  });
});
