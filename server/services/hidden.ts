import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { AppDb, Tx } from '../db/database';
import { comments, groups, memories, messages, posts, type ReportTargetType, stories } from '../db/schema';

/**
 * Content a moderator hid (0018_sanctions.sql) is kept for an appeal and shown to its author only:
 * every read of posts, comments, stories, memories, messages and groups ANDs this in, so hidden
 * content leaves every list, feed and search at once and is NOT_FOUND to anyone else. Signed out
 * (null), nothing hidden is shown.
 */
export function shownTo(viewerId: string | null, hiddenAt: PgColumn | SQL, author: PgColumn | SQL): SQL {
  if (viewerId === null) return sql`${hiddenAt} IS NULL`;
  return sql`(${hiddenAt} IS NULL OR ${author} = ${viewerId})`;
}

/**
 * True when the group (by its id) is not hidden, or the viewer owns it: what is in a hidden group
 * (its posts, its events) goes with it.
 */
export function groupShown(viewerId: string | null, groupId: PgColumn | SQL): SQL {
  const owner =
    viewerId === null
      ? sql`false`
      : sql`EXISTS (SELECT 1 FROM group_members ho WHERE ho.group_id = hg.id AND ho.user_id = ${viewerId} AND ho.role = 'owner')`;
  // The group id stays outside the subquery: rendered unqualified ("id"), inside it would mean hg.id.
  return sql`(${groupId} IS NULL OR ${groupId} NOT IN (SELECT hg.id FROM groups hg WHERE hg.hidden_at IS NOT NULL AND NOT ${owner}))`;
}

export type ContentType = Exclude<ReportTargetType, 'user'>;

const tables = { post: posts, comment: comments, story: stories, memory: memories, message: messages, group: groups } as const;

export const isContent = (type: ReportTargetType): type is ContentType => type !== 'user';

/** Hides the content, or shows it again. */
export async function setHidden(tx: Tx, type: ContentType, id: string, hidden: boolean): Promise<void> {
  await tx.execute(sql`UPDATE ${tables[type]} SET hidden_at = ${hidden ? sql`now()` : sql`NULL`} WHERE id = ${id}`);
}

/** Deletes the content (what depends on it goes with it: comments of a post, a group's members). */
export async function removeContent(tx: Tx, type: ContentType, id: string): Promise<void> {
  await tx.execute(sql`DELETE FROM ${tables[type]} WHERE id = ${id}`);
}

/** Whether the content is still there and hidden. */
export async function isHidden(executor: AppDb | Tx, type: ContentType, id: string): Promise<boolean> {
  const { rows } = await executor.execute<{ hidden: boolean }>(
    sql`SELECT hidden_at IS NOT NULL AS hidden FROM ${tables[type]} WHERE id = ${id}`,
  );
  return rows[0]?.hidden === true;
}
