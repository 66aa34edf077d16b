import { readdirSync } from 'node:fs';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, removeProject, runGenerator } from './fixtures/project';

/**
 * The first thing a developer does with a new tag: scaffold its handlers and start the app. Every
 * operation then answers a 501 NOT_IMPLEMENTED problem rather than crashing or hanging. The app is
 * built entirely from the copy of the project, so the stubs, the runtime and the routes are one
 * module graph.
 */
type Runtime = typeof import('../../runtime/server');
type GeneratedServer = typeof import('../../generated/server');
type Contracts = typeof import('../../contracts');

let root: string;
let app: Parameters<typeof request>[0];

const load = <T>(path: string): Promise<T> => import(pathToFileURL(join(root, path)).href) as Promise<T>;

beforeAll(async () => {
  root = copyProject();
  const scaffold = await runGenerator(root, ['--scaffold']);
  if (scaffold.code !== 0) throw new Error(`--scaffold failed: ${scaffold.stderr}`);

  const runtime = await load<Runtime>('runtime/server/index.ts');
  const generatedServer = await load<GeneratedServer>('generated/server/index.ts');
  const { api } = await load<Contracts>('contracts/index.ts');
  const handlers: Record<string, object> = {};
  for (const file of readdirSync(join(root, 'server/handlers'))) {
    const tag = file.replace(/\.ts$/, '');
    handlers[tag] = (await load<Record<string, object>>(`server/handlers/${file}`))[tag]!;
  }

  const secret = new TextEncoder().encode('scaffold-test-secret-that-is-32-bytes-or-more');
  app = runtime.createApp({
    routes: generatedServer.createRoutes(handlers as unknown as Parameters<GeneratedServer['createRoutes']>[0]),
    services: {},
    api,
    openapi: generatedServer.openapi,
    auth: { secret, issuer: 'scaffold-test', audience: 'scaffold-test' },
    cursorSecret: secret,
    log: runtime.createLogger({ level: 'silent', destination: new Writable({ write: (_chunk, _encoding, done) => done() }) }),
    corsOrigins: [],
  });
}, 60_000);
afterAll(() => removeProject(root));

describe('an app built from scaffolded handlers', () => {
  it('answers 501 NOT_IMPLEMENTED as a problem, naming the operation', async () => {
    const response = await request(app).get('/api/v1/events/0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d');
    expect(response.status).toBe(501);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 501, code: 'NOT_IMPLEMENTED', title: 'Not implemented' });
    expect(response.body.detail).toContain('getEvent');
    expect(response.headers['x-request-id']).toBeTruthy();
  });

  it('answers 501 for every tag it scaffolded', async () => {
    const response = await request(app).get('/api/v1/health');
    expect(response.status).toBe(501);
    expect(response.body.code).toBe('NOT_IMPLEMENTED');
  });

  it('still validates input before reaching the stub', async () => {
    const response = await request(app).get('/api/v1/events/not-a-uuid');
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION_FAILED');
  });
});
