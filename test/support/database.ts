import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type Database, type DatabaseOptions } from '../../server/db/database';
import { describeWith, type Service, serviceUrl } from './services';

export const testDatabaseUrl = serviceUrl('postgres');

const templates: Partial<Record<'empty' | 'migrated', Promise<Blob>>> = {};

/** A data directory dump made once per run (test/support/global-setup.ts), read once per worker. */
const template = (kind: 'empty' | 'migrated') =>
  (templates[kind] ??= readFile(inject('pgliteTemplates')[kind]).then((bytes) => new Blob([bytes])));

const execFileAsync = promisify(execFile);
let pristine: Promise<string> | undefined;

/**
 * An empty PGlite data directory written once per worker: writing the template to disk costs a
 * second or more, copying the files a few milliseconds.
 */
function pristineDataDir(): Promise<string> {
  pristine ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mundo-tango-pristine-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const client = await PGlite.create(dir, { loadDataDir: await template('empty') });
    await client.close();
    return dir;
  })();
  return pristine;
}

/** A migrated in-memory PGlite of its own. */
export async function openTestDatabase(): Promise<Database> {
  return openDatabase({ template: await template('migrated') });
}

/** Connection options for an empty store no other test uses, and a way to throw it away. */
export interface ScratchStore {
  options: DatabaseOptions;
  dispose(): Promise<void>;
}

export interface Backend {
  name: Database['kind'];
  /** The servers it needs; without them its suites are skipped. */
  needs: Service[];
  /** A migrated database of its own; closing it also deletes it. */
  open(): Promise<Database>;
  /** For tests that open the same store more than once (migrations, restarts). */
  scratch(): Promise<ScratchStore>;
}

export const backends: Backend[] = [
  {
    name: 'pglite',
    needs: [],
    open: openTestDatabase,
    async scratch() {
      // On disk, because an in-memory PGlite cannot be opened a second time; nested like the
      // app's own .data/pglite, whose folders openDatabase has to create.
      const parent = await mkdtemp(join(tmpdir(), 'mundo-tango-pglite-'));
      const dataDir = join(parent, '.data', 'pglite');
      await mkdir(join(parent, '.data'), { mode: 0o700 });
      // cp(1) copies the thousand files in a tenth of the time fs.cp takes.
      await execFileAsync('cp', ['-a', await pristineDataDir(), dataDir]);
      return { options: { dataDir }, dispose: () => rm(parent, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    needs: ['postgres'],
    async open() {
      const store = await createPostgresDatabase();
      try {
        const database = await openDatabase(store.options);
        return {
          ...database,
          async close() {
            await database.close();
            await store.dispose();
          },
        };
      } catch (error) {
        await store.dispose();
        throw error;
      }
    },
    scratch: createPostgresDatabase,
  },
];

/** One suite per backend; a backend whose server is not reachable has its suite skipped, the reason in its title. */
export function describeEachBackend(title: string, suite: (backend: Backend) => void): void {
  for (const backend of backends) describeWith(backend.needs, `${title} on ${backend.name}`, () => suite(backend));
}

async function createPostgresDatabase(): Promise<ScratchStore> {
  const name = `test_${process.pid}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await asAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    options: { url: url.toString() },
    dispose: () =>
      // FORCE ends the sessions still connected (say, a pool a failed test never closed)
      // instead of refusing to drop.
      asAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

async function asAdmin(use: (admin: pg.Client) => Promise<unknown>): Promise<void> {
  const admin = new pg.Client({ connectionString: testDatabaseUrl });
  await admin.connect();
  try {
    await use(admin);
  } finally {
    await admin.end();
  }
}
