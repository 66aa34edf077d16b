import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { openTestDatabase } from '../../support/database';

/**
 * PGlite runs no autovacuum (single-user mode): the app calls `maintain` hourly instead. It vacuums
 * (the pages of rows all transactions see are marked so, and dead rows' space is reusable) and
 * analyzes (the planner learns the tables' sizes).
 */
it('PGlite: maintain() vacuums and analyzes what nothing else would', async () => {
  const database = await openTestDatabase();
  const stats = async () =>
    (
      await database.db.execute<{ reltuples: number; relallvisible: number }>(
        sql`SELECT reltuples::int AS reltuples, relallvisible FROM pg_class WHERE relname = 'maintenance_probe'`,
      )
    ).rows[0];
  try {
    await database.db.execute(sql`CREATE TABLE maintenance_probe (id int PRIMARY KEY, n int NOT NULL)`);
    await database.db.execute(sql`INSERT INTO maintenance_probe SELECT i, 0 FROM generate_series(1, 2000) i`);
    for (let i = 0; i < 3; i++) await database.db.execute(sql`UPDATE maintenance_probe SET n = n + 1`);
    // Never analyzed nor vacuumed, however long the database runs.
    expect(await stats()).toEqual({ reltuples: -1, relallvisible: 0 });
    await database.maintain!();
    const after = await stats();
    expect(after!.reltuples).toBe(2000);
    expect(after!.relallvisible).toBeGreaterThan(0);
  } finally {
    await database.db.execute(sql`DROP TABLE IF EXISTS maintenance_probe`);
    await database.close();
  }
});
