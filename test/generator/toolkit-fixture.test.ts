import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createApp, createLogger, type App } from '@contract-kit/runtime/server';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../generator/cli';

/**
 * The toolkit without the app: a second project (fixtures/toolkit-api, a notes API that imports only
 * the runtime package and zod) is copied to a folder of its own, generated with the generator and
 * served with createApp. Nothing here or there imports Mundo Tango's server/ or contracts/.
 */
const FIXTURE = fileURLToPath(new URL('./fixtures/toolkit-api', import.meta.url));
const REPO = resolve(FIXTURE, '../../../..');

let root: string;
let generateOutput: string;
let app: App;

/** The project's TypeScript files, its own code and what the generator wrote, by path from its root. */
function projectFiles(): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.startsWith('node_modules'))
    .sort();
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'toolkit-api-'));
  cpSync(FIXTURE, root, { recursive: true });
  // What `npm install` would give the project: the toolkit packages and zod, found by name.
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');

  let stderr = '';
  generateOutput = '';
  const code = await runCli(['--root', root, '--scaffold'], {
    cwd: root,
    stdout: { write: (text: string) => (generateOutput += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  if (code !== 0) throw new Error(`generate failed: ${stderr}`);
  // The project's wiring, as its main module would hold it.
  writeFileSync(
    join(root, 'routes.ts'),
    [
      "import { createRoutes } from './generated/server';",
      "import { notes } from './handlers/notes';",
      "import { status } from './handlers/status';",
      '',
      'export const routes = createRoutes({ notes, status });',
      '',
    ].join('\n'),
  );

  const load = <T>(file: string): Promise<T> => import(pathToFileURL(join(root, file)).href) as Promise<T>;
  const { routes } = await load<{ routes: Parameters<typeof createApp>[0]['routes'] }>('routes.ts');
  const { api } = await load<{ api: Parameters<typeof createApp>[0]['api'] }>('contracts/index.ts');
  const { openapi } = await load<{ openapi: object }>('generated/server/index.ts');
  const secret = new TextEncoder().encode('toolkit-fixture-secret-of-32-bytes-or-more');
  app = createApp({
    routes,
    services: { notes: new Map(), now: () => new Date('2026-12-01T09:00:00.000Z') },
    api,
    openapi,
    auth: { secret, issuer: 'notes', audience: 'notes' },
    cursorSecret: secret,
    log: createLogger({ level: 'silent', destination: new Writable({ write: (_chunk, _encoding, done) => done() }) }),
    corsOrigins: [],
  });
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a project of its own on the toolkit', () => {
  it('generates its server, client and docs and scaffolds the tag it has no handlers for', () => {
    expect(generateOutput).toMatch(/^3 operations → \d+ files/m);
    expect(generateOutput).toContain('scaffolded handlers/status.ts');
    expect(projectFiles()).toEqual(
      expect.arrayContaining(['generated/server/routes.ts', 'generated/client/index.ts', 'handlers/status.ts']),
    );
  });

  it('imports nothing outside its folder but packages, and names nothing of Mundo Tango', () => {
    for (const file of projectFiles()) {
      const text = readFileSync(join(root, file), 'utf8');
      expect(text, file).not.toMatch(/mundo ?tango/i);
      for (const [, specifier] of text.matchAll(/\bfrom '(\.[^']*)'/g)) {
        expect(relative(root, resolve(dirname(join(root, file)), specifier!)), `${file} imports ${specifier}`).not.toMatch(/^\.\./);
      }
    }
  });

  it('answers a success in its envelope, under its own base path', async () => {
    const created = await request(app).post('/notes-api/v1/notes').send({ text: '  Buy milk ' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ data: { id: 1, text: 'Buy milk', createdAt: '2026-12-01T09:00:00.000Z' } });

    const read = await request(app).get('/notes-api/v1/notes/1');
    expect(read.status).toBe(200);
    expect(read.body.data.text).toBe('Buy milk');
  });

  it('answers invalid input with a validation problem of its own problem types', async () => {
    const response = await request(app).post('/notes-api/v1/notes').send({ text: '', colour: 'red' });
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      type: 'https://notes.example.com/problems/validation-failed',
      status: 400,
    });
    expect(response.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['/body/colour', '/body/text']);
  });

  it('answers a missing note, and a path it does not serve, with a 404 problem', async () => {
    const missing = await request(app).get('/notes-api/v1/notes/99');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'NOT_FOUND', detail: 'No note 99', type: 'https://notes.example.com/problems/not-found' });

    const elsewhere = await request(app).get('/api/v1/events');
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(elsewhere.body.code).toBe('NOT_FOUND');
  });

  it('answers 501 from the scaffolded stub until it is implemented', async () => {
    const response = await request(app).get('/notes-api/v1/status');
    expect(response.status).toBe(501);
    expect(response.body.code).toBe('NOT_IMPLEMENTED');
  });
});
