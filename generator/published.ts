import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Change } from './compat';
import { majorOf, type Surface, withProblemSchema } from './surface';

/**
 * The published contract of each major version, kept in the repository (`api-lock/v1.json`, …) and
 * changed only by `npm run generate -- --publish`: what clients were promised, which the current
 * contracts are compared with. Beside them, `history.json`: what each publication changed, newest
 * first, from which the changelog is written.
 */
export interface Published {
  surface: Surface;
  history: Release[];
  /** The majors that have a lock file. */
  majors: number[];
}

export interface Release {
  /** ISO date of the publication. */
  date: string;
  changes: Array<Pick<Change, 'operation' | 'kind' | 'message'>>;
}

interface LockFile {
  major: number;
  operations: Surface['operations'];
  problem?: Surface['problem'];
}

export function readPublished(dir: string): Published {
  const surface: Surface = { operations: {} };
  const majors: number[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { surface, history: [], majors };
  }
  for (const name of names.filter((n) => /^v\d+\.json$/.test(n)).sort()) {
    const lock = readJson<LockFile>(join(dir, name));
    majors.push(lock.major);
    // Each lock's shared problem schema unfolded where it stands: locks of two majors may differ.
    Object.assign(surface.operations, withProblemSchema(lock).operations);
  }
  const history = names.includes('history.json') ? readJson<Release[]>(join(dir, 'history.json')) : [];
  return { surface, history, majors };
}

/** Records `current` as published today: one lock file per major, and the release in the history. */
export function writePublished(dir: string, current: Surface, release: Release, previous: Published): void {
  mkdirSync(dir, { recursive: true });
  // A major whose operations were all retired keeps a lock file, empty.
  const byMajor = new Map<number, Surface['operations']>(previous.majors.map((major) => [major, {}]));
  for (const [key, op] of Object.entries(current.operations)) {
    const major = majorOf(key);
    if (!byMajor.has(major)) byMajor.set(major, {});
    byMajor.get(major)![key] = op;
  }
  for (const [major, operations] of byMajor)
    writeJson(join(dir, `v${major}.json`), {
      major,
      operations,
      ...(current.problem ? { problem: current.problem } : {}),
    } satisfies LockFile);
  writeJson(join(dir, 'history.json'), release.changes.length > 0 ? [release, ...previous.history] : previous.history);
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new Error(`Cannot read the published contract ${file}: ${(error as Error).message}`);
  }
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}
