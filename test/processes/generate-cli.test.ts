import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, editFile, removeProject, runGenerator, snapshot, type CliResult } from '../generator/fixtures/project';

/**
 * `npm run generate` as a developer and CI use it, on throwaway copies of the project, run in this
 * process (runCli); generate-command.test.ts runs it as a real process. In this tier, not `npm test`:
 * it regenerates the whole project a few dozen times (about 16 s of CPU). A copy's contracts are read
 * once, so each state of the contracts has its own copy.
 */
const copies: string[] = [];
function copy(): string {
  const root = copyProject();
  copies.push(root);
  return root;
}
afterAll(() => copies.forEach(removeProject));

/** The files named in a `--check` failure, without the `generated/` prefix. */
function staleFiles(result: CliResult): string[] {
  return [...result.stderr.matchAll(/^\s+generated\/(\S+)$/gm)].map((m) => m[1]!).sort();
}

function changedBetween(before: ReturnType<typeof snapshot>, after: ReturnType<typeof snapshot>): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((p) => before.get(p)?.content !== after.get(p)?.content).sort();
}

describe('npm run generate on an unchanged project', () => {
  let root: string;
  const generated = () => join(root, 'generated');
  beforeAll(() => {
    root = copy();
  });

  it('--check passes', async () => {
    const result = await runGenerator(root, ['--check']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/fresh/);
  });

  it('a run reports 0 changed and touches no file', async () => {
    const before = snapshot(generated());
    await new Promise((resolve) => setTimeout(resolve, 20));

    const result = await runGenerator(root);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\b0 changed\b/);
    expect(snapshot(generated())).toEqual(before);
  });

  it('--verbose prints the time of each step', async () => {
    const result = await runGenerator(root, ['--check', '--verbose']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^load \d+ ms, check \d+ ms, spec \d+ ms, .*render \d+ ms, client package \d+ ms, compare \d+ ms$/m);
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
  });

  // The client types are reused while the spec is unchanged (see generator/types.ts): that must not
  // let a hand edit of them, or of the spec, pass.
  it.each([
    [
      'the client types',
      'client/schema.ts',
      (text: string) => text.replace('export interface paths {', 'export interface paths {\n    "/hand/made": never;'),
    ],
    [
      'the stamp of the client types',
      'client/schema.ts',
      (text: string) =>
        text.replace(/(openapi\.json sha256:)(.)/, (_, stamp: string, digit: string) => stamp + (digit === '0' ? '1' : '0')),
    ],
    ['the spec', 'openapi.json', (text: string) => text.replace('"summary": "Get one event"', '"summary": "Hand-made"')],
  ])('--check names a hand edit of %s, and generate undoes it', async (_what, path, edit) => {
    const file = join(generated(), path);
    const original = readFileSync(file, 'utf8');
    const edited = edit(original);
    expect(edited).not.toBe(original);
    writeFileSync(file, edited);

    const check = await runGenerator(root, ['--check']);
    expect(check.code).toBe(1);
    expect(staleFiles(check)).toEqual([path]);

    expect((await runGenerator(root)).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(original);
  });

  it('--check --since-lock fails when api-lock/ itself was recorded again with a break', async () => {
    const earlier = mkdtempSync(join(tmpdir(), 'mundo-earlier-lock-'));
    copies.push(earlier);
    const lock = JSON.parse(readFileSync(join(root, 'api-lock/v1.json'), 'utf8'));
    writeFileSync(join(earlier, 'v1.json'), JSON.stringify(lock));
    expect((await runGenerator(root, ['--check', '--since-lock', earlier])).code).toBe(0);

    // An operation the earlier lock had, the current one has not: published, then dropped by hand.
    lock.operations['GET /api/v1/venues'] = { ...lock.operations['GET /api/v1/events'], operationId: 'listVenues' };
    writeFileSync(join(earlier, 'v1.json'), JSON.stringify(lock));
    const result = await runGenerator(root, ['--check', '--since-lock', earlier]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('api-lock/ was recorded again with 1 change(s) that break clients');
    expect(result.stderr).toContain('GET /api/v1/venues (listVenues): the operation was removed [operation-removed]');
  });

  it('a missing config file is reported by name, without a stack trace', async () => {
    const result = await runGenerator(root, ['--check', '--config', 'no-such.config.json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no-such.config.json');
    expect(result.stderr, 'a missing file is not a crash: no stack trace').not.toMatch(/^\s+at /m);
  });

  it('an unknown option is refused with the usage', async () => {
    const result = await runGenerator(root, ['--chekc']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Unknown option '--chekc'");
    expect(result.stderr).toContain('--check     write nothing');
  });

  it('--scaffold writes a 501 stub per tag that has no handler file, and never overwrites one', async () => {
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

  describe('with absolute paths', () => {
    let elsewhere: string;
    beforeAll(() => {
      elsewhere = mkdtempSync(join(tmpdir(), 'mundo-generator-elsewhere-'));
    });
    afterAll(() => removeProject(elsewhere));

    it('--config reads a config file given by an absolute path', async () => {
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
        JSON.stringify({
          contracts: 'contracts/index.ts',
          handlers: { dir: handlersDir, servicesImport: '../services', servicesType: 'Services' },
        }),
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

describe('npm run generate after a contract edit', () => {
  let root: string;
  /** What --check named, for the regenerate step to compare with. */
  let namedStale: string[] = [];
  const generated = () => join(root, 'generated');
  beforeAll(() => {
    root = copy();
    editFile(join(root, 'contracts/events.ts'), "summary: 'Get one event'", "summary: 'Fetch one event by its id'");
    // A compatible change of the contract besides: the gate lets it through, --publish records it.
    editFile(
      join(root, 'contracts/events.ts'),
      "operationId: 'getEvent',",
      "operationId: 'getEvent',\n  deprecated: { since: '2026-12-01', sunset: '2099-06-30' },",
    );
  });

  it('--check fails, names each stale file and writes nothing', async () => {
    const before = snapshot(generated());

    const result = await runGenerator(root, ['--check']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/stale/);
    expect(staleFiles(result)).toEqual(
      expect.arrayContaining(['openapi.json', 'server/handlers.ts', 'client/index.ts', 'client/schema.ts', 'docs/reference.md']),
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

  it('then --check passes', async () => {
    const result = await runGenerator(root, ['--check']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('--publish records the compatible change as released today, after which --check still passes', async () => {
    const before = readFileSync(join(generated(), 'docs/api-changelog.md'), 'utf8');
    expect(before).toMatch(
      /## Unreleased\n\n### Compatible\n\n- `GET \/api\/v1\/events\/\{eventId\} \(getEvent\)`:\n {2}- deprecated, sunset 2099-06-30/,
    );

    const publish = await runGenerator(root, ['--publish']);
    expect(publish.stderr).toBe('');
    expect(publish.code).toBe(0);
    const today = new Date().toISOString().slice(0, 10);
    // The deprecation, and the Deprecation and Sunset headers its answers now carry.
    expect(publish.stdout).toMatch(new RegExp(`^published \\d+ operations to api-lock/ \\(3 change\\(s\\), ${today}\\)`));
    const lock = JSON.parse(readFileSync(join(root, 'api-lock/v1.json'), 'utf8'));
    expect(lock.operations['GET /api/v1/events/{eventId}']).toMatchObject({
      operationId: 'getEvent',
      deprecated: true,
      sunset: '2099-06-30',
    });
    const changelog = readFileSync(join(generated(), 'docs/api-changelog.md'), 'utf8');
    expect(changelog).toContain('## Unreleased\n\nNo change since the last publication.');
    expect(changelog).toContain(
      `## ${today}\n\n- \`GET /api/v1/events/{eventId} (getEvent)\`:\n  - deprecated, sunset 2099-06-30\n  - 200 also sends the deprecation header`,
    );

    const after = await runGenerator(root, ['--check']);
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
  });
});

describe('the breaking-change gate', () => {
  it('fails --check naming each break and its operation; generate writes and warns; --publish refuses', async () => {
    const root = copy();
    // Venues of new and changed events may now be 100 characters, not 200: old clients' requests can fail.
    editFile(join(root, 'contracts/events.ts'), 'const venue = z.string().max(200)', 'const venue = z.string().max(100)');
    const before = snapshot(join(root, 'generated'));

    const check = await runGenerator(root, ['--check']);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('change(s) break clients of the published contracts (api-lock/)');
    expect(check.stderr).toContain('POST /api/v1/events (createEvent): body field venue: maxLength went from 200 to 100 [limit-lowered]');
    expect(check.stderr).toContain('PATCH /api/v1/events/{eventId} (updateEvent): body field venue: maxLength went from 200 to 100');
    // Responses may vary less: the same limit on the answers breaks nobody.
    expect(check.stderr).not.toContain('GET /api/v1/events/{eventId} (getEvent)');
    expect(snapshot(join(root, 'generated'))).toEqual(before);

    const generate = await runGenerator(root);
    expect(generate.code).toBe(0);
    expect(generate.stderr).toMatch(/^Warning: \d+ change\(s\) break clients/);
    const changelog = readFileSync(join(root, 'generated/docs/api-changelog.md'), 'utf8');
    const unreleased = changelog.slice(
      changelog.indexOf('## Unreleased'),
      changelog.indexOf('\n## ', changelog.indexOf('## Unreleased') + 1),
    );
    expect(unreleased).toContain('### Breaking');
    expect(unreleased).toMatch(
      /`POST \/api\/v1\/events \(createEvent\)`: \*\*breaking\*\*: body field venue: maxLength went from 200 to 100/,
    );
    expect(unreleased).toMatch(
      /### Compatible[\s\S]*`GET \/api\/v1\/events\/\{eventId\} \(getEvent\)`: 200 response field data.venue: maxLength went from 200 to 100/,
    );

    const lock = readFileSync(join(root, 'api-lock/v1.json'), 'utf8');
    const publish = await runGenerator(root, ['--publish']);
    expect(publish.code).toBe(1);
    expect(publish.stderr).toMatch(/^Not published: /);
    expect(readFileSync(join(root, 'api-lock/v1.json'), 'utf8')).toBe(lock);
  });
});

describe('npm run generate on a broken contract', () => {
  it('stops with a message naming it, and writes nothing', async () => {
    const root = copy();
    editFile(join(root, 'contracts/events.ts'), "operationId: 'getEvent'", "operationId: 'get_event'");
    editFile(join(root, 'contracts/events.ts'), "summary: 'List events'", "summary: 'List every event'");
    const before = snapshot(join(root, 'generated'));

    const result = await runGenerator(root);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/events\.getEvent: operationId "get_event" must be camelCase/);
    expect(result.stderr).toMatch(/events\.getEvent: operationId "get_event" must equal its export name "getEvent"/);
    expect(result.stderr, 'a contract problem is not a crash: no stack trace').not.toMatch(/^\s+at /m);
    expect(snapshot(join(root, 'generated'))).toEqual(before);
  });
});
