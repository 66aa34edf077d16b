import { createHash, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { describe, inject } from 'vitest';
import { openDatabase, type Database, type DatabaseOptions } from '../../server/db/database';
import { describeWith, type Service, serviceUrl } from './services';

export const testDatabaseUrl = serviceUrl('postgres');

const templates: Partial<Record<'empty' | 'migrated', Promise<Blob>>> = {};

/** A data directory dump made once per run (test/support/global-setup.ts), read once per worker. */
const template = (kind: 'empty' | 'migrated') =>
  (templates[kind] ??= readFile(inject('pgliteTemplates')[kind]).then((bytes) => new Blob([bytes])));

const execFileAsync = promisify(execFile);

/**
 * Closed test databases of this worker, emptied and ready for the next file: loading the template
 * into a new PGlite costs most of a second of CPU, emptying one a few milliseconds.
 */
const idle: Database[] = [];
let pristineSchema: Promise<string> | undefined;

/**
 * The same for PostgreSQL: this worker's test databases its files closed, kept by name (each file
 * opens its own connections, so no session state carries over) and emptied when next opened. A copy
 * of the template cost the server a third of a second of CPU. The run's teardown drops them
 * (test/support/global-setup.ts).
 */
const idlePostgres: ScratchStore[] = [];
let pristinePostgresSchema: Promise<string> | undefined;

/** The database's tables, triggers and functions: a test that changed them leaves a database no other may reuse. */
async function schemaOf(database: Database): Promise<string> {
  const { rows } = await database.db.execute<{ schema: string }>(sql`
    SELECT coalesce((SELECT string_agg(relname || ':' || relkind::text, ',' ORDER BY relname) FROM pg_class
        WHERE relnamespace = 'public'::regnamespace), '')
      || ';' || coalesce((SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal), '')
      || ';' || coalesce((SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc
        WHERE pronamespace = 'public'::regnamespace), '') AS schema`);
  return rows[0]!.schema;
}

/** Every table emptied (but the record of migrations), sequences restarted, the session reset. */
async function empty(database: Database): Promise<void> {
  await database.db.execute(sql`DISCARD ALL`);
  const { rows } = await database.db.execute<{ name: string }>(
    sql`SELECT format('%I', tablename) AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`,
  );
  await database.db.execute(sql.raw(`TRUNCATE ${rows.map((row) => row.name).join(', ')} RESTART IDENTITY CASCADE`));
}

/**
 * A migrated in-memory PGlite of its own: a new one, or one another file of this worker closed,
 * emptied. Closing it gives it back, unless its schema changed (then it is closed for real).
 */
export async function openTestDatabase(): Promise<Database> {
  const reused = idle.pop();
  if (reused) await empty(reused);
  const database = reused ?? (await openDatabase({ template: await template('migrated') }));
  pristineSchema ??= schemaOf(database);
  let closed = false;
  return {
    ...database,
    async close() {
      if (closed) return;
      closed = true;
      if ((await schemaOf(database).catch(() => undefined)) === (await pristineSchema)) idle.push(database);
      else await database.close();
    },
  };
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
      await execFileAsync('cp', ['-a', inject('pgliteTemplates').emptyDir, dataDir]);
      return { options: { dataDir }, dispose: () => rm(parent, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    needs: ['postgres'],
    async open() {
      // An emptied database a file of this worker closed, else a new copy of the migrated template.
      const reused = idlePostgres.pop();
      const store = reused ?? (await createPostgresDatabase(inject('postgresTemplate')));
      try {
        const database = await openDatabase(store.options);
        if (reused) await empty(database);
        pristinePostgresSchema ??= schemaOf(database);
        let closed = false;
        return {
          ...database,
          async close() {
            if (closed) return;
            closed = true;
            const unchanged = (await schemaOf(database).catch(() => undefined)) === (await pristinePostgresSchema);
            await database.close();
            if (unchanged) idlePostgres.push(store);
            else await store.dispose();
          },
        };
      } catch (error) {
        await store.dispose();
        throw error;
      }
    },
    scratch: () => createPostgresDatabase(),
  },
];

/** One suite per backend; a backend whose server is not reachable has its suite skipped, the reason in its title. */
export function describeEachBackend(title: string, suite: (backend: Backend) => void): void {
  for (const backend of backends) describeWith(backend.needs, `${title} on ${backend.name}`, () => suite(backend));
}

/**
 * One suite on PostgreSQL, the backend a deployment serves from and the one where simultaneous
 * requests really race; on PGlite when PostgreSQL is not reachable. For the domain suites: every
 * operation also meets PGlite on each run through the contract fuzzer and the suites that run on
 * it alone, so running these twice bought little for what it cost `npm test`.
 */
export function describeOnServerBackend(title: string, suite: (backend: Backend) => void): void {
  const backend = serverBackend();
  describe(`${title} on ${backend.name}`, () => suite(backend));
}

/**
 * A migrated database of the file's own on the server backend (see describeOnServerBackend): for the
 * files whose subject is not the database itself.
 */
export function openServerDatabase(): Promise<Database> {
  return serverBackend().open();
}

function serverBackend(): Backend {
  return backends.find((b) => b.name === (inject('unavailable').postgres ? 'pglite' : 'postgres'))!;
}

/**
 * A PostgreSQL database holding the rows `seed` writes (and the statistics ANALYZE gathered),
 * copied from a database seeded once on this machine: the query-plan suites seed tens of thousands
 * of rows, which took seconds per suite and run, a copy a fraction of one. The copy is named by the
 * migrations and the seed's source text, so editing either seeds a new one; what the seed leaves in
 * temporary tables is gone in the copy (read ids from the tables).
 */
export async function openSeededPostgres(seed: (database: Database) => Promise<void>): Promise<Database> {
  const template = inject('postgresTemplate')!;
  const key = createHash('sha256').update(template).update(seed.toString()).digest('hex').slice(0, 12);
  const name = `${SEEDED_PREFIX}${template.slice(-16)}_${key}`;
  let exists = false;
  await asAdmin(async (admin) => {
    exists = ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0;
  });
  if (!exists) {
    // Seeded under a name of its own and renamed, so a run starting meanwhile never copies half of one.
    const store = await createPostgresDatabase(template);
    const database = await openDatabase(store.options);
    try {
      await seed(database);
    } finally {
      await database.close();
    }
    const partial = new URL(store.options.url!).pathname.slice(1);
    await asAdmin(async (admin) => {
      await admin.query(`ALTER DATABASE ${partial} RENAME TO ${name}`).catch(async () => {
        // Another run seeded it first.
        await admin.query(`DROP DATABASE IF EXISTS ${partial} WITH (FORCE)`);
      });
    });
  }
  const store = await createPostgresDatabase(name);
  const database = await openDatabase(store.options);
  return {
    ...database,
    async close() {
      await database.close();
      await store.dispose();
    },
  };
}

/** Seeded copies' names start so; test/support/global-setup.ts drops those of other migrations. */
export const SEEDED_PREFIX = 'test_seeded_';

/** A new database: a copy of the migrated template when given (test/support/global-setup.ts), else empty. */
async function createPostgresDatabase(template?: string): Promise<ScratchStore> {
  const name = `test_${inject('testRun')}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await asAdmin(async (admin) => {
    await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
    // A test database is thrown away: commits need not wait for the disk.
    await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  });
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
