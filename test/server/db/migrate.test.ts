import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, expect, inject, it } from 'vitest';
import { openDatabase, type Database } from '../../../server/db/database';
import { defaultMigrationsDir } from '../../../server/db/migrate';
import { createEventStore } from '../../../server/services/events';
import { describeEachBackend, type ScratchStore } from '../../support/database';

const recorded = async (database: Database) =>
  (await database.db.execute<{ name: string; checksum: string }>(sql`SELECT name, checksum FROM schema_migrations ORDER BY name`)).rows;

const visitCount = async (database: Database) =>
  (await database.db.execute<{ count: number }>(sql`SELECT count(*)::int AS count FROM visits`)).rows[0]?.count;

describeEachBackend('migrations', (backend) => {
  let store: ScratchStore;
  let migrationsDir: string;
  const opened: Database[] = [];

  const open = async (dir?: string) => {
    const database = await openDatabase({ ...store.options, migrationsDir: dir });
    opened.push(database);
    return database;
  };
  const closeAll = () => Promise.all(opened.splice(0).map((database) => database.close()));
  const writeMigration = (name: string, text: string) => writeFile(join(migrationsDir, name), text);

  beforeEach(async () => {
    store = await backend.scratch();
    migrationsDir = await mkdtemp(join(tmpdir(), 'mundo-tango-migrations-'));
  });

  afterEach(async () => {
    await closeAll();
    await store.dispose();
    await rm(migrationsDir, { recursive: true, force: true });
  });

  // The migrator (server/db/migrate.ts) is one piece of code for both backends: what does not depend
  // on the storage runs on PostgreSQL, or on PGlite when PostgreSQL is not reachable. PGlite's own
  // part, a data directory on disk kept across restarts, is the next test; `npm start`'s first start
  // (test/server/main.test.ts) applies every project migration to one.
  const primary = backend.name === 'postgres' || inject('unavailable').postgres !== undefined;
  if (primary) {
    it("applies the project's migrations, records them, and keeps data across restarts", async () => {
      const first = await open();
      const files = (await readdir(defaultMigrationsDir)).filter((name) => /^\d{4}_.*\.sql$/.test(name)).sort();
      expect(files[0]).toBe('0001_events.sql');
      const expected = await Promise.all(
        files.map(async (name) => ({
          name,
          checksum: createHash('sha256')
            .update(await readFile(join(defaultMigrationsDir, name), 'utf8'))
            .digest('hex'),
        })),
      );
      expect(await recorded(first)).toEqual(expected);
      const event = await createEventStore(first.db).create({
        organizerId: crypto.randomUUID(),
        title: 'Milonga de los Consagrados',
        kind: 'milonga',
        city: 'Buenos Aires',
        startsAt: new Date('2030-05-01T22:00:00Z'),
        endsAt: new Date('2030-05-02T03:00:00Z'),
      });
      await closeAll();

      const second = await open();
      expect(await recorded(second)).toEqual(expected);
      expect(await createEventStore(second.db).get(event.id)).toEqual(event);
    });
  }

  it('applies each migration once, and only the new ones on a later start', async () => {
    await writeMigration('0001_visits.sql', 'CREATE TABLE visits (id serial PRIMARY KEY);');
    await writeMigration('0002_first_visit.sql', 'INSERT INTO visits DEFAULT VALUES;');
    await writeMigration('README.md', 'not a migration');
    expect(await visitCount(await open(migrationsDir))).toBe(1);
    await closeAll();

    await writeMigration('0003_second_visit.sql', 'INSERT INTO visits DEFAULT VALUES;');
    const database = await open(migrationsDir);
    expect(await visitCount(database)).toBe(2);
    expect((await recorded(database)).map((row) => row.name)).toEqual(['0001_visits.sql', '0002_first_visit.sql', '0003_second_visit.sql']);
  });

  if (primary) {
    it('refuses to start when an applied migration was edited', async () => {
      await writeMigration('0001_visits.sql', 'CREATE TABLE visits (id serial PRIMARY KEY);');
      await open(migrationsDir);
      await closeAll();

      await writeMigration('0001_visits.sql', 'CREATE TABLE visits (id bigserial PRIMARY KEY);');
      await expect(open(migrationsDir)).rejects.toThrow(/0001_visits\.sql was changed after it was applied/);
    });

    it('rolls back a failing migration completely, so a fixed file applies cleanly', async () => {
      await writeMigration('0001_visits.sql', 'CREATE TABLE visits (id serial PRIMARY KEY);');
      await writeMigration('0002_broken.sql', 'CREATE TABLE guests (id int); INSERT INTO nowhere VALUES (1);');
      await expect(open(migrationsDir)).rejects.toThrow(/Migration 0002_broken\.sql failed/);

      await writeMigration('0002_broken.sql', 'CREATE TABLE guests (id int);');
      const database = await open(migrationsDir);
      expect((await recorded(database)).map((row) => row.name)).toEqual(['0001_visits.sql', '0002_broken.sql']);
    });
  }

  // PGlite is one process owning its files, so only PostgreSQL can have two instances start at once.
  if (backend.name === 'postgres')
    it('lets one of two instances starting together apply a migration', async () => {
      await writeMigration('0001_visits.sql', 'CREATE TABLE visits (id serial PRIMARY KEY);');
      await writeMigration('0002_first_visit.sql', 'SELECT pg_sleep(0.2); INSERT INTO visits DEFAULT VALUES;');
      const starts = await Promise.allSettled([open(migrationsDir), open(migrationsDir)]);
      expect(starts.map((start) => start.status)).toEqual(['fulfilled', 'fulfilled']);
      const [a, b] = opened;
      expect(await visitCount(a!)).toBe(1);
      expect(await recorded(b!)).toHaveLength(2);
    });
});
