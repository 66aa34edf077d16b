import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** `npm start` as a real process: configuration checks, the local secret, serving, SIGTERM. */
const tsx = join(process.cwd(), 'node_modules/.bin/tsx');
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mundo-main-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

function start(env: Record<string, string>) {
  const child = spawn(tsx, ['server/main.ts'], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('server/main.ts', () => {
  it('refuses to start in production without JWT_SECRET, naming the variable', async () => {
    const run = start({ NODE_ENV: 'production' });
    expect(await run.exited).toBe(1);
    expect(run.output().stderr).toContain('JWT_SECRET is required when NODE_ENV=production');
  });

  it('refuses a JWT_SECRET shorter than 32 bytes', async () => {
    const run = start({ NODE_ENV: 'production', JWT_SECRET: 'too-short' });
    expect(await run.exited).toBe(1);
    expect(run.output().stderr).toContain('JWT_SECRET must be at least 32 bytes');
  });

  it('names a malformed variable', async () => {
    const run = start({ PORT: 'eighty' });
    expect(await run.exited).toBe(1);
    expect(run.output().stderr).toMatch(/PORT: .*number/i);
  });

  it('starts locally with a generated secret, serves health, and exits 0 on SIGTERM', async () => {
    const run = start({ NODE_ENV: 'development', LOG_LEVEL: 'info' });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line:\n${JSON.stringify(run.output())}`)), 20_000);
      run.child.stdout.on('data', () => {
        const match = /listening on (http:\/\/[^\s]+)/.exec(run.output().stdout);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    const res = await fetch(`${url}/api/v1/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { database: string } }).data.database).toBe('reachable');

    const secret = await readFile(join(dataDir, 'jwt-secret'), 'utf8');
    expect(Buffer.from(secret, 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(run.output().stdout).toContain('JWT_SECRET is not set: created a random local secret');
    expect(run.output().stdout).not.toContain(secret);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output().stdout).toContain('"msg":"shut down"');
  });
});
