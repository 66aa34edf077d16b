import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, editFile, removeProject, runGenerator, snapshot, type CliResult } from './fixtures/project';

/**
 * `npm run generate` as a developer and CI use it, in a throwaway copy of the project. The steps
 * build on each other (edit → stale → regenerate → fresh), so they run in order on one copy.
 */
let root: string;
let originalEvents: string;
/** What --check named after the contract edit, for the regenerate step to compare with. */
let namedStale: string[] = [];
const generated = () => join(root, 'generated');
const eventsContract = () => join(root, 'contracts/events.ts');

/** The files named in a `--check` failure, without the `generated/` prefix. */
function staleFiles(result: CliResult): string[] {
  return [...result.stderr.matchAll(/^\s+generated\/(\S+)$/gm)].map((m) => m[1]!).sort();
}

function changedBetween(before: ReturnType<typeof snapshot>, after: ReturnType<typeof snapshot>): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((p) => before.get(p)?.content !== after.get(p)?.content).sort();
}

beforeAll(() => {
  root = copyProject();
  originalEvents = readFileSync(eventsContract(), 'utf8');
});
afterAll(() => removeProject(root));

describe('npm run generate', () => {
  it('--check passes on a fresh copy of the project', async () => {
    const result = await runGenerator(root, ['--check']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/fresh/);
  });

  it('--check fails after a contract edit, names each stale file and writes nothing', async () => {
    editFile(eventsContract(), "summary: 'Get one event'", "summary: 'Fetch one event by its id'");
    const before = snapshot(generated());

    const result = await runGenerator(root, ['--check']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/stale/);
    expect(staleFiles(result)).toEqual(
      expect.arrayContaining(['openapi.json', 'server/handlers.ts', 'client/index.ts', 'docs/reference.md']),
    );
    expect(snapshot(generated())).toEqual(before);
    namedStale = staleFiles(result);
  });

  it('generate rewrites exactly the files --check named', async () => {
    const before = snapshot(generated());

    const result = await runGenerator(root);
    expect(result.code).toBe(0);
    const after = snapshot(generated());
    expect(changedBetween(before, after)).toEqual(namedStale);
    expect(result.stdout).toMatch(new RegExp(`\\b${namedStale.length} changed\\b`));
    expect(after.get('openapi.json')!.content).toContain('Fetch one event by its id');
    expect(after.get('openapi.json')!.content).not.toContain('Get one event');
  });

  it('a second run reports 0 changed and touches no file', async () => {
    const before = snapshot(generated());
    await new Promise((resolve) => setTimeout(resolve, 20));

    const result = await runGenerator(root);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\b0 changed\b/);
    expect(snapshot(generated())).toEqual(before);
  });

  it('--check names a stray file and a missing one; generate removes the first and restores the second', async () => {
    const stray = join(generated(), 'server/old-routes.ts');
    writeFileSync(stray, '// left over from a renamed tag\n');
    const reference = join(generated(), 'docs/reference.md');
    const referenceText = readFileSync(reference, 'utf8');
    rmSync(reference);

    const check = await runGenerator(root, ['--check']);
    expect(check.code).toBe(1);
    expect(staleFiles(check)).toEqual(['docs/reference.md', 'server/old-routes.ts']);
    expect(existsSync(stray)).toBe(true);
    expect(existsSync(reference)).toBe(false);

    const result = await runGenerator(root);
    expect(result.code).toBe(0);
    expect(existsSync(stray)).toBe(false);
    expect(readFileSync(reference, 'utf8')).toBe(referenceText);
    expect(existsSync(join(generated(), 'server/routes.ts'))).toBe(true);
  });

  it('a broken contract stops the run with a message naming it, and nothing is written', async () => {
    editFile(eventsContract(), "operationId: 'getEvent'", "operationId: 'get_event'");
    editFile(eventsContract(), "summary: 'List events'", "summary: 'List every event'");
    const before = snapshot(generated());

    const result = await runGenerator(root);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/events\.getEvent: operationId "get_event" must be camelCase/);
    expect(result.stderr).toMatch(/events\.getEvent: operationId "get_event" must equal its export name "getEvent"/);
    expect(result.stderr, 'a contract problem is not a crash: no stack trace').not.toMatch(/^\s+at /m);
    expect(snapshot(generated())).toEqual(before);
  });

  it('--scaffold writes a 501 stub per tag that has no handler file, and never overwrites one', async () => {
    writeFileSync(eventsContract(), originalEvents);
    writeFileSync(
      join(root, 'scaffold.config.json'),
      JSON.stringify({
        contracts: 'contracts/index.ts',
        export: 'api',
        outDir: 'generated',
        handlers: { dir: 'app/handlers', servicesImport: '../services', servicesType: 'AppServices' },
      }),
    );
    const handlersDir = join(root, 'app/handlers');
    mkdirSync(handlersDir, { recursive: true });
    const mine = '// my own health handlers\n';
    writeFileSync(join(handlersDir, 'health.ts'), mine);

    const result = await runGenerator(root, ['--scaffold', '--config', 'scaffold.config.json']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/scaffolded app\/handlers\/events\.ts/);
    expect(result.stdout).not.toMatch(/scaffolded app\/handlers\/health\.ts/);
    expect(readFileSync(join(handlersDir, 'health.ts'), 'utf8')).toBe(mine);

    const stub = readFileSync(join(handlersDir, 'events.ts'), 'utf8');
    expect(stub).toMatch(/export const events: EventsHandlers<AppServices> = \{/);
    expect(stub).toContain("import type { AppServices } from '../services';");
    expect(stub).toContain("from '../../generated/server'");
    for (const operationId of ['listEvents', 'getEvent', 'createEvent', 'updateEvent', 'deleteEvent']) {
      expect(stub).toContain(`${operationId}() {`);
      expect(stub).toContain(`new ApiError('NOT_IMPLEMENTED', '${operationId} is not implemented yet')`);
    }

    const edited = stub.replace("'getEvent is not implemented yet'", "'work in progress'");
    writeFileSync(join(handlersDir, 'events.ts'), edited);
    const again = await runGenerator(root, ['--scaffold', '--config', 'scaffold.config.json']);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toMatch(/scaffolded/);
    expect(readFileSync(join(handlersDir, 'events.ts'), 'utf8')).toBe(edited);
    expect(readFileSync(join(handlersDir, 'health.ts'), 'utf8')).toBe(mine);
  });

  it('a missing config file is reported by name, without a stack trace', async () => {
    const result = await runGenerator(root, ['--check', '--config', 'no-such.config.json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no-such.config.json');
    expect(result.stderr, 'a missing file is not a crash: no stack trace').not.toMatch(/^\s+at /m);
  });

  describe('with absolute paths', () => {
    let elsewhere: string;
    beforeAll(() => {
      elsewhere = mkdtempSync(join(tmpdir(), 'mundo-generator-elsewhere-'));
    });
    afterAll(() => removeProject(elsewhere));

    it('--config reads a config file given by an absolute path', async () => {
      writeFileSync(eventsContract(), originalEvents);
      const config = join(elsewhere, 'generator.config.json');
      writeFileSync(config, readFileSync(join(root, 'generator.config.json')));

      const result = await runGenerator(root, ['--config', config]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    });

    it('--scaffold writes into an absolute handlers.dir, with imports that resolve from there', async () => {
      const handlersDir = join(elsewhere, 'handlers');
      writeFileSync(
        join(root, 'absolute.config.json'),
        JSON.stringify({ contracts: 'contracts/index.ts', handlers: { dir: handlersDir, servicesImport: '../services', servicesType: 'Services' } }),
      );

      const result = await runGenerator(root, ['--scaffold', '--config', 'absolute.config.json']);
      expect(result.code).toBe(0);
      const stub = join(handlersDir, 'events.ts');
      expect(existsSync(stub), `${stub} written`).toBe(true);
      const generatedServer = /import type \{ EventsHandlers \} from '([^']+)';/.exec(readFileSync(stub, 'utf8'))?.[1];
      expect(generatedServer).toBeDefined();
      expect(existsSync(join(resolve(handlersDir, generatedServer!), 'index.ts'))).toBe(true);
    });
  });
});
