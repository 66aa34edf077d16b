import { type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { AppDb } from '../../server/db/database';
import type { PageKey } from '../../server/db/keyset';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMediaService } from '../../server/services/media';
import { diskMediaFiles } from '../../server/services/media-files';
import { createPostService } from '../../server/services/posts';

/** The feed's posts carry no media here, but the service reads their media like in production. */
const benchMedia = join(tmpdir(), 'mundo-tango-bench-media');
const postService = (db: AppDb) =>
  createPostService(db, createMediaService(db, { files: diskMediaFiles(benchMedia), workDir: benchMedia, quotaBytes: 0 }));

/**
 * Feed latency: `postService(db).feed(viewer, { limit, after })` called in this process one
 * after another (no HTTP), each call timed alone, the post views it loads included. The deep cursor
 * is the one a client holds after following `depth` pages from the top.
 */
export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  /** Items on the page (a check that the call did list something). */
  items: number;
}

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;

export async function timeFeed(
  db: AppDb,
  viewerId: string,
  after: PageKey | null,
  settings: { limit: number; iterations: number; warmup: number },
): Promise<Latency> {
  const posts = postService(db);
  const page = { limit: settings.limit, after };
  for (let i = 0; i < settings.warmup; i++) await posts.feed(viewerId, page);
  const times: number[] = [];
  let items = 0;
  for (let i = 0; i < settings.iterations; i++) {
    const started = performance.now();
    items = (await posts.feed(viewerId, page)).items.length;
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), p99: percentile(times, 0.99), items };
}

/** The cursor after `depth` pages, followed from the top as a client scrolling down would; null if the feed ends first. */
export async function cursorAfter(db: AppDb, viewerId: string, limit: number, depth: number): Promise<PageKey | null> {
  const posts = postService(db);
  let after: PageKey | null = null;
  for (let i = 0; i < depth; i++) {
    after = (await posts.feed(viewerId, { limit, after })).next;
    if (!after) return null;
  }
  return after;
}

/**
 * The statement `feed` sends, captured: the service runs on a view of `db` whose `execute` keeps
 * what it is given. The feed's own query is the first raw one it makes (what loads the post views
 * comes after it), so the text and parameters are the service's own, not a copy.
 */
export async function captureFeedQuery(
  db: AppDb,
  viewerId: string,
  page: { limit: number; after: PageKey | null },
): Promise<{ query: SQL; chars: number; params: number }> {
  const captured: SQL[] = [];
  const spy = new Proxy(db, {
    get(target, property, receiver) {
      if (property !== 'execute') return Reflect.get(target, property, receiver);
      return <Row extends Record<string, unknown>>(query: SQLWrapper | string) => {
        captured.push(typeof query === 'string' ? sql.raw(query) : query.getSQL());
        return target.execute<Row>(query);
      };
    },
  });
  await postService(spy).feed(viewerId, page);
  const [query] = captured;
  if (!query) throw new Error('feed made no raw query to capture');
  const text = new PgDialect().sqlToQuery(query);
  if (!/\bFROM posts\b/.test(text.sql)) throw new Error(`the first raw query of feed does not read posts: ${text.sql.slice(0, 200)}`);
  return { query, chars: text.sql.length, params: text.params.length };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Heap Fetches'?: number;
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
  Plans?: PlanNode[];
}

export interface ExplainSummary {
  planningMs: number;
  executionMs: number;
  rows: number;
  sharedHit: number;
  sharedRead: number;
  /** Per scanned relation and index: loops, rows returned, rows removed by filters (totals over the loops; EXPLAIN rounds per loop). */
  scans: { relation: string; via: string; loops: number; rows: number; removed: number }[];
}

const bitmapIndexes = (node: PlanNode): string[] =>
  node['Relation Name'] ? [] : [...(node['Index Name'] ? [node['Index Name']] : []), ...(node.Plans ?? []).flatMap(bitmapIndexes)];

/** EXPLAIN (ANALYZE, BUFFERS) of a captured statement, with its parameters, on the same pool the service uses. */
export async function explain(db: AppDb, query: SQL): Promise<ExplainSummary> {
  const { rows } = await db.execute<{ 'QUERY PLAN': [{ Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }] }>(
    sql`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query}`,
  );
  const [result] = rows[0]!['QUERY PLAN'];
  const scans = new Map<string, ExplainSummary['scans'][number]>();
  const walk = (node: PlanNode) => {
    if (node['Relation Name']) {
      // A bitmap heap scan names its relation, the bitmap index scans under it their indexes.
      const indexes = node['Index Name'] ? [node['Index Name']] : (node.Plans ?? []).flatMap(bitmapIndexes);
      const via = indexes.length > 0 ? `${node['Node Type']} ${indexes.join(', ')}` : node['Node Type'];
      const key = `${node['Relation Name']} ${via}`;
      const scan = scans.get(key) ?? { relation: node['Relation Name'], via, loops: 0, rows: 0, removed: 0 };
      const loops = node['Actual Loops'];
      scan.loops += loops;
      scan.rows += node['Actual Rows'] * loops;
      scan.removed += ((node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * loops;
      scans.set(key, scan);
    }
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(result.Plan);
  return {
    planningMs: result['Planning Time'],
    executionMs: result['Execution Time'],
    rows: result.Plan['Actual Rows'],
    sharedHit: result.Plan['Shared Hit Blocks'],
    sharedRead: result.Plan['Shared Read Blocks'],
    scans: [...scans.values()].sort((a, b) => b.rows + b.removed - (a.rows + a.removed)),
  };
}
