import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmin } from '../../server/cli/admin';
import type { Database } from '../../server/db/database';
import { lockDataDir } from '../../server/db/data-dir';
import { createTestApp } from '../support/app';
import { openServerDatabase } from '../support/database';

/** `npm run create-admin` as an operator runs it, then the account signing in through the API. */
let database: Database;

beforeAll(async () => {
  database = await openServerDatabase();
});
afterAll(() => database?.close());

async function run(args: string[], stdin: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await createAdmin(args, { env: {}, stdin: Readable.from([stdin]), stdout, stderr, database });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function signIn(username: string, password: string) {
  const { app, close } = await createTestApp(database);
  try {
    return await request(app).post('/api/v1/auth/login').send({ username, password });
  } finally {
    await close();
  }
}

describe('create-admin', () => {
  it('creates an administrator who can sign in with the admin role, reading the password from stdin', async () => {
    const created = await run(['--username', 'Maestra', '--display-name', 'La Maestra'], 'the first admin of mundo tango\n');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('created administrator maestra');
    expect(created.stdout + created.stderr).not.toContain('the first admin of mundo tango');

    const res = await signIn('maestra', 'the first admin of mundo tango');
    expect(res.status).toBe(200);
    expect(res.body.data.user.roles).toEqual(['user', 'admin']);
  });

  it('gives an existing account the admin role without asking for a password', async () => {
    const { app, close } = await createTestApp(database);
    try {
      const registered = await request(app)
        .post('/api/v1/auth/register')
        .send({ username: 'milonguero', password: 'a long enough tango password', displayName: 'Milonguero' });
      expect(registered.status).toBe(201);
    } finally {
      await close();
    }
    const promoted = await run(['--username', 'Milonguero'], '');
    expect(promoted).toMatchObject({ code: 0, stdout: 'milonguero is now an administrator\n' });
    expect((await signIn('milonguero', 'a long enough tango password')).body.data.user.roles).toEqual(['user', 'admin']);
  });

  it('stops with one line, not a stack, while a server holds the data directory', async () => {
    // What a running server holds: the lock of its data directory (nothing needs to be in it).
    const parent = await mkdtemp(join(tmpdir(), 'mundo-admin-'));
    const dataDir = join(parent, 'pglite');
    await mkdir(dataDir, { mode: 0o700 });
    const held = await lockDataDir(dataDir);
    try {
      const stderr = new PassThrough();
      const err: string[] = [];
      stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
      const code = await createAdmin(['--username', 'boss'], {
        env: { DATA_DIR: parent },
        stdin: Readable.from(['a long enough password\n']),
        stdout: new PassThrough(),
        stderr,
      });
      expect(code).toBe(1);
      const lines = err.join('').trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(dataDir);
    } finally {
      await held.release();
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('refuses a weak password and names the problem', async () => {
    const res = await run(['--username', 'other'], 'short\n');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('password refused: Use at least 8 characters');
  });
});

describe('npm run create-admin', () => {
  it('as a process: exits 1 naming what is missing, before touching the data directory', { timeout: 30_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mundo-admin-'));
    try {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        // As package.json runs it: one node process with tsx's loader.
        const child = execFile(
          process.execPath,
          ['--import', 'tsx', 'server/cli/create-admin.ts'],
          { env: { PATH: process.env.PATH, DATA_DIR: dataDir } },
          (error, _stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }),
        );
        child.stdin!.end();
      });
      expect(result).toEqual({ code: 1, stderr: '--username is required\n' });
      expect(await readdir(dataDir)).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
