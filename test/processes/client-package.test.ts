import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../generator/fixtures/project';

/**
 * generated/client as another project gets it: what its package.json ships (package.json and dist/)
 * installed into a consumer's node_modules, compiled by the consumer with TypeScript under NodeNext
 * (Node 20, strict on) and Bundler (browser, strict off) resolution, with the client's declarations
 * checked too; then run by Node against a local server, and bundled for the browser by esbuild.
 */
const CLIENT_DIR = join(REPO, 'generated/client');
const manifest = JSON.parse(readFileSync(join(CLIENT_DIR, 'package.json'), 'utf8')) as { name: string; files: string[] };

const EVENT = {
  id: '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d',
  title: 'Milonga de los Jueves',
  description: '',
  kind: 'milonga',
  city: 'Buenos Aires',
  country: null,
  venue: null,
  startsAt: '2026-12-03T22:00:00.000Z',
  endsAt: '2026-12-04T03:00:00.000Z',
  organizerId: '5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10',
  createdAt: '2026-11-20T12:00:00.000Z',
  updatedAt: '2026-11-20T12:00:00.000Z',
};
const MISSING = '11111111-1111-4111-8111-111111111111';

/** A Node program: one typed call, one typed error code; it prints what it got. */
const NODE_MAIN = `import { createClient } from '${manifest.name}';
import { createRealtimeClient, type ServerEvents } from '${manifest.name}/realtime';

const api = createClient({ baseUrl: process.argv[2]!, retry: false });
const event = await api.events.getEvent({ params: { eventId: '${EVENT.id}' } });
const title: string = event.title;
let code: string | undefined;
try {
  await api.events.getEvent({ params: { eventId: '${MISSING}' } });
} catch (error) {
  if (api.events.getEvent.isError(error) && error.code === 'NOT_FOUND') code = error.code;
}
// Typed only: connecting needs a real-time server.
export function listen(baseUrl: string, show: (message: ServerEvents['message:new']) => void): () => void {
  const live = createRealtimeClient({ baseUrl, tokens: { getAccessToken: () => null } });
  const off = live.on('message:new', (message) => show(message));
  return () => {
    off();
    live.close();
  };
}
console.log(JSON.stringify({ title, code, realtime: typeof createRealtimeClient }));
`;

/** A browser module: the HTTP client and the real-time client, with typed payloads and acks. */
const BROWSER_MAIN = `import { createClient } from '${manifest.name}';
import { createRealtimeClient } from '${manifest.name}/realtime';

export async function start(baseUrl: string, token: string): Promise<string> {
  const api = createClient({ baseUrl, tokens: { getAccessToken: () => token } });
  const live = createRealtimeClient({ baseUrl, tokens: { getAccessToken: () => token } });
  const me = await api.users.getMe();
  const sent = await live.emit('message:send', { conversationId: me.id, clientKey: 'k1', body: 'Hola' });
  return sent.id;
}
`;

/** Calls the client cannot make: each line is a compile error under every setting. */
const WRONG = `import { createClient } from '${manifest.name}';
import { createRealtimeClient } from '${manifest.name}/realtime';

const api = createClient({ baseUrl: 'http://localhost' });
export const a = api.events.getEvent({ params: { eventId: 42 } });
const live = createRealtimeClient({ baseUrl: 'http://localhost', tokens: { getAccessToken: () => null } });
export const b = live.emit('message:send', { conversationId: 'c' });
`;

interface Mode {
  resolution: 'NodeNext' | 'Bundler';
  strict: boolean;
}
// Each resolution once and each strictness once: what strictness changes (null checks, implicit
// any) does not depend on how the module was resolved. Each compilation costs most of a second.
const MODES: Mode[] = [
  { resolution: 'NodeNext', strict: true },
  { resolution: 'Bundler', strict: false },
];

let consumer: string;
const installed = () => join(consumer, 'node_modules', manifest.name);
let server: Server;
let baseUrl: string;

const parsed = new Map<string, ts.SourceFile>();

function compile(mode: Mode, outDir?: string): { file: string; message: string }[] {
  const node = mode.resolution === 'NodeNext';
  const { options, errors } = ts.convertCompilerOptionsFromJson(
    {
      target: 'ES2022',
      module: node ? 'NodeNext' : 'ESNext',
      moduleResolution: mode.resolution,
      // Node has fetch without the DOM library (its types come with @types/node); a browser has the DOM.
      lib: node ? ['ES2022'] : ['ES2022', 'DOM'],
      types: node ? ['node'] : [],
      strict: mode.strict,
      skipLibCheck: false,
      ...(outDir ? { outDir } : { noEmit: true }),
    },
    consumer,
  );
  expect(errors).toEqual([]);
  const rootNames = [join(consumer, node ? 'src/main.ts' : 'src/browser.ts'), join(consumer, 'src/wrong.ts')];
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  // Parsed files (the libraries, @types/node, the client's declarations) are shared by the four
  // compilations: each still binds and checks them on its own.
  host.getSourceFile = (fileName, language, onError) => {
    const key = `${typeof language === 'object' ? JSON.stringify(language) : language}:${fileName}`;
    let file = parsed.get(key);
    if (!file) {
      file = read(fileName, language, onError);
      if (file) parsed.set(key, file);
    }
    return file;
  };
  const program = ts.createProgram({ rootNames, options, host });
  // The consumer's files and every declaration file of the client are checked, not all of @types/node.
  const checked = program
    .getSourceFiles()
    .filter((f) => f.fileName.startsWith(join(consumer, 'src')) || f.fileName.startsWith(installed()));
  expect(checked.map((f) => f.fileName)).toEqual(
    expect.arrayContaining([
      join(installed(), 'dist/index.d.ts'),
      join(installed(), 'dist/schema.d.ts'),
      join(installed(), 'dist/runtime/realtime.d.ts'),
    ]),
  );
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...checked.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
    ...(outDir ? program.emit().diagnostics : []),
  ];
  return diagnostics.map((d) => ({ file: d.file?.fileName ?? '', message: ts.flattenDiagnosticMessageText(d.messageText, '\n') }));
}

function run(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [file, ...args], { cwd: consumer, timeout: 15_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  consumer = mkdtempSync(join(tmpdir(), 'client-consumer-'));
  // Installed as npm installs a packed folder: only what its package.json ships.
  for (const entry of ['package.json', ...manifest.files]) cpSync(join(CLIENT_DIR, entry), join(installed(), entry), { recursive: true });
  for (const dependency of ['socket.io-client', '@types/node', 'undici-types']) {
    mkdirSync(join(consumer, 'node_modules', dependency, '..'), { recursive: true });
    symlinkSync(join(REPO, 'node_modules', dependency), join(consumer, 'node_modules', dependency), 'dir');
  }
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  mkdirSync(join(consumer, 'src'));
  writeFileSync(join(consumer, 'src/main.ts'), NODE_MAIN);
  writeFileSync(join(consumer, 'src/browser.ts'), BROWSER_MAIN);
  writeFileSync(join(consumer, 'src/wrong.ts'), WRONG);

  server = createServer((request, response) => {
    const found = request.url === `/api/v1/events/${EVENT.id}`;
    response.writeHead(found ? 200 : 404, { 'content-type': found ? 'application/json' : 'application/problem+json' });
    response.end(
      JSON.stringify(
        found
          ? { data: EVENT }
          : { type: 'about:blank', title: 'Not found', status: 404, code: 'NOT_FOUND', detail: 'No event with this id' },
      ),
    );
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((closed) => server?.close(closed));
  if (consumer) rmSync(consumer, { recursive: true, force: true });
});

describe('the generated client as a package of another project', () => {
  it.each(MODES)(
    'compiles under $resolution resolution, strict $strict, and refuses wrong calls',
    (mode) => {
      const diagnostics = compile(mode, mode.resolution === 'NodeNext' && mode.strict ? join(consumer, 'out') : undefined);
      const wrong = diagnostics.filter((d) => d.file.endsWith('src/wrong.ts'));
      expect(diagnostics.filter((d) => !d.file.endsWith('src/wrong.ts'))).toEqual([]);
      expect(wrong.map((d) => d.message).join('\n')).toMatch(/Type 'number' is not assignable to type 'string'/);
      expect(wrong.map((d) => d.message).join('\n')).toMatch(/missing the following properties .*: clientKey, body/);
      expect(wrong).toHaveLength(2);
    },
    60_000,
  );

  it('runs on Node: a typed call gets the data, a problem comes back as its typed code', async () => {
    const result = await run(join(consumer, 'out/main.js'), [baseUrl]);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ title: EVENT.title, code: 'NOT_FOUND', realtime: 'function' });
  }, 30_000);

  it('bundles for the browser with the real-time client and no Node built-in', async () => {
    const result = await build({
      entryPoints: [join(consumer, 'src/browser.ts')],
      absWorkingDir: consumer,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toEqual(
      expect.arrayContaining([expect.stringMatching(/dist\/runtime\/realtime\.js$/), expect.stringMatching(/socket\.io-client\//)]),
    );
    const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
    expect(
      imports.filter((path) => path.startsWith('node:') || /^(http|https|net|tls|fs|path|crypto|stream|zlib|url|events)$/.test(path)),
    ).toEqual([]);
    expect(result.outputFiles[0]!.text).toContain('/api/v1/realtime');
  }, 30_000);
});
