import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Attributes } from '@opentelemetry/api';
import type { Pool, PoolClient } from 'pg';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { lockDataDir, makePrivateDir, restrictModes } from './data-dir';
import { migrate, type SqlExecutor } from './migrate';
import { type Query, tracedQuery } from './query-spans';
import * as schema from './schema';

/** Both drivers answer a raw `db.execute()` with at least `{ rows }`; this says so to the compiler. */
export interface AppQueryResultHKT extends PgQueryResultHKT {
  readonly type: RawResult<this['row']>;
}

export interface RawResult<Row> {
  rows: Row[];
}

/** The one Drizzle type services are written against, whichever driver is underneath. */
export type AppDb = PgDatabase<AppQueryResultHKT, typeof schema>;
/** A transaction of `AppDb`, as its `transaction` callback receives it. */
export type Tx = Parameters<Parameters<AppDb['transaction']>[0]>[0];

export interface Database {
  db: AppDb;
  kind: 'pglite' | 'postgres';
  /** PostgreSQL's pool right now (open, idle, waiting for one), for metrics; PGlite has none. */
  pool?: () => { total: number; idle: number; waiting: number };
  ping(): Promise<void>;
  /**
   * PGlite only (PostgreSQL's autovacuum does it there): `VACUUM (ANALYZE)` of the whole database.
   * PGlite runs PostgreSQL in single-user mode, with no autovacuum and no statistics collector, so
   * without it the space of updated and deleted rows is never reused and the planner never learns
   * the tables' sizes. It holds up every other query while it runs (seconds for a large database).
   */
  maintain?(): Promise<void>;
  close(): Promise<void>;
}

export interface PoolBounds {
  max?: number;
  connectionTimeoutMs?: number;
  queryTimeoutMs?: number;
}

const DEFAULT_POOL: Required<PoolBounds> = { max: 10, connectionTimeoutMs: 5_000, queryTimeoutMs: 10_000 };
/** How much longer than the server's statement timeout the client waits for an answer. */
const CLIENT_GRACE_MS = 2_000;
/** Idle time before TCP starts probing a connection (Linux waits two hours by default). */
const KEEPALIVE_DELAY_MS = 10_000;

export interface DatabaseOptions {
  /** A PostgreSQL connection string; when absent the embedded PGlite is used. */
  url?: string;
  /**
   * Where PGlite keeps its files; omitted or `memory://` keeps everything in memory. A directory is
   * private to its owner (0700, files 0600) and open in one process at a time: a second opening
   * fails with a `DataDirInUseError`.
   */
  dataDir?: string;
  /**
   * A dump of a PGlite data directory (`PGlite.dumpDataDir('none')`) that a new PGlite database
   * starts from instead of a new cluster (a data directory only when it holds no database yet):
   * loading one takes under a second, creating a cluster several. Tests start every database
   * from a dump made once per run.
   */
  template?: Blob;
  /**
   * PostgreSQL's pool, bounded: at most `max` connections; a query waits `connectionTimeoutMs` for a
   * free one and `queryTimeoutMs` for its answer, then fails (an outage answers 503, see outage.ts),
   * rather than queueing or hanging without end.
   */
  pool?: PoolBounds;
  /** Defaults to server/db/migrations; tests point it at their own files. */
  migrationsDir?: string;
  /** Start-up progress (npm start logs each step): connected, then the migrations applied (none when current). */
  onConnected?: () => void;
  onMigrated?: (applied: string[]) => void;
}

/** Connects and applies pending migrations before returning, so callers only ever see a current schema. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const database = options.url
    ? await openPostgres(options.url, { ...DEFAULT_POOL, ...options.pool })
    : await openPglite(options.dataDir, options.template);
  options.onConnected?.();
  try {
    await database.withExecutor(async (executor) => {
      const applied = await migrate(executor, options.migrationsDir);
      options.onMigrated?.(applied);
    });
  } catch (error) {
    await database.close();
    throw error;
  }
  return {
    db: database.db,
    kind: database.kind,
    ...(database.pool ? { pool: database.pool } : {}),
    ...(database.kind === 'pglite' ? { maintain: () => database.withExecutor((executor) => executor.exec('VACUUM (ANALYZE)')) } : {}),
    ping: async () => {
      await database.db.execute(sql`SELECT 1`);
    },
    close: database.close,
  };
}

interface OpenedDatabase {
  db: AppDb;
  kind: Database['kind'];
  pool?: Database['pool'];
  withExecutor(use: (executor: SqlExecutor) => Promise<unknown>): Promise<void>;
  close(): Promise<void>;
}

async function openPostgres(url: string, bounds: Required<PoolBounds>): Promise<OpenedDatabase> {
  // Loaded here, not at the top: the embedded default starts without the pg driver.
  const [{ default: pg }, { drizzle: drizzleNodePg }] = await Promise.all([import('pg'), import('drizzle-orm/node-postgres')]);
  const timed = bounds.queryTimeoutMs > 0;
  const pool = new pg.Pool({
    connectionString: url,
    max: bounds.max,
    connectionTimeoutMillis: bounds.connectionTimeoutMs,
    // The server cancels a runaway statement (the connection stays usable); the client gives up a
    // little later, only when the server does not answer at all. 0 turns both off: PgBouncer, say,
    // refuses statement_timeout as a startup parameter (set it on the role there).
    ...(timed ? { statement_timeout: bounds.queryTimeoutMs, query_timeout: bounds.queryTimeoutMs + CLIENT_GRACE_MS } : {}),
    // A connection to a host that vanished is noticed by TCP within seconds, not hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
  });
  // Without a listener an idle client dropped by the server would crash the process; the pool
  // already discards that client and the next query reports the outage to its caller.
  pool.on('error', () => {});
  // A query the server never answered leaves its connection unusable (the answer may still come):
  // it is closed, so the pool never hands it out again (Drizzle gives a transaction's client back
  // without saying it failed).
  pool.on('connect', (client) => {
    // A connection lost while its client is checked out is an `error` event with no listener of the
    // pool's (an uncaught exception): the query in flight rejects with it anyway, and the pool drops the client.
    client.on('error', () => {});
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const result = query(...args);
      if (result instanceof Promise) {
        result.catch((error: unknown) => {
          if ((error as Error)?.message === 'Query read timeout')
            (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
        });
      }
      return result;
    };
  });
  // What each query's span says of the database (tracing: query-spans.ts); never the credentials.
  const { hostname, port, pathname } = new URL(url);
  const server = {
    'db.namespace': decodeURIComponent(pathname.slice(1)),
    ...(hostname ? { 'server.address': hostname, 'server.port': Number(port || 5432) } : {}),
  };
  return {
    db: drizzleNodePg({ client: tracedPool(pool, server), schema }),
    kind: 'postgres',
    pool: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    // Transactions and the advisory lock are per connection, so the migrator gets one client.
    // A connection of its own, outside the pool and its timeouts: a migration may take minutes.
    async withExecutor(use) {
      const client = new pg.Client({
        connectionString: url,
        keepAlive: true,
        keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
        connectionTimeoutMillis: bounds.connectionTimeoutMs,
      });
      // The failing query rejects anyway: this listener only keeps a dropped connection from crashing the process.
      const ignore = () => {};
      client.on('error', ignore);
      await client.connect();
      try {
        await use({
          exec: async (text) => {
            await client.query(text);
          },
          query: async <Row>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as Row[],
        });
      } finally {
        // Closing it releases the advisory lock and any transaction a failure left open.
        await client.end().catch(() => {});
        client.off('error', ignore);
      }
    },
    close: () => pool.end(),
  };
}

async function openPglite(dataDir = 'memory://', template?: Blob): Promise<OpenedDatabase> {
  if (dataDir.includes('://')) return pglite(await PGlite.create(dataDir, { loadDataDir: template }), async () => {});
  await makePrivateDir(dataDir);
  const lock = await lockDataDir(dataDir);
  try {
    const fresh = template && !(await stat(join(dataDir, 'PG_VERSION')).catch(() => undefined));
    const client = await PGlite.create(dataDir, { loadDataDir: fresh ? template : undefined });
    // A new database's files are written world-writable, and an older directory may be so too.
    await restrictModes(dataDir);
    return pglite(client, () => lock.release());
  } catch (error) {
    await lock.release();
    throw error;
  }
}

function pglite(client: PGlite, afterClose: () => Promise<void>): OpenedDatabase {
  return {
    db: drizzlePglite({ client: tracedPglite(client), schema }),
    kind: 'pglite',
    async withExecutor(use) {
      await use({
        exec: async (text) => {
          await client.exec(text);
        },
        query: async <Row>(text: string, params?: unknown[]) => (await client.query<Row>(text, params)).rows,
      });
    },
    async close() {
      try {
        await client.close();
      } finally {
        await afterClose();
      }
    },
  };
}

/**
 * The pool as Drizzle sees it: its queries, and those of the clients it checks out for transactions,
 * traced in the caller's context (pg's own queueing for a free client would lose it). Drizzle uses
 * nothing else of it; the pool itself is unchanged.
 */
function tracedPool(pool: Pool, server: Attributes): Pool {
  return Object.create(pool, {
    query: { value: tracedQuery(pool.query.bind(pool) as Query, server) },
    connect: {
      value: async () => {
        const client = await pool.connect();
        return Object.create(client, {
          query: { value: tracedQuery(client.query.bind(client) as Query, server) },
          release: { value: (error?: Error | boolean) => client.release(error) },
        }) as PoolClient;
      },
    },
  }) as Pool;
}

/** PGlite as Drizzle sees it: its queries and those of its transactions traced; Drizzle calls nothing else of it. */
function tracedPglite(client: PGlite): PGlite {
  const server = {};
  return Object.create(client, {
    query: { value: tracedQuery(client.query.bind(client) as Query, server) },
    transaction: {
      value: (run: (tx: Transaction) => Promise<unknown>) =>
        client.transaction((tx) => run(Object.create(tx, { query: { value: tracedQuery(tx.query as Query, server) } }) as Transaction)),
    },
  }) as PGlite;
}
