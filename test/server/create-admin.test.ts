import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/database';
import { createTestApp } from '../support/app';

/** `npm run create-admin` as an operator runs it, then the account signing in through the API. */
const tsx = join(process.cwd(), 'node_modules/.bin/tsx');
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mundo-admin-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

function createAdmin(args: string[], stdin: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(tsx, ['server/cli/create-admin.ts', ...args], { env: { PATH: process.env.PATH, DATA_DIR: dataDir } }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin);
  });
}

describe('create-admin', () => {
  it('creates an administrator who can sign in with the admin role, reading the password from stdin', async () => {
    const created = await createAdmin(['--username', 'Maestra', '--display-name', 'La Maestra'], 'the first admin of mundo tango\n');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('created administrator maestra');
    expect(created.stdout + created.stderr).not.toContain('the first admin of mundo tango');

    const database = await openDatabase({ dataDir: join(dataDir, 'pglite') });
    try {
      const { app, close } = await createTestApp(database);
      const res = await request(app).post('/api/v1/auth/login').send({ username: 'maestra', password: 'the first admin of mundo tango' });
      expect(res.status).toBe(200);
      expect(res.body.data.session.user.roles).toEqual(['user', 'admin']);
      await close();
    } finally {
      await database.close();
    }
  });

  it('refuses a weak password and names the problem', async () => {
    const res = await createAdmin(['--username', 'other'], 'short\n');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('password refused: Use at least 8 characters');
  });
});
