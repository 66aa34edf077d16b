import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readGeneratorConfig, type GeneratorConfig } from '../../generator/config';
import { lintOpenApi } from '../../generator/lint';
import { loadApi } from '../../generator/load';
import { generateFiles, GeneratorError, type GeneratedFiles } from '../../generator/pipeline';
import {
  defineApi,
  defineErrors,
  endpoint,
  listContracts,
  listUploads,
  paginated,
  runtimeErrors,
  uploadOperationIds,
  Uuid,
  type ApiDefinition,
  type ContractEntry,
  type Endpoint,
} from '../../runtime/contract';
import { REPO } from './fixtures/project';

interface Response {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: unknown }>;
}
/** A response, or a reference to one under components/responses. */
type Responses = Record<string, Response | { $ref: string }>;
interface Operation {
  operationId: string;
  deprecated?: boolean;
  tags?: string[];
  security?: unknown[];
  responses: Responses;
}
interface Spec {
  openapi: string;
  info: { title: string; license?: unknown };
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; responses?: Record<string, Response> };
}

/** Follows a local `$ref` (`#/components/responses/NotFound`) to what it points at. */
function resolve(spec: Spec, value: Response | { $ref: string } | undefined): Response | undefined {
  if (!value || !('$ref' in value)) return value;
  const target = value.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key.replaceAll('~1', '/').replaceAll('~0', '~')], spec);
  expect(target, `${value.$ref} resolves`).toBeDefined();
  return target as Response;
}

function operationsOf(spec: Spec): { method: string; path: string; op: Operation }[] {
  return Object.entries(spec.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method, path, op })));
}

function hasInput(e: Endpoint): boolean {
  return Boolean(e.params || e.requestQuery || e.headers || e.body);
}

let config: GeneratorConfig;
let api: ApiDefinition;
let contracts: ContractEntry[];
let first: GeneratedFiles;
let spec: Spec;

beforeAll(async () => {
  config = readGeneratorConfig(REPO);
  ({ api, contracts } = await loadApi(REPO, config.contracts, config.export));
  first = await generateFiles(REPO, config, api, contracts);
  spec = JSON.parse(first.files.get('openapi.json')!) as Spec;
});

describe('generateFiles on the Mundo Tango contracts', () => {
  it('produces the spec, the server stubs, the client and the docs', () => {
    expect([...first.files.keys()]).toEqual(
      expect.arrayContaining([
        'openapi.json',
        'server/handlers.ts',
        'server/routes.ts',
        'server/index.ts',
        'client/index.ts',
        'client/schema.ts',
        'client/runtime/index.ts',
        'docs/reference.md',
      ]),
    );
  });

  it('gives byte-identical files when run twice', async () => {
    const second = await generateFiles(REPO, config, api, contracts);
    expect([...second.files.keys()]).toEqual([...first.files.keys()]);
    for (const [path, content] of first.files) expect(second.files.get(path), path).toBe(content);
  });

  it('prints the client types again only when schema.ts is not what they would be', async () => {
    // An unchanged spec reuses generated/client/schema.ts instead of loading the lint and openapi-typescript.
    const dir = mkdtempSync(join(tmpdir(), 'mundo-schema-'));
    // A cache of its own, so that damaging it below leaves the machine's alone.
    const cacheDir = join(dir, 'cache');
    const elsewhere = { ...config, outDir: relative(REPO, join(dir, 'out')) };
    const generate = () => generateFiles(REPO, elsewhere, api, contracts, { cacheDir });
    try {
      const schema = first.files.get('client/schema.ts')!;
      mkdirSync(join(dir, 'out/client'), { recursive: true });
      writeFileSync(join(dir, 'out/client/schema.ts'), schema);
      const reused = await generate();
      expect(Object.keys(reused.timings)).not.toContain('lint');
      expect(Object.keys(reused.timings)).not.toContain('types');
      expect(reused.files.get('client/schema.ts')).toBe(schema);

      // A hand edit: the file on disk is not what the tools would print; the machine's cache has it.
      const handEdited = schema.replace('export interface paths {', 'export interface paths {\n    "/hand/made": never;');
      writeFileSync(join(dir, 'out/client/schema.ts'), handEdited);
      const fromCache = await generate();
      expect(Object.keys(fromCache.timings)).not.toContain('types');
      expect(fromCache.files.get('client/schema.ts')).toBe(schema);

      // Without the cache (or with a damaged entry), the tools run again and print the same file.
      for (const entry of readdirSync(cacheDir).filter((name) => name.endsWith('.ts')))
        writeFileSync(join(cacheDir, entry), `${readFileSync(join(cacheDir, entry), 'utf8')} `);
      const printed = await generate();
      expect(Object.keys(printed.timings)).toEqual(expect.arrayContaining(['lint', 'types']));
      expect(printed.files.get('client/schema.ts')).toBe(schema);
      // And the cache holds it again.
      expect(Object.keys((await generate()).timings)).not.toContain('types');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('marks every generated source file as generated', () => {
    for (const [path, content] of first.files) {
      if (path.endsWith('.ts'))
        expect(content.split('\n')[0], path).toMatch(/^\/\/ Generated by `npm run generate` from .+\. Do not edit by hand\./);
      if (path.endsWith('.md')) expect(content.split('\n')[0], path).toMatch(/^<!-- Generated by `npm run generate`/);
    }
  });

  it("writes a spec that passes Redocly's recommended rules with no error or warning", async () => {
    expect(await lintOpenApi(first.files.get('openapi.json')!)).toEqual([]);
  });

  it('writes an OpenAPI 3.1.0 document whose paths are all under /api/v1/', () => {
    expect(spec.openapi).toBe('3.1.0');
    const paths = Object.keys(spec.paths);
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) expect(path).toMatch(/^\/api\/v1\/[a-z]/);
  });

  it('has one operation per contract, under its operationId, and four per upload resource', () => {
    const ids = operationsOf(spec).map(({ op }) => op.operationId);
    const uploads = listUploads(api).flatMap(({ upload }) => Object.values(uploadOperationIds(upload)));
    expect(ids.sort()).toEqual([...contracts.map((c) => c.endpoint.operationId), ...uploads].sort());
  });

  it('documents the tus operations of an upload: protocol headers, a binary PATCH body, the result of the last PATCH', () => {
    const item = spec.paths['/api/v1/uploads/{uploadId}'] as Record<string, unknown>;
    expect(spec.paths['/api/v1/uploads']!.post).toMatchObject({
      'x-tus-resumable': '1.0.0',
      parameters: [{ name: 'Tus-Resumable' }, { name: 'Upload-Length' }, { name: 'Upload-Metadata' }],
      'x-upload-types': { 'image/jpeg': { maxBytes: 20 * 1024 * 1024 } },
      responses: { 201: { headers: { Location: {} } }, 401: {}, 413: {}, 415: {}, 429: {} },
    });
    expect(item.patch).toMatchObject({
      requestBody: { content: { 'application/offset+octet-stream': { schema: { type: 'string', format: 'binary' } } } },
      responses: {
        200: { content: { 'application/json': { schema: { properties: { data: { $ref: '#/components/schemas/Media' } } } } } },
        204: {},
        404: {},
        409: {},
        410: {},
      },
    });
    expect(item.head).toMatchObject({ responses: { 200: { headers: { 'Upload-Offset': {}, 'Upload-Length': {} } } } });
    expect(item.delete).toMatchObject({ responses: { 204: {}, 404: {} } });
  });

  it('documents a file answer by its media types, with ranges and revalidation', () => {
    const download = spec.paths['/api/v1/media/{mediaId}/file']!.get!;
    expect(Object.keys(download.responses['200'] as Response)).toContain('content');
    expect(Object.keys((download.responses['200'] as Response).content!)).toEqual([
      'image/jpeg',
      'image/png',
      'image/webp',
      'video/mp4',
      'video/webm',
    ]);
    expect(Object.keys(download.responses)).toEqual(expect.arrayContaining(['206', '304', '412', '416']));
  });

  it('documents, for every operation, its success, 500, and the 400/401/429 the runtime can add', () => {
    for (const { method, path, op } of operationsOf(spec)) {
      if ((op as { 'x-tus-resumable'?: string })['x-tus-resumable']) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const e = contracts.find((c) => c.endpoint.operationId === op.operationId)!.endpoint;
      expect(e.method.toLowerCase(), where).toBe(method);
      expect(op.responses[String(e.response.status)], `${where} success`).toBeDefined();
      expect(op.responses['500'], `${where} 500`).toBeDefined();
      if (hasInput(e)) expect(op.responses['400'], `${where} 400`).toBeDefined();
      if (e.auth !== 'public') {
        expect(op.responses['401'], `${where} 401`).toBeDefined();
        // Optional auth: anonymous (`{}`) or a bearer token.
        expect(op.security, `${where} security`).toEqual(e.auth === 'optional' ? [{}, { bearerAuth: [] }] : [{ bearerAuth: [] }]);
      }
      if (typeof e.auth === 'object') {
        expect((op as { 'x-roles'?: string[] })['x-roles'], `${where} x-roles`).toEqual([...e.auth.roles]);
        expect(op.responses['403'], `${where} 403`).toBeDefined();
      }
      for (const code of e.errors ?? []) {
        const status = ({ ...runtimeErrors, ...api.errors } as Record<string, { status: number }>)[code]!.status;
        expect(resolve(spec, op.responses[String(status)])?.description, `${where} ${code}`).toContain(code);
      }
      if (e.rateLimit) {
        const limited = resolve(spec, op.responses['429']);
        expect(limited, `${where} 429`).toBeDefined();
        expect(Object.keys(limited!.headers ?? {}), `${where} 429 headers`).toEqual(
          expect.arrayContaining(['Retry-After', 'RateLimit', 'RateLimit-Policy']),
        );
      } else {
        expect(op.responses['429'], `${where} has no rate limit`).toBeUndefined();
      }
    }
  });

  it('documents every error response as a Problem in application/problem+json', () => {
    expect(spec.components.schemas.Problem).toBeDefined();
    let errorResponses = 0;
    for (const { method, path, op } of operationsOf(spec)) {
      for (const [status, ref] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        const response = resolve(spec, ref)!;
        errorResponses++;
        const where = `${method.toUpperCase()} ${path} ${status}`;
        expect(Object.keys(response.content ?? {}), where).toEqual(['application/problem+json']);
        expect(response.content!['application/problem+json']!.schema, where).toEqual({ $ref: '#/components/schemas/Problem' });
        expect(Object.keys(response.headers ?? {}), where).toContain('X-Request-Id');
      }
    }
    expect(errorResponses).toBeGreaterThan(0);
  });

  it('describes every tag it uses', () => {
    const described = new Map(spec.tags.map((t) => [t.name, t.description]));
    for (const { op } of operationsOf(spec)) for (const tag of op.tags ?? []) expect(described.get(tag), tag).toBeTruthy();
  });
});

describe('generateFiles on other contracts', () => {
  const Note = z.object({ id: Uuid, title: z.string().max(200) }).meta({ id: 'Note' });
  const tags = { notes: 'Notes.', moderation: 'Moderation of notes.' };

  function notesApi(exports: Record<string, unknown>, apiTags: Record<string, string> = tags) {
    return defineApi({
      info: { title: 'Notes API', version: '1.0.0', description: 'Notes for the tests', license: { name: 'MIT', identifier: 'MIT' } },
      servers: [{ url: '/', description: 'Here' }],
      tags: apiTags,
      problemBaseUrl: 'https://example.test/problems',
      errors: defineErrors({ NOTE_LOCKED: { status: 409, title: 'The note is locked' } }),
      modules: { notes: exports },
    });
  }

  async function specOf(a: ApiDefinition): Promise<Spec> {
    const { files } = await generateFiles(REPO, config, a, listContracts(a));
    return JSON.parse(files.get('openapi.json')!) as Spec;
  }

  const lockNote = endpoint({
    method: 'PUT',
    version: 1,
    path: '/notes/{noteId}/lock',
    operationId: 'lockNote',
    summary: 'Lock a note',
    tags: ['notes', 'moderation'],
    auth: { roles: ['moderator'] },
    params: z.object({ noteId: Uuid }),
    response: { status: 204 },
    errors: ['NOT_FOUND', 'NOTE_LOCKED'],
  });
  const listNotes = endpoint({
    method: 'GET',
    version: 2,
    path: '/notes',
    operationId: 'listNotes',
    summary: 'List notes',
    tags: ['notes'],
    auth: 'public',
    response: paginated(Note),
    deprecated: { since: '2026-01-01', sunset: '2026-07-01' },
  });

  it('adds 403 for role-restricted operations and the status of each domain code', async () => {
    const s = await specOf(notesApi({ lockNote, listNotes }));
    const op = s.paths['/api/v1/notes/{noteId}/lock']!.put!;
    expect(Object.keys(op.responses).sort()).toEqual(['204', '400', '401', '403', '404', '409', '500']);
    expect(resolve(s, op.responses['409'])!.description).toContain('NOTE_LOCKED');
  });

  it('serves each contract under its own major version', async () => {
    const s = await specOf(notesApi({ lockNote, listNotes }));
    expect(Object.keys(s.paths).sort()).toEqual(['/api/v1/notes/{noteId}/lock', '/api/v2/notes']);
  });

  it('marks a deprecated operation and documents its Deprecation and Sunset headers', async () => {
    const s = await specOf(notesApi({ lockNote, listNotes }));
    const op = s.paths['/api/v2/notes']!.get!;
    expect(op.deprecated).toBe(true);
    expect(Object.keys(resolve(s, op.responses['200'])!.headers ?? {})).toEqual(expect.arrayContaining(['Deprecation', 'Sunset', 'Link']));
    expect(resolve(s, op.responses['400'])!.description).toContain('INVALID_CURSOR');
  });

  it('lists a described tag that operations use only as a second tag, with its description', async () => {
    const s = await specOf(notesApi({ lockNote, listNotes }));
    expect(s.tags).toEqual(expect.arrayContaining([{ name: 'moderation', description: 'Moderation of notes.' }]));
  });

  it('refuses broken contracts with a GeneratorError naming each one', async () => {
    const broken = notesApi({ lockNote, listNotes: endpoint({ ...listNotes, operationId: 'list_notes', version: 0 }) });
    const failure = generateFiles(REPO, config, broken, listContracts(broken));
    await expect(failure).rejects.toBeInstanceOf(GeneratorError);
    await expect(failure).rejects.toThrow(/notes\.listNotes: operationId "list_notes" must be camelCase/);
    await expect(failure).rejects.toThrow(/notes\.listNotes: version must be/);
  });
});
