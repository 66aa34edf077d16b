import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Database, type DatabaseOptions } from '../../server/db/database';

export const testDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Connection options for an empty store no other test uses, and a way to throw it away. */
export interface ScratchStore {
  options: DatabaseOptions;
  dispose(): Promise<void>;
}

export interface Backend {
  name: Database['kind'];
  /** A migrated database of its own; closing it also deletes it. */
  open(): Promise<Database>;
  /** For tests that open the same store more than once (migrations, restarts). */
  scratch(): Promise<ScratchStore>;
}

export const backends: Backend[] = [
  {
    name: 'pglite',
    open: () => openDatabase({}),
    async scratch() {
      // On disk, because an in-memory PGlite cannot be opened a second time; nested like the
      // app's own .data/pglite, whose folders openDatabase has to create.
      const parent = await mkdtemp(join(tmpdir(), 'mundo-tango-pglite-'));
      return {
        options: { dataDir: join(parent, '.data', 'pglite') },
        dispose: () => rm(parent, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
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
