import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../server/db/database';
import { defaultMigrationsDir, migrate } from '../../server/db/migrate';
import { SEEDED_PREFIX } from './database';
import { reachable, type Service, serviceUrl, services } from './services';

/**
 * Kept by this machine, not by the checkout: a fresh clone (CI's) finds the templates an earlier run
 * made, named by what they are made of, instead of making them again (several seconds).
 */
const cacheDir = join(tmpdir(), 'mundo-tango-tests');

/**
 * Once per run, before any test file: a migrated PGlite data directory for every test database to
 * start from, and which of PostgreSQL and Redis this run can use.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const [templates, { unavailable, notes }] = await Promise.all([
    pgliteTemplates(),
    unavailableServices(),
    pruneModuleCache(project.config.experimental?.fsModuleCachePath),
  ]);
  project.provide('pgliteTemplates', templates);
  project.provide('postgresTemplate', unavailable.postgres ? undefined : await postgresTemplate());
  project.provide('unavailable', unavailable);
  const run = `r${process.pid}`;
  project.provide('testRun', run);
  const say = () => {
    for (const note of notes) console.warn(`\n${note}\n`);
  };
  say();
  return async () => {
    // Workers keep emptied test databases for their next files (test/support/database.ts): none outlives the run.
    if (!unavailable.postgres) await dropTestDatabases(run);
    // Again at the end, next to the summary whose skipped count it explains.
    say();
  };
}

/**
 * Vitest keeps each transformed module in its file cache and never removes one; the generator's
 * tests transform copies of the contracts at new paths on every run. Entries not written for a day
 * go (the modules still in use are transformed again once).
 */
async function pruneModuleCache(dir: string | undefined): Promise<void> {
  if (!dir) return;
  const entries = await readdir(dir).catch(() => []);
  const dayAgo = Date.now() - 86_400_000;
  for (const entry of entries) {
    const path = join(dir, entry);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && info.mtimeMs < dayAgo) await rm(path, { force: true });
  }
}

/**
 * Creating a PGlite cluster takes seconds, loading a dump of one under a second, so a new cluster
 * and the migrated one are dumped to files kept between runs, named by the PGlite version and the
 * migrations: a new or edited migration, or another PGlite, makes new ones.
 */
async function pgliteTemplates(): Promise<{ empty: string; migrated: string; emptyDir: string }> {
  const migrations = (await readdir(defaultMigrationsDir)).sort();
  // The package's exports hide its package.json; it sits next to the dist/ folder its entry is in.
  const pglitePackage = join(dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), '..', 'package.json');
  const key = createHash('sha256').update(JSON.parse(await readFile(pglitePackage, 'utf8')).version);
  for (const name of migrations) key.update(name).update(await readFile(join(defaultMigrationsDir, name)));
  const name = `pglite-${key.digest('hex').slice(0, 16)}`;
  const files = {
    empty: join(cacheDir, `${name}-empty.tar`),
    migrated: join(cacheDir, `${name}.tar`),
    emptyDir: join(cacheDir, `${name}-empty`),
  };
  const exists = (file: string) => stat(file).then(Boolean, () => false);
  if ((await exists(files.empty)) && (await exists(files.migrated)) && (await exists(files.emptyDir))) return files;

  await mkdir(cacheDir, { recursive: true });
  // Written aside and renamed, so a run starting meanwhile never loads half a file.
  const save = async (dump: Blob, file: string) => {
    const partial = `${file}.${process.pid}`;
    await writeFile(partial, new Uint8Array(await dump.arrayBuffer()));
    await rename(partial, file);
  };
  const client = await PGlite.create();
  try {
    await save(await client.dumpDataDir('none'), files.empty);
    await migrate({
      exec: async (text) => {
        await client.exec(text);
      },
      query: async <Row>(text: string, params?: unknown[]) => (await client.query<Row>(text, params)).rows,
    });
    await save(await client.dumpDataDir('none'), files.migrated);
  } finally {
    await client.close();
  }
  // The empty cluster as files too, for tests that open a data directory on disk (copied, never opened in place).
  const partialDir = `${files.emptyDir}.${process.pid}`;
  const onDisk = await PGlite.create(partialDir, { loadDataDir: new Blob([new Uint8Array(await readFile(files.empty))]) });
  await onDisk.close();
  await rm(files.emptyDir, { recursive: true, force: true });
  await rename(partialDir, files.emptyDir);
  // Dumps for other migrations are 40 MB each; one a day old is no longer read by a run still going.
  for (const other of await readdir(cacheDir)) {
    const path = join(cacheDir, other);
    if (!Object.values(files).includes(path) && (await stat(path)).mtimeMs < Date.now() - 86_400_000)
      await rm(path, { recursive: true, force: true });
  }
  return files;
}

/**
 * A PostgreSQL database with every migration applied, named by the migrations, that each test
 * database is created from (CREATE DATABASE … TEMPLATE): a copy takes a tenth of a second, applying
 * the migrations to a new database a few. Made once, kept between runs; older ones are dropped but
 * the two newest.
 */
async function postgresTemplate(): Promise<string> {
  const key = createHash('sha256');
  for (const name of (await readdir(defaultMigrationsDir)).sort())
    key.update(name).update(await readFile(join(defaultMigrationsDir, name)));
  const name = `test_template_${key.digest('hex').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: serviceUrl('postgres') });
  await admin.connect();
  try {
    // Seeded copies of other migrations' templates (openSeededPostgres) are never read again.
    const stale = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND NOT starts_with(datname, $2)`,
      [SEEDED_PREFIX, `${SEEDED_PREFIX}${name.slice(-16)}_`],
    );
    for (const { datname } of stale.rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => {});
    // Newest first (a database's oid grows with its creation).
    const existing = (
      await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'test_template_%' ORDER BY oid DESC`)
    ).rows;
    if (existing.some((row) => row.datname === name)) return name;
    // Built under a name of its own and renamed, so a run starting meanwhile never copies half of one.
    const partial = `${name}_${process.pid}`;
    await admin.query(`CREATE DATABASE ${partial}`);
    const url = new URL(serviceUrl('postgres'));
    url.pathname = `/${partial}`;
    const database = await openDatabase({ url: url.toString() });
    await database.close();
    await admin.query(`ALTER DATABASE ${partial} RENAME TO ${name}`).catch(async (error: unknown) => {
      // Another run made it first.
      await admin.query(`DROP DATABASE ${partial}`);
      if (!(await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name])).rowCount) throw error;
    });
    // The two newest others stay: another checkout on this machine (another branch, other
    // migrations) may be running its tests from one right now.
    for (const { datname } of existing.slice(2)) await admin.query(`DROP DATABASE IF EXISTS ${datname}`).catch(() => {});
    return name;
  } finally {
    await admin.end();
  }
}

/** Drops this run's test databases, and those of runs whose process is gone (a run killed midway). */
async function dropTestDatabases(run: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serviceUrl('postgres') });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname ~ '^test_r[0-9]+_'`);
    for (const { datname } of rows) {
      const pid = Number(/^test_r([0-9]+)_/.exec(datname)![1]);
      if (`r${pid}` === run || !alive(pid)) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => {});
    }
  } finally {
    await admin.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function unavailableServices(): Promise<{ unavailable: Partial<Record<Service, string>>; notes: string[] }> {
  const unavailable: Partial<Record<Service, string>> = {};
  const notes: string[] = [];
  await Promise.all(
    (Object.keys(services) as Service[]).map(async (service) => {
      const { label, variable } = services[service];
      const url = serviceUrl(service);
      const problem = await reachable(url);
      if (!problem) return;
      const where = `${label} at ${redact(url)} (${problem})`;
      if (process.env[variable]) throw new Error(`${variable} is set, but ${where} is not reachable`);
      unavailable[service] = `${label} not reachable`;
      notes.push(`${where} is not reachable: its tests are skipped. Start it, or set ${variable} to one that is.`);
    }),
  );
  return { unavailable, notes };
}

const redact = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
