import { chmod, link, lstat, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/**
 * The embedded database's directory: private to its owner, and used by one process at a time.
 *
 * PGlite keeps no lock of its own, so two servers on one directory each see only their own writes
 * and overwrite each other's files. `lockDataDir` keeps a lock file holding the owner's pid; a lock
 * left by a process that no longer runs is taken over.
 */

export const LOCK_FILE = 'mundo.lock';

/** The directory is held by a running process. The message is one line, fit for an operator. */
export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      pid === process.pid
        ? `The data directory ${dir} is already open in this process`
        : `The data directory ${dir} is in use by another server (pid ${pid}): stop it, or set DATA_DIR to another directory (lock file: ${join(dir, LOCK_FILE)})`,
    );
  }
}

export interface DataDirLock {
  release(): Promise<void>;
}

/** Directories this process holds: a lock file with our own pid that is not in here is stale (a container restarted as pid 1). */
const held = new Set<string>();
let attempts = 0;

export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const key = resolve(dir);
  const file = join(dir, LOCK_FILE);
  const mine = `${process.pid}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (held.has(key)) throw new DataDirInUseError(dir, process.pid);
    // Written whole under a name of our own, then linked into place: `link` fails if a lock is
    // there, and a lock is never seen half-written.
    const mineFile = `${file}.${process.pid}.${++attempts}.new`;
    await writeFile(mineFile, mine, { mode: 0o600 });
    try {
      await link(mineFile, file);
      held.add(key);
      return {
        async release() {
          if (!held.delete(key)) return;
          // Only our own lock: never one another process took over meanwhile.
          if ((await readPid(file)) === process.pid) await unlink(file).catch(() => {});
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(mineFile).catch(() => {});
    }
    const pid = await readPid(file);
    if (pid === undefined) continue; // removed meanwhile: try again
    if (held.has(key)) throw new DataDirInUseError(dir, process.pid);
    if (pid !== null && pid !== process.pid && isRunning(pid)) throw new DataDirInUseError(dir, pid);
    await takeOverStale(file, pid);
  }
  throw new Error(`Could not lock the data directory ${dir}: its lock file ${file} keeps changing`);
}

/**
 * Moves a stale lock aside. Two processes may find the same stale lock at once: the one whose
 * rename succeeds takes it; if what it moved turns out to be a fresh lock of the other, it puts that back.
 */
async function takeOverStale(file: string, stalePid: number | null): Promise<void> {
  const aside = `${file}.${process.pid}.stale`;
  try {
    await rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readPid(aside);
  if (moved !== stalePid && moved !== undefined) await link(aside, file).catch(() => {});
  await unlink(aside).catch(() => {});
}

/** The pid in a lock file; `null` for an unreadable one (treated as stale), `undefined` when there is none. */
async function readPid(file: string): Promise<number | null | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function isRunning(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the directory (and missing parents) readable by its owner only. */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

/**
 * Takes group and other permissions off everything under `dir` (directories 0700, files 0600 at
 * most): PGlite writes the files of a new database world-writable, and a directory from an older
 * version may be so too. Symbolic links are left alone; a directory that does not exist is no error.
 * With `recursive: false`, only the directory itself.
 */
export async function restrictModes(dir: string, options: { recursive?: boolean } = {}): Promise<void> {
  const fix = async (path: string, top: boolean): Promise<void> => {
    let stat;
    try {
      stat = await lstat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (stat.isSymbolicLink()) return;
    if (stat.mode & 0o077) await chmod(path, stat.mode & (stat.isDirectory() ? 0o700 : 0o600));
    if (stat.isDirectory() && (!top || options.recursive !== false)) {
      const entries = await readdir(path);
      await Promise.all(entries.map((entry) => fix(join(path, entry), false)));
    }
  };
  await fix(dir, true);
}
