import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyProject, removeProject } from '../generator/fixtures/project';

/** `npm run generate` as a real process, on a throwaway copy of the project (its logic: test/processes/generate-cli.test.ts). */
const copies: string[] = [];
afterAll(() => copies.forEach(removeProject));

describe('npm run generate as a process', () => {
  // The one test of the command's wiring (arguments, streams, exit code); its logic is tested above.
  // About 2 s on a busy 2-core machine: the timeout leaves well over 3x headroom.
  it('exits 1 naming a stale file', { timeout: 30_000 }, async () => {
    const root = copyProject();
    copies.push(root);
    writeFileSync(join(root, 'generated/server/old-routes.ts'), '// left over\n');

    const result = await new Promise<{ code: number | null; stderr: string }>((done) => {
      // The command `npm run generate` runs (package.json), without npm's own start-up.
      execFile(
        join(root, 'node_modules/.bin/contract-kit-generate'),
        ['--check'],
        { cwd: root, env: { ...process.env, NO_COLOR: '1' } },
        (error, _stdout, stderr) => {
          done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr });
        },
      );
    });
    expect(result.stderr).toContain('\n  generated/server/old-routes.ts\n');
    expect(result.code).toBe(1);
  });
});
