import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';
import { defaultMigrationsDir, migrate } from '../../server/db/migrate';
import { reachable, type Service, serviceUrl, services } from './services';

const cacheDir = fileURLToPath(new URL('../../node_modules/.cache/mundo-tango-tests/', import.meta.url));

/**
 * Once per run, before any test file: a migrated PGlite data directory for every test database to
 * start from, and which of PostgreSQL and Redis this run can use.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const [templates, { unavailable, notes }] = await Promise.all([pgliteTemplates(), unavailableServices()]);
  project.provide('pgliteTemplates', templates);
  project.provide('unavailable', unavailable);
  const say = () => {
    for (const note of notes) console.warn(`\n${note}\n`);
  };
  say();
  // Again at the end, next to the summary whose skipped count it explains.
  return say;
}

/**
 * Creating a PGlite cluster takes seconds, loading a dump of one under a second, so a new cluster
 * and the migrated one are dumped to files kept between runs, named by the PGlite version and the
 * migrations: a new or edited migration, or another PGlite, makes new ones.
 */
async function pgliteTemplates(): Promise<{ empty: string; migrated: string }> {
  const migrations = (await readdir(defaultMigrationsDir)).sort();
  // The package's exports hide its package.json; it sits next to the dist/ folder its entry is in.
  const pglitePackage = join(dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), '..', 'package.json');
  const key = createHash('sha256').update(JSON.parse(await readFile(pglitePackage, 'utf8')).version);
  for (const name of migrations) key.update(name).update(await readFile(join(defaultMigrationsDir, name)));
  const name = `pglite-${key.digest('hex').slice(0, 16)}`;
  const files = { empty: join(cacheDir, `${name}-empty.tar`), migrated: join(cacheDir, `${name}.tar`) };
  const exists = (file: string) => stat(file).then(Boolean, () => false);
  if ((await exists(files.empty)) && (await exists(files.migrated))) return files;

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
  // Dumps for other migrations are 40 MB each; one a day old is no longer read by a run still going.
  for (const other of await readdir(cacheDir)) {
    const path = join(cacheDir, other);
    if (!Object.values(files).includes(path) && (await stat(path)).mtimeMs < Date.now() - 86_400_000) await rm(path, { force: true });
  }
  return files;
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
