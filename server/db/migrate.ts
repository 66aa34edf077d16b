import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The two calls the migrator needs; both a PGlite instance and one checked-out pg client provide them. */
export interface SqlExecutor {
  exec(sql: string): Promise<void>;
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
}

export const defaultMigrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

// Any constant works as long as every instance of this app uses the same one.
const MIGRATION_LOCK_KEY = 7_246_031_001;
const MIGRATION_FILE = /^\d{4}_.+\.sql$/;

interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

/** Applies pending migrations in name order and returns the names it applied. */
export async function migrate(executor: SqlExecutor, directory = defaultMigrationsDir): Promise<string[]> {
  const migrations = await readMigrations(directory);
  // A session lock spans reading what ran and applying what did not, so a second instance
  // starting at the same moment waits and then finds everything already recorded.
  await executor.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
  try {
    await executor.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name       text PRIMARY KEY,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = new Map(
      (await executor.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations')).map((row) => [
        row.name,
        row.checksum,
      ]),
    );
    const pending = migrations.filter((migration) => {
      const recorded = applied.get(migration.name);
      if (recorded === undefined) return true;
      if (recorded !== migration.checksum) {
        throw new Error(
          `Migration ${migration.name} was changed after it was applied ` +
            `(recorded sha256 ${recorded}, file has ${migration.checksum}); add a new migration instead`,
        );
      }
      return false;
    });
    for (const migration of pending) await apply(executor, migration);
    return pending.map((migration) => migration.name);
  } finally {
    await executor.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
  }
}

async function readMigrations(directory: string): Promise<Migration[]> {
  const names = (await readdir(directory)).filter((name) => MIGRATION_FILE.test(name)).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(directory, name), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

async function apply(executor: SqlExecutor, migration: Migration): Promise<void> {
  await executor.exec('BEGIN');
  try {
    await executor.exec(migration.sql);
    await executor.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [migration.name, migration.checksum]);
    await executor.exec('COMMIT');
  } catch (error) {
    // If the connection itself broke, ROLLBACK fails too; the migration's error is the one to report.
    await executor.exec('ROLLBACK').catch(() => {});
    throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
  }
}
