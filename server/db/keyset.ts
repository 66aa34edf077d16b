import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';

/** Keyset paging on (created_at, id): the one way every list of the API pages. */
export interface PageKey {
  createdAt: Date;
  id: string;
}

/** Rows after a key; a row-value comparison breaks created_at ties by id and can use the index. */
/** A page asked for: how many items, and after which position (null: the first page). */
export interface Page {
  limit: number;
  after: PageKey | null;
}

export function after(createdAt: PgColumn, id: PgColumn, key: PageKey): SQL {
  return sql`(${createdAt}, ${id}) > (${key.createdAt.toISOString()}::timestamptz, ${key.id}::uuid)`;
}

/** Rows before a key, for newest-first lists. */
export function before(createdAt: PgColumn, id: PgColumn, key: PageKey): SQL {
  return sql`(${createdAt}, ${id}) < (${key.createdAt.toISOString()}::timestamptz, ${key.id}::uuid)`;
}

/** Queries fetch one row past the page: it tells whether another page exists without a count. */
export function toPage<T extends { createdAt: Date; id: string }>(rows: T[], limit: number): { items: T[]; next: PageKey | null } {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}
