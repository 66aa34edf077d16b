import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import pg from 'pg';
import { openDatabase, type Database } from '../../server/db/database';

/**
 * The stores the social benchmark runs on: an in-memory PGlite (the default, nothing to install),
 * a scratch database on a PostgreSQL server (created for the run and dropped after it, as
 * test/support/database.ts does), and Redis for two instances.
 */

/** A migrated in-memory PGlite; closing it throws it away. */
export function openPglite(): Promise<Database> {
  return openDatabase({});
}

/** Whether something answers on the URL's host and port: a TCP connection within a few seconds. */
export function reachable(url: string, timeoutMs = 2000): Promise<string | null> {
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const defaultPort = url.startsWith('redis') ? 6379 : 5432;
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) || defaultPort, timeout: timeoutMs });
    const settle = (problem: string | null) => {
      socket.destroy();
      resolve(problem);
    };
    socket.once('connect', () => settle(null));
    socket.once('timeout', () => settle(`no answer within ${timeoutMs} ms`));
    socket.once('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
  });
}

/** Scratch databases not dropped yet, so that an interrupted run can still drop them. */
const scratch = new Map<string, () => Promise<void>>();

export async function dropScratchDatabases(): Promise<void> {
  for (const [name, drop] of [...scratch]) {
    scratch.delete(name);
    await drop().catch(() => {});
  }
}

/** A new database on the server `adminUrl` names (migrated); closing it drops it. */
export async function openScratchPostgres(adminUrl: string): Promise<Database> {
  const name = `bench_social_${process.pid}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const asAdmin = async (text: string) => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(text);
    } finally {
      await admin.end();
    }
  };
  await asAdmin(`CREATE DATABASE ${name}`);
  // FORCE ends the sessions still connected (a pool not closed after a failure) instead of refusing to drop.
  const drop = () => asAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  scratch.set(name, drop);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let database: Database;
  try {
    database = await openDatabase({ url: url.toString() });
  } catch (error) {
    scratch.delete(name);
    await drop();
    throw error;
  }
  return {
    ...database,
    async close() {
      try {
        await database.close();
      } finally {
        scratch.delete(name);
        await drop();
      }
    },
  };
}
