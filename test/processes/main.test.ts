import { spawnSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess } from './server-process';

/** `npm start` as a real process: configuration checks, the local secret, serving, SIGTERM. */
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mundo-main-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const start = (env: Record<string, string>) => startServerProcess({ DATA_DIR: dataDir, ...env });

async function until(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('until: timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Processes that stop at their configuration, run at once: one per way main.ts reports it (the
// environment's schema, the secret). The rules themselves are tested in-process (config.test.ts,
// test/runtime/server/secret.test.ts).
describe.concurrent('server/main.ts refuses a bad configuration', () => {
  it('refuses to start in production without JWT_SECRET, naming the variable', async () => {
    const run = start({ NODE_ENV: 'production' });
    expect(await run.exited).toBe(1);
    expect(run.output().stderr).toContain('JWT_SECRET is required when NODE_ENV=production');
  });

  it('names a malformed variable', async () => {
    const run = start({ PORT: 'eighty' });
    expect(await run.exited).toBe(1);
    expect(run.output().stderr).toMatch(/PORT: .*number/i);
  });
});

describe('server/main.ts', () => {
  it('starts locally with a generated secret, serves health, and exits 0 on SIGTERM', { timeout: 120_000 }, async () => {
    // A crashed server's lock: taken over, since its process is gone.
    const lockFile = join(dataDir, 'pglite', 'mundo.lock');
    const crashed = spawnSync(process.execPath, ['-e', '']).pid;
    await mkdir(join(dataDir, 'pglite'), { recursive: true });
    await writeFile(lockFile, `${crashed}\n`);

    const run = start({ NODE_ENV: 'development', LOG_LEVEL: 'info', PORT: '0' });
    const port = await run.port();
    const listening = run.listening();
    listening.catch(() => {});

    // `npm start` and `npm run dev` at once. The port is taken first, then the data directory,
    // while the database is still opening: a second server stops in one line, on the port
    // before touching any data, or on the data directory.
    let early: Response | undefined;
    await until(async () => {
      early = await fetch(`http://127.0.0.1:${port}/api/v1/health`).catch(() => undefined);
      return early !== undefined;
    });
    // The port answers while the new database is being created: not ready yet, come back.
    expect(early!.status).toBe(503);
    expect(early!.headers.get('retry-after')).toBe('1');
    expect(await early!.json()).toMatchObject({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      type: 'https://mundotango.life/problems/service-unavailable',
    });
    // Taken over: the stale lock is removed, then the server's pid written (a moment with no file).
    await until(async () => {
      const holder = (await readFile(lockFile, 'utf8').catch(() => '')).trim();
      return /^\d+$/.test(holder) && holder !== String(crashed);
    });
    const pid = Number((await readFile(lockFile, 'utf8')).trim());
    const otherDir = await mkdtemp(join(tmpdir(), 'mundo-main-other-'));
    try {
      const samePort = start({ PORT: String(port), DATA_DIR: otherDir });
      const sameData = start({});
      expect(await samePort.exited).toBe(1);
      expect(await sameData.exited).toBe(1);
      expect(samePort.output().stderr.trim()).toBe(
        `Cannot listen on 127.0.0.1:${port}: the port is already in use (stop what runs there, or set PORT to another port)`,
      );
      await expect(stat(join(otherDir, 'pglite'))).rejects.toMatchObject({ code: 'ENOENT' });
      const refusal = sameData.output().stderr.trim();
      expect(refusal).not.toContain('\n');
      expect(refusal).toContain(`The data directory ${join(dataDir, 'pglite')} is in use by another server (pid ${pid})`);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }

    const url = await listening;
    const res = await fetch(`${url}/api/v1/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { database: string } }).data.database).toBe('reachable');

    const secret = await readFile(join(dataDir, 'jwt-secret'), 'utf8');
    expect(Buffer.from(secret, 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(run.output().stdout).toContain('JWT_SECRET is not set: created a random local secret');
    expect(run.output().stdout).not.toContain(secret);
    // A first start says what it is doing, and how long each step took.
    const steps = run
      .output()
      .stdout.split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { msg: string; ms?: number });
    const migrations = (await readdir('server/db/migrations')).filter((name) => name.endsWith('.sql')).length;
    for (const step of ['configuration read', 'database opened', `migrations applied: ${migrations}`, 'app code loaded']) {
      expect(steps.find((entry) => entry.msg === step)?.ms, step).toBeGreaterThanOrEqual(0);
    }
    expect(steps.map((entry) => entry.msg)).toContain('creating the embedded database (first start only: this takes a few seconds)');
    expect(steps.find((entry) => entry.msg.includes('listening on'))?.ms).toBeGreaterThan(0);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output().stdout).toContain('"msg":"shut down"');
    await expect(stat(join(dataDir, 'pglite', 'mundo.lock'))).rejects.toMatchObject({ code: 'ENOENT' });

    // Everything the server and PGlite wrote is its owner's alone.
    const loose: string[] = [];
    let files = 0;
    const walk = async (path: string): Promise<void> => {
      const info = await lstat(path);
      if (info.isFile()) files++;
      if ((info.mode & 0o077) !== 0) loose.push(`${(info.mode & 0o777).toString(8)} ${path}`);
      if (info.isDirectory()) for (const entry of await readdir(path)) await walk(join(path, entry));
    };
    await walk(dataDir);
    expect(files).toBeGreaterThan(500);
    expect(loose).toEqual([]);
  });
});
