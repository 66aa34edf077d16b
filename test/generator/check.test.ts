import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkContracts, checkSharedLimits, type ContractProblem } from '../../generator/check';
import {
  clientEvent,
  defineApi,
  defineErrors,
  endpoint,
  listContracts,
  listEvents,
  paginated,
  Timestamp,
  Uuid,
  type EndpointDefinition,
} from '../../runtime/contract';

const Note = z.object({
  id: Uuid,
  title: z.string().min(1).max(200),
  text: z.string().max(10_000).nullable(),
  labels: z.array(z.string().max(30)).max(10),
  kind: z.enum(['memo', 'todo']),
  createdAt: Timestamp,
});

const NewNote = z.object({
  title: z.string().min(1).max(200),
  text: z.string().max(10_000).optional(),
  labels: z.array(z.string().max(30)).max(10).optional(),
  kind: z.enum(['memo', 'todo']),
  remindAt: Timestamp.optional(),
});

const NoteParams = z.object({ noteId: Uuid });

/** A sound contract to break one thing at a time. */
const getNoteDefinition = {
  method: 'GET',
  version: 1,
  path: '/notes/{noteId}',
  operationId: 'getNote',
  summary: 'Get one note',
  tags: ['notes'],
  auth: 'public',
  params: NoteParams,
  response: { status: 200, body: Note },
  errors: ['NOT_FOUND'],
} as const satisfies EndpointDefinition;

function getNoteWith(changes: Partial<Record<keyof EndpointDefinition, unknown>>) {
  return endpoint({ ...getNoteDefinition, ...changes } as EndpointDefinition);
}

function apiOf(modules: Record<string, Record<string, unknown>>) {
  return defineApi({
    info: { title: 'Notes API', version: '1.0.0', description: 'Notes for the tests', license: { name: 'MIT', identifier: 'MIT' } },
    servers: [{ url: '/', description: 'Here' }],
    tags: { notes: 'Notes and their labels.', admin: 'Moderation.' },
    problemBaseUrl: 'https://example.test/problems',
    errors: defineErrors({ NOTE_LOCKED: { status: 409, title: 'The note is locked' } }),
    modules,
  });
}

function problemsOf(modules: Record<string, Record<string, unknown>>): ContractProblem[] {
  const api = apiOf(modules);
  return checkContracts(api, listContracts(api), new Date().toISOString().slice(0, 10));
}

/** Problems of one module `notes` holding the given exports. */
function problemsOfNotes(exports: Record<string, unknown>): ContractProblem[] {
  return problemsOf({ notes: exports });
}

function expectProblem(problems: ContractProblem[], contract: string, message: RegExp): void {
  expect(problems, `expected a problem of ${contract} matching ${message}`).toContainEqual({
    contract,
    message: expect.stringMatching(message),
  });
}

/** Every problem names the one broken contract, never a sound neighbour. */
function expectOnlyAbout(problems: ContractProblem[], contract: string): void {
  expect(problems.length).toBeGreaterThan(0);
  expect(problems.map((p) => p.contract)).toEqual(problems.map(() => contract));
}

const listNotes = endpoint({
  method: 'GET',
  version: 1,
  path: '/notes',
  operationId: 'listNotes',
  summary: 'List notes',
  tags: ['notes'],
  auth: 'user',
  query: z.object({ kind: z.enum(['memo', 'todo']).optional(), q: z.string().max(100).optional(), since: Timestamp.optional() }),
  response: paginated(Note),
});

describe('checkContracts', () => {
  it('finds no problem in a sound API', () => {
    const valid = {
      listNotes,
      getNote: endpoint(getNoteDefinition),
      createNote: endpoint({
        method: 'POST',
        version: 1,
        path: '/notes',
        operationId: 'createNote',
        summary: 'Create a note',
        tags: ['notes'],
        auth: 'user',
        body: NewNote,
        response: { status: 201, body: Note },
        rateLimit: { points: 10, windowSeconds: 60, key: 'user' },
      }),
      lockNote: endpoint({
        method: 'PUT',
        version: 1,
        path: '/notes/{noteId}/lock',
        operationId: 'lockNote',
        summary: 'Lock a note',
        tags: ['notes', 'admin'],
        auth: { roles: ['admin'] },
        params: NoteParams,
        body: z.object({ reason: z.string().max(500) }),
        response: { status: 204 },
        errors: ['NOT_FOUND', 'NOTE_LOCKED'],
      }),
      deleteNote: endpoint({
        method: 'DELETE',
        version: 1,
        path: '/notes/{noteId}',
        operationId: 'deleteNote',
        summary: 'Delete a note',
        tags: ['notes'],
        auth: 'user',
        params: NoteParams,
        response: { status: 204 },
        deprecated: { since: '2026-01-01', sunset: '2099-07-01', use: 'archiveNote' },
      }),
      // The same path in the next major version is another route.
      getNoteV2: endpoint({ ...getNoteDefinition, version: 2, operationId: 'getNoteV2' }),
    };
    expect(problemsOfNotes(valid)).toEqual([]);
  });

  it('names both contracts when two share an operationId', () => {
    const problems = problemsOf({
      notes: { getNote: endpoint(getNoteDefinition) },
      archive: { getNote: getNoteWith({ path: '/archive/{noteId}' }) },
    });
    expectProblem(problems, 'archive.getNote', /operationId "getNote" is already used by notes\.getNote/);
    expectOnlyAbout(problems, 'archive.getNote');
  });

  it('refuses an operationId that is not camelCase', () => {
    const problems = problemsOfNotes({ listNotes, get_note: getNoteWith({ operationId: 'get_note' }) });
    expectProblem(problems, 'notes.get_note', /operationId "get_note" must be camelCase/);
    expectOnlyAbout(problems, 'notes.get_note');

    const pascal = problemsOfNotes({ GetNote: getNoteWith({ operationId: 'GetNote' }) });
    expectProblem(pascal, 'notes.GetNote', /operationId "GetNote" must be camelCase/);
  });

  it('refuses an operationId that differs from its export name', () => {
    const problems = problemsOfNotes({ listNotes, getNote: getNoteWith({ operationId: 'fetchNote' }) });
    expectProblem(problems, 'notes.getNote', /operationId "fetchNote" must equal its export name "getNote"/);
    expectOnlyAbout(problems, 'notes.getNote');
  });

  it('refuses a contract without a version or with version 0', () => {
    const { version: _omitted, ...unversioned } = getNoteDefinition;
    const missing = problemsOfNotes({ listNotes, getNote: endpoint(unversioned as unknown as EndpointDefinition) });
    expectProblem(missing, 'notes.getNote', /version/);
    expectOnlyAbout(missing, 'notes.getNote');

    const zero = problemsOfNotes({ listNotes, getNote: getNoteWith({ version: 0 }) });
    expectProblem(zero, 'notes.getNote', /version must be a major version number ≥ 1, got 0/);
    expectOnlyAbout(zero, 'notes.getNote');
  });

  it('refuses a path that carries the base path', () => {
    const problems = problemsOfNotes({ listNotes, getNote: getNoteWith({ path: '/api/v1/notes/{noteId}' }) });
    expectProblem(problems, 'notes.getNote', /path "\/api\/v1\/notes\/\{noteId\}".*base path \(\/api\/v\{version\}\)/);
    expectOnlyAbout(problems, 'notes.getNote');
  });

  it('refuses a path with a trailing slash', () => {
    const problems = problemsOfNotes({ listNotes, getNote: getNoteWith({ path: '/notes/{noteId}/' }) });
    expectProblem(problems, 'notes.getNote', /path "\/notes\/\{noteId\}\/" .*must not end with "\/"/);
    expectOnlyAbout(problems, 'notes.getNote');
  });

  it('refuses a path parameter that params does not declare', () => {
    const problems = problemsOfNotes({ listNotes, getNote: getNoteWith({ path: '/notes/{id}' }) });
    expectProblem(problems, 'notes.getNote', /path parameter "id" is not declared in params/);
    expectProblem(problems, 'notes.getNote', /params declares "noteId", which is not in the path/);
    expectOnlyAbout(problems, 'notes.getNote');

    const noParams = problemsOfNotes({ getNote: getNoteWith({ params: undefined }) });
    expectProblem(noParams, 'notes.getNote', /path parameter "noteId" is not declared in params/);
  });

  it('refuses a declared param that is not in the path', () => {
    const problems = problemsOfNotes({ listNotes, getNote: getNoteWith({ params: NoteParams.extend({ version: z.string().max(10) }) }) });
    expectProblem(problems, 'notes.getNote', /params declares "version", which is not in the path/);
    expectOnlyAbout(problems, 'notes.getNote');
  });

  it('refuses a tag the API does not describe', () => {
    const problems = problemsOfNotes({ listNotes, getNote: getNoteWith({ tags: ['drafts'] }) });
    expectProblem(problems, 'notes.getNote', /tag "drafts" is not described/);
    expectOnlyAbout(problems, 'notes.getNote');
  });

  it('refuses an undescribed tag in any position, not only the first', () => {
    const problems = problemsOfNotes({ listNotes, getNote: getNoteWith({ tags: ['notes', 'drafts'] }) });
    expectProblem(problems, 'notes.getNote', /tag "drafts" is not described/);
  });

  it('refuses an error code that is in no registry', () => {
    const problems = problemsOfNotes({ listNotes, getNote: getNoteWith({ errors: ['NOT_FOUND', 'NOTE_MISSING'] }) });
    expectProblem(problems, 'notes.getNote', /error code "NOTE_MISSING" is not in the error registry/);
    expectOnlyAbout(problems, 'notes.getNote');
  });

  it('accepts domain codes of the API and runtime codes', () => {
    expect(problemsOfNotes({ getNote: getNoteWith({ errors: ['NOT_FOUND', 'NOTE_LOCKED', 'CONFLICT'] }) })).toEqual([]);
  });

  it('refuses a stream answer on anything but GET', () => {
    const stream = { status: 200, stream: { item: Note } };
    expect(problemsOfNotes({ listNotes, getNote: getNoteWith({ response: stream }) })).toEqual([]);
    const posted = problemsOfNotes({ listNotes, getNote: getNoteWith({ method: 'POST', response: stream }) });
    expectProblem(posted, 'notes.getNote', /a stream answer is for GET only/);
    expectOnlyAbout(posted, 'notes.getNote');
  });

  it('refuses a GET with a body', () => {
    const problems = problemsOfNotes({ listNotes, getNote: getNoteWith({ body: z.object({ title: z.string().max(10) }) }) });
    expectProblem(problems, 'notes.getNote', /GET cannot have a body/);
    expectOnlyAbout(problems, 'notes.getNote');
  });

  it('names each unbounded input string and array by its path', () => {
    const createNote = endpoint({
      method: 'POST',
      version: 1,
      path: '/notes',
      operationId: 'createNote',
      summary: 'Create a note',
      tags: ['notes'],
      auth: 'user',
      query: z.object({ q: z.string() }),
      body: z.object({
        title: z.string().min(1),
        labels: z.array(z.string().max(30)),
        links: z.array(z.string()).max(5),
        kind: z.enum(['memo', 'todo']),
        remindAt: Timestamp.optional(),
        text: z.string().max(10_000),
      }),
      response: { status: 201, body: Note },
    });
    const problems = problemsOfNotes({ listNotes, createNote });
    expectOnlyAbout(problems, 'notes.createNote');
    expect(problems.map((p) => p.message).sort()).toEqual(
      [
        'body/labels has no maximum (add .max())',
        'body/links/* has no maximum (add .max())',
        'body/title has no maximum (add .max())',
        'query/q has no maximum (add .max())',
      ].sort(),
    );
  });

  function createNoteWithBody(body: z.ZodType) {
    return endpoint({
      method: 'POST',
      version: 1,
      path: '/notes',
      operationId: 'createNote',
      summary: 'Create a note',
      tags: ['notes'],
      auth: 'user',
      body,
      response: { status: 201, body: Note },
    });
  }

  it('finds an unbounded string inside a tuple', () => {
    const problems = problemsOfNotes({ createNote: createNoteWithBody(z.object({ position: z.tuple([z.string(), z.number()]) })) });
    expectProblem(problems, 'notes.createNote', /^body\/position\/.* has no maximum/);
  });

  it('finds unbounded record keys', () => {
    const problems = problemsOfNotes({ createNote: createNoteWithBody(z.object({ meta: z.record(z.string(), z.string().max(100)) })) });
    expectProblem(problems, 'notes.createNote', /^body\/meta.* has no maximum/);
  });

  it('refuses two contracts on the same method and path, even with other parameter names', () => {
    const readNote = getNoteWith({ operationId: 'readNote', path: '/notes/{id}', params: z.object({ id: Uuid }) });
    const problems = problemsOfNotes({ getNote: endpoint(getNoteDefinition), readNote });
    expectProblem(problems, 'notes.readNote', /GET \/api\/v1\/notes\/\{id\} is already served by notes\.getNote/);
    expectOnlyAbout(problems, 'notes.readNote');
  });

  it('accepts another method on the same path', () => {
    const removeNote = getNoteWith({ method: 'DELETE', operationId: 'removeNote', response: { status: 204 } });
    expect(problemsOfNotes({ getNote: endpoint(getNoteDefinition), removeNote })).toEqual([]);
  });

  it('takes a cache policy on a GET, private unless the operation is public', () => {
    expect(problemsOfNotes({ listNotes, getNote: getNoteWith({ cache: { scope: 'public', maxAge: 60 } }) })).toEqual([]);
    const shared = problemsOfNotes({ listNotes, getNote: getNoteWith({ auth: 'user', cache: { scope: 'public', maxAge: 60 } }) });
    expectProblem(shared, 'notes.getNote', /cache\.scope must be "private": the answer depends on who asks/);
    const write = problemsOfNotes({ listNotes, getNote: getNoteWith({ method: 'DELETE', cache: { scope: 'private', maxAge: 0 } }) });
    expectProblem(write, 'notes.getNote', /cache is for a GET answering JSON/);
    const age = problemsOfNotes({ listNotes, getNote: getNoteWith({ cache: { scope: 'public', maxAge: -1 } }) });
    expectProblem(age, 'notes.getNote', /cache\.maxAge must be a whole number of seconds/);
  });

  it('refuses a sunset that has passed: the operation must go', () => {
    const problems = problemsOfNotes({ listNotes, getNote: getNoteWith({ deprecated: { since: '2026-01-01', sunset: '2026-02-01' } }) });
    expectProblem(problems, 'notes.getNote', /its sunset \(2026-02-01\) has passed: remove the operation/);
  });

  it('refuses a sunset earlier than the deprecation', () => {
    const problems = problemsOfNotes({ listNotes, getNote: getNoteWith({ deprecated: { since: '2026-06-01', sunset: '2026-01-01' } }) });
    expectProblem(problems, 'notes.getNote', /sunset must not be earlier than deprecated\.since/);
    expectOnlyAbout(problems, 'notes.getNote');
  });

  it('reports every problem of a contract at once', () => {
    const problems = problemsOfNotes({
      getNote: getNoteWith({ version: 0, path: '/notes/{noteId}/', tags: ['drafts'], errors: ['NOPE'] }),
    });
    expectProblem(problems, 'notes.getNote', /version/);
    expectProblem(problems, 'notes.getNote', /path/);
    expectProblem(problems, 'notes.getNote', /tag "drafts"/);
    expectProblem(problems, 'notes.getNote', /error code "NOPE"/);
  });
});

describe('shared rate-limit policies and deep bodies', () => {
  it('refuses two limits with one name but different policies, naming both contracts', () => {
    const api = apiOf({
      notes: {
        getNote: getNoteWith({ rateLimit: { name: 'reads', points: 10, windowSeconds: 60, key: 'ip' } }),
        listNotes: endpoint({
          ...getNoteDefinition,
          path: '/notes',
          operationId: 'listNotes',
          params: undefined,
          rateLimit: { name: 'reads', points: 20, windowSeconds: 60, key: 'ip' },
        }),
      },
    });
    const problems = checkSharedLimits(listContracts(api), listEvents(api));
    expect(problems).toEqual([
      {
        contract: 'notes.listNotes',
        message: 'rate limit "reads" differs from the one of the same name in notes.getNote; a shared name is one counter',
      },
    ]);
  });

  it('accepts an endpoint and an event stating one shared policy', () => {
    const limit = { name: 'writes', points: 5, windowSeconds: 60, key: 'user' } as const;
    const api = apiOf({
      notes: {
        getNote: getNoteWith({ rateLimit: limit }),
        writeNote: clientEvent({
          name: 'note:write',
          summary: 'Write',
          payload: z.object({ text: z.string().max(10) }),
          ack: z.object({}),
          rateLimit: limit,
        }),
      },
    });
    expect(checkSharedLimits(listContracts(api), listEvents(api))).toEqual([]);
  });
});
