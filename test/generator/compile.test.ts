import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, REPO, removeProject, runGenerator } from './fixtures/project';

/**
 * What the generated types promise at compile time: a missing or wrongly shaped handler, a wrong
 * client input and an error code the operation cannot return are compile errors. The fixtures are
 * written into a copy of the project (so their imports resolve) and compiled as one program with
 * the project's compiler options; each test reads the diagnostics of its own fixture.
 */
const SAMPLE_EVENT = `const sample = {
  id: '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d',
  title: 'Milonga de los Jueves',
  description: '',
  kind: 'milonga' as const,
  city: 'Buenos Aires',
  country: null,
  venue: null,
  startsAt: '2026-12-03T22:00:00.000Z',
  endsAt: '2026-12-04T03:00:00.000Z',
  organizerId: '5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10',
  createdAt: '2026-11-20T12:00:00.000Z',
  updatedAt: '2026-11-20T12:00:00.000Z',
};`;

const LIST_EVENTS = `    async listEvents({ query, page }) {
      const items = query.city ? [sample] : [];
      return { items: items.slice(0, page.limit), next: null };
    },`;
const GET_EVENT = `    async getEvent({ params }) {
      if (params.eventId !== sample.id) throw new ApiError('NOT_FOUND', 'No event with this id');
      return sample;
    },`;
const DELETE_EVENT = `    async deleteEvent() {},`;

const HANDLERS = `import type { Handlers } from '../generated/server';
import { ApiError } from '../runtime/server';
import type { Services } from './services';

${SAMPLE_EVENT}

// Two tags are enough to show the checks; Pick keeps the fixture valid as the API grows.
export const handlers: Pick<Handlers<Services>, 'events' | 'health'> = {
  events: {
${LIST_EVENTS}
${GET_EVENT}
    async createEvent({ body }, { user, now }) {
      const at = now().toISOString();
      return { ...sample, ...body, description: body.description ?? '', country: body.country ?? null, venue: body.venue ?? null, organizerId: user.id, createdAt: at, updatedAt: at };
    },
    async updateEvent({ params, body }) {
      return { ...sample, id: params.eventId, title: body.title ?? sample.title };
    },
${DELETE_EVENT}
  },
  health: {
    getHealth: () => ({ status: 'ok', database: 'reachable', version: '1.0.0', uptimeSeconds: 1 }),
  },
};
`;

function handlersWith(from: string, to: string): string {
  if (!HANDLERS.includes(from)) throw new Error(`fixture does not contain ${from}`);
  return HANDLERS.replace(from, to);
}

const CLIENT_PRELUDE = `import { createClient } from '../generated/client';

const api = createClient({ baseUrl: 'http://localhost:3000' });
`;

const fixtures: Record<string, string> = {
  'services.ts': 'export interface Services {\n  now: () => Date;\n}\n',
  'handlers-ok.ts': HANDLERS,
  'handlers-missing.ts': handlersWith(`${DELETE_EVENT}\n`, ''),
  'handlers-wrong-type.ts': handlersWith('      return sample;\n', "      return { ...sample, title: 42 };\n"),
  'handlers-missing-field.ts': handlersWith('      return sample;\n', '      const { city: _city, ...withoutCity } = sample;\n      return withoutCity;\n'),
  'handlers-page-as-array.ts': handlersWith('      return { items: items.slice(0, page.limit), next: null };', '      return items.slice(0, page.limit);'),
  'handlers-public-user.ts': handlersWith('    async getEvent({ params }) {\n', "    async getEvent({ params }, { user }) {\n      if (user.roles.includes('admin')) return sample;\n"),
  'handlers-wrong-param.ts': handlersWith('if (params.eventId !== sample.id)', 'if (params.id !== sample.id)'),
  'client-ok.ts': `${CLIENT_PRELUDE}
export async function show(eventId: string): Promise<string> {
  try {
    const event = await api.events.getEvent({ params: { eventId } });
    const title: string = event.title;
    for await (const e of api.events.listEvents.items({ query: { city: 'Buenos Aires' } })) console.log(e.city);
    const page = await api.events.listEvents();
    console.log(page.data.length);
    const created = await api.events.createEvent({
      body: { title: 'Práctica', kind: 'practica', city: 'Rosario', startsAt: '2026-12-05T20:00:00.000Z', endsAt: '2026-12-05T23:00:00.000Z' },
    });
    await api.events.deleteEvent({ params: { eventId: created.id } });
    return title;
  } catch (e) {
    if (api.events.getEvent.isError(e) && e.code === 'NOT_FOUND') return 'gone';
    if (api.events.getEvent.isError(e) && e.code === 'TIMEOUT') return 'slow';
    throw e;
  }
}
`,
  'client-wrong-input.ts': `${CLIENT_PRELUDE}
export const event = api.events.getEvent({ params: { eventId: 42 } });
`,
  'client-missing-body-field.ts': `${CLIENT_PRELUDE}
export const created = api.events.createEvent({
  body: { title: 'Práctica', city: 'Rosario', startsAt: '2026-12-05T20:00:00.000Z', endsAt: '2026-12-05T23:00:00.000Z' },
});
`,
  'client-wrong-result.ts': `${CLIENT_PRELUDE}
export async function title(eventId: string): Promise<number> {
  const event = await api.events.getEvent({ params: { eventId } });
  return event.title;
}
`,
  'client-unknown-code.ts': `${CLIENT_PRELUDE}
export function taken(e: unknown): boolean {
  return api.events.getEvent.isError(e) && e.code === 'USERNAME_TAKEN';
}
`,
  'client-code-of-another-operation.ts': `${CLIENT_PRELUDE}
export function forbidden(e: unknown): boolean {
  return api.events.getEvent.isError(e) && e.code === 'FORBIDDEN';
}
`,
};

let root: string;
let program: ts.Program;
const fixtureFile = (name: string) => join(root, 'fixtures', name);

function messagesOf(file: string): string[] {
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`${file} is not in the program`);
  return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) =>
    ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  );
}

/** At least one error, and one of them says what is wrong. */
function expectError(fixture: string, ...mentions: (string | RegExp)[]): void {
  const messages = messagesOf(fixtureFile(fixture));
  expect(messages.length, `${fixture} should not compile`).toBeGreaterThan(0);
  const all = messages.join('\n---\n');
  for (const mention of mentions) {
    if (typeof mention === 'string') expect(all).toContain(mention);
    else expect(all).toMatch(mention);
  }
}

function expectCompiles(fixture: string): void {
  expect(messagesOf(fixtureFile(fixture))).toEqual([]);
}

beforeAll(async () => {
  root = copyProject();
  mkdirSync(join(root, 'fixtures'));
  for (const [name, text] of Object.entries(fixtures)) writeFileSync(fixtureFile(name), text);
  writeFileSync(
    join(root, 'scaffold.config.json'),
    JSON.stringify({ contracts: 'contracts/index.ts', handlers: { dir: 'fixtures/scaffold', servicesImport: '../services', servicesType: 'Services' } }),
  );
  const scaffold = await runGenerator(root, ['--scaffold', '--config', 'scaffold.config.json']);
  if (scaffold.code !== 0) throw new Error(`--scaffold failed: ${scaffold.stderr}`);
  // A Handlers object made of every scaffolded tag: the stubs must satisfy the full interface.
  const tags = readdirSync(join(root, 'fixtures/scaffold')).map((file) => file.replace(/\.ts$/, ''));
  writeFileSync(
    fixtureFile('scaffolded.ts'),
    [
      "import type { Handlers } from '../generated/server';",
      "import type { Services } from './services';",
      ...tags.map((tag) => `import { ${tag} } from './scaffold/${tag}';`),
      '',
      `export const handlers: Handlers<Services> = { ${tags.join(', ')} };`,
      '',
    ].join('\n'),
  );

  const configFile = join(REPO, 'tsconfig.json');
  const { config } = ts.readConfigFile(configFile, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent({ compilerOptions: (config as { compilerOptions: object }).compilerOptions }, ts.sys, REPO, undefined, configFile);
  const fixtureFiles = readdirSync(join(root, 'fixtures'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => fixtureFile(name));
  program = ts.createProgram({ rootNames: fixtureFiles, options: { ...options, noEmit: true } });
}, 60_000);
afterAll(() => removeProject(root));

describe('generated server types', () => {
  it('accept a complete, correctly typed set of handlers', () => {
    expectCompiles('handlers-ok.ts');
  });

  it('refuse a Handlers object that lacks one handler, naming it', () => {
    expectError('handlers-missing.ts', "Property 'deleteEvent' is missing");
  });

  it('refuse a handler whose result has a field of the wrong type', () => {
    expectError('handlers-wrong-type.ts', 'title', /Type 'number' is not assignable to type 'string'/);
  });

  it('refuse a handler whose result lacks a required field', () => {
    expectError('handlers-missing-field.ts', "Property 'city' is missing");
  });

  it('refuse a list handler that returns an array instead of a page', () => {
    expectError('handlers-page-as-array.ts', 'items');
  });

  it('type the caller of a public operation as possibly signed out', () => {
    expectError('handlers-public-user.ts', "'user' is possibly 'null'");
  });

  it('refuse reading a path parameter the contract does not declare', () => {
    expectError('handlers-wrong-param.ts', "Property 'id' does not exist");
  });

  it('accept the handler stubs that --scaffold writes', () => {
    expectCompiles('scaffold/events.ts');
    expectCompiles('scaffold/health.ts');
    expectCompiles('scaffolded.ts');
  });

  it('compile themselves, with the client, under the project settings', () => {
    const generatedFiles = program.getSourceFiles().filter((f) => f.fileName.startsWith(join(root, 'generated')));
    expect(generatedFiles.map((f) => f.fileName)).toEqual(
      expect.arrayContaining([join(root, 'generated/server/handlers.ts'), join(root, 'generated/client/index.ts')]),
    );
    for (const file of generatedFiles) expect(messagesOf(file.fileName), file.fileName).toEqual([]);
  });
});

describe('generated client types', () => {
  it('accept correct calls, paging and a code the operation can return', () => {
    expectCompiles('client-ok.ts');
  });

  it('refuse an input of the wrong type', () => {
    expectError('client-wrong-input.ts', /Type 'number' is not assignable to type 'string'/);
  });

  it('refuse a body that lacks a required field', () => {
    expectError('client-missing-body-field.ts', "Property 'kind' is missing");
  });

  it('type the unwrapped result', () => {
    expectError('client-wrong-result.ts', /Type 'string' is not assignable to type 'number'/);
  });

  it("refuse comparing an error's code with a code no operation has", () => {
    expectError('client-unknown-code.ts', 'USERNAME_TAKEN', /no overlap/);
  });

  it("refuse comparing an error's code with a code of another operation", () => {
    expectError('client-code-of-another-operation.ts', 'FORBIDDEN', /no overlap/);
  });
});
