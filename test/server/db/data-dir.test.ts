import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, LOCK_FILE, lockDataDir, restrictModes } from '../../../server/db/data-dir';

/** The embedded database's directory: owner-only modes, and one process at a time. */
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mundo-data-dir-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** The pid of a process that has just exited: what a crashed server leaves in its lock. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid;
}

describe('restrictModes', () => {
  it('takes group and other permissions off every file and directory, as PGlite leaves them 0666', async () => {
    await mkdir(join(dir, 'base', '5'), { recursive: true, mode: 0o777 });
    await chmod(join(dir, 'base'), 0o755);
    await chmod(join(dir, 'base', '5'), 0o777);
    await writeFile(join(dir, 'PG_VERSION'), '17', { mode: 0o666 });
    await writeFile(join(dir, 'base', '5', '1259'), 'x', { mode: 0o644 });
    await writeFile(join(dir, 'postmaster.pid'), 'x', { mode: 0o600 });
    await chmod(join(dir, 'PG_VERSION'), 0o666);
    const outside = join(dir, '..', `${dir.split('/').pop()}-outside`);
    await writeFile(outside, 'not ours', { mode: 0o644 });
    await symlink(outside, join(dir, 'link'));
    await chmod(dir, 0o755);
    try {
      await restrictModes(dir);
      expect(await mode(dir)).toBe(0o700);
      expect(await mode(join(dir, 'base'))).toBe(0o700);
      expect(await mode(join(dir, 'base', '5'))).toBe(0o700);
      expect(await mode(join(dir, 'PG_VERSION'))).toBe(0o600);
      expect(await mode(join(dir, 'base', '5', '1259'))).toBe(0o600);
      expect(await mode(join(dir, 'postmaster.pid'))).toBe(0o600);
      // A link's target is not the directory's to change.
      expect(await mode(outside)).toBe(0o644);
    } finally {
      await rm(outside, { force: true });
    }
  });

  it('fixes only the directory itself when not recursive, and ignores a directory that is not there', async () => {
    await chmod(dir, 0o777);
    await writeFile(join(dir, 'file'), 'x');
    await chmod(join(dir, 'file'), 0o666);
    await restrictModes(dir, { recursive: false });
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(join(dir, 'file'))).toBe(0o666);
    await expect(restrictModes(join(dir, 'missing'))).resolves.toBeUndefined();
  });
});

describe('lockDataDir', () => {
  it('writes a lock holding its pid, refuses a second opening, and removes the lock on release', async () => {
    const lock = await lockDataDir(dir);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    expect(await mode(join(dir, LOCK_FILE))).toBe(0o600);
    await expect(lockDataDir(dir)).rejects.toThrow(DataDirInUseError);
    await lock.release();
    await expect(stat(join(dir, LOCK_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await lockDataDir(dir);
    await again.release();
  });

  it('refuses a directory a running process holds, naming the process, the directory and what to do, on one line', async () => {
    const other = process.ppid; // alive: it started this test process
    await writeFile(join(dir, LOCK_FILE), `${other}\n`);
    const error = await lockDataDir(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataDirInUseError);
    const message = (error as Error).message;
    expect(message).toContain(`The data directory ${dir} is in use by another server (pid ${other})`);
    expect(message).toContain('DATA_DIR');
    expect(message).not.toContain('\n');
    // The other process's lock is left as it was.
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${other}\n`);
  });

  it('takes over the lock of a process that no longer runs, an unreadable lock, and one of its own pid it does not hold (a restarted container)', async () => {
    for (const stale of [`${deadPid()}\n`, 'garbage', `${process.pid}\n`]) {
      await writeFile(join(dir, LOCK_FILE), stale);
      const lock = await lockDataDir(dir);
      expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
      await lock.release();
    }
  });

  it('gives the directory to exactly one of several openings at once', async () => {
    await writeFile(join(dir, LOCK_FILE), `${deadPid()}\n`);
    const outcomes = await Promise.allSettled([lockDataDir(dir), lockDataDir(dir), lockDataDir(dir)]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const lost of outcomes.filter((o) => o.status === 'rejected')) expect(lost.reason).toBeInstanceOf(DataDirInUseError);
    await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
  });
});
