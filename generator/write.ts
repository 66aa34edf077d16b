import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * Brings a folder in line with the generated files: writes only what changed, removes what is no
 * longer generated. With `check`, changes nothing and reports what is stale.
 */
export interface SyncResult {
  /** Files whose content differs, that are missing, or that should no longer exist (relative to the folder). */
  stale: string[];
}

export function syncFiles(dir: string, files: Map<string, string>, check: boolean): SyncResult {
  const stale: string[] = [];
  for (const [path, content] of files) {
    const file = join(dir, path);
    let current: string | undefined;
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    stale.push(path);
    if (!check) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
  }
  for (const path of listFiles(dir)) {
    if (files.has(path)) continue;
    stale.push(path);
    if (!check) rmSync(join(dir, path));
  }
  return { stale: stale.sort() };
}

function listFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).replaceAll('\\', '/'));
}
