import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The import boundaries of DESIGN.md §2, as `npm run lint` enforces them: each fixture is a one-line
 * source placed at a path of this repository's layout in a scratch folder that holds the real
 * biome.jsonc, so the folder rules apply without touching the working tree.
 */
const root = join(import.meta.dirname, '..', '..');
const biome = join(root, 'node_modules', '.bin', 'biome');

type Fixture = { file: string; from: string };

const forbidden: Fixture[] = [
  { file: 'runtime/server/leak.ts', from: '../../server/config' },
  { file: 'runtime/realtime/leak.ts', from: '../../contracts' },
  { file: 'runtime/core/leak.ts', from: '../../generated/server/routes' },
  { file: 'runtime/server/leak-generator.ts', from: '../../generator/model' },
  { file: 'runtime/leak.ts', from: '../server/handlers' },
  { file: 'runtime/contract/leak-express.ts', from: 'express' },
  { file: 'runtime/contract/leak-node.ts', from: 'node:fs' },
  { file: 'runtime/contract/leak-server.ts', from: '../server/problem' },
  { file: 'runtime/contract/leak-package.ts', from: '@contract-kit/runtime/server' },
  { file: 'runtime/client/leak-zod.ts', from: 'zod' },
  { file: 'runtime/client/leak-contract.ts', from: '../contract' },
  { file: 'generator/leak-contracts.ts', from: '../contracts' },
  { file: 'generator/leak-server.ts', from: '../server/services' },
  { file: 'generator/leak-generated.ts', from: '../generated/server' },
  { file: 'generator/leak-runtime-server.ts', from: '../runtime/server' },
  { file: 'generator/leak-package-server.ts', from: '@contract-kit/runtime/server' },
  { file: 'contracts/leak-runtime-server.ts', from: '../runtime/server' },
  { file: 'contracts/leak-server.ts', from: '../server/services' },
  { file: 'contracts/leak-express.ts', from: 'express' },
  { file: 'contracts/leak-contract-internals.ts', from: '../runtime/contract/errors' },
  { file: 'generated/client/leak-contracts.ts', from: '../../contracts/realtime' },
  { file: 'generated/client/leak-runtime.ts', from: '@contract-kit/runtime/realtime/client' },
  { file: 'generated/client/runtime/leak-zod.ts', from: 'zod' },
  { file: 'generator/leak-contract-internals.ts', from: '../runtime/contract/behaviour' },
];

const allowed: Fixture[] = [
  { file: 'runtime/contract/ok-zod.ts', from: 'zod' },
  { file: 'runtime/contract/ok-own.ts', from: './errors' },
  { file: 'runtime/realtime/ok-server.ts', from: '../server/auth' },
  { file: 'runtime/server/ok-contract.ts', from: '../contract' },
  { file: 'runtime/server/ok-express.ts', from: 'express' },
  { file: 'runtime/client/ok-own.ts', from: './errors' },
  { file: 'generator/ok-contract.ts', from: '../runtime/contract' },
  { file: 'generator/ok-package.ts', from: '@contract-kit/runtime/contract' },
  { file: 'generator/ok-own.ts', from: './model' },
  { file: 'generator/ok-handlebars.ts', from: 'handlebars' },
  { file: 'contracts/ok-contract.ts', from: '../runtime/contract' },
  { file: 'contracts/ok-package.ts', from: '@contract-kit/runtime/contract' },
  { file: 'contracts/ok-zod.ts', from: 'zod' },
  { file: 'contracts/ok-own.ts', from: './users' },
  { file: 'generated/client/ok-own.ts', from: './runtime/index.js' },
  { file: 'generated/client/runtime/ok-socket.ts', from: 'socket.io-client' },
  { file: 'generated/server/ok-contracts.ts', from: '../../contracts/auth' },
  { file: 'server/ok-everything.ts', from: '../contracts' },
  { file: 'server/ok-runtime-file.ts', from: '../runtime/server/lifecycle' },
  { file: 'server/handlers/ok-generated.ts', from: '../../generated/server' },
];

interface Lint {
  status: number | null;
  output: string;
  /** Files with a boundary diagnostic, and its message. */
  refused: Map<string, string>;
}

let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'mt-boundaries-'));
  copyFileSync(join(root, 'biome.jsonc'), join(scratch, 'biome.jsonc'));
  for (const { file, from } of [...forbidden, ...allowed]) {
    mkdirSync(join(scratch, dirname(file)), { recursive: true });
    writeFileSync(join(scratch, file), `import * as imported from '${from}';\nexport const value = imported;\n`);
  }
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Lints the given fixtures for the boundary rule only (the scratch folder is no git repository). */
function lint(files: string[]): Lint {
  const run = spawnSync(biome, ['lint', '--vcs-enabled=false', '--only=style/noRestrictedImports', '--reporter=json', ...files], {
    cwd: scratch,
    encoding: 'utf8',
  });
  const report = JSON.parse(run.stdout) as { diagnostics: { category: string; message: string; location: { path: string } }[] };
  const refused = new Map<string, string>();
  for (const d of report.diagnostics) {
    if (d.category === 'lint/style/noRestrictedImports') refused.set(d.location.path, d.message);
  }
  return { status: run.status, output: run.stdout + run.stderr, refused };
}

describe('import boundaries', () => {
  it('refuses every import that crosses a boundary, and the lint fails', () => {
    const result = lint(forbidden.map((f) => f.file));
    expect(result.status, result.output).not.toBe(0);
    expect([...result.refused.keys()].sort()).toEqual(forbidden.map((f) => f.file).sort());
  });

  it('names the rule that was broken', () => {
    const { refused } = lint(['runtime/server/leak.ts', 'runtime/contract/leak-express.ts', 'contracts/leak-express.ts']);
    expect(refused.get('runtime/server/leak.ts')).toMatch(/runtime\/ .* never imports contracts\/, server\/, generated\//);
    expect(refused.get('runtime/contract/leak-express.ts')).toMatch(/imports only zod/);
    expect(refused.get('contracts/leak-express.ts')).toMatch(/import only runtime\/contract and zod/);
  });

  it('lets the imports the layout allows through', () => {
    const result = lint(allowed.map((f) => f.file));
    expect(result.refused).toEqual(new Map());
    expect(result.status, result.output).toBe(0);
  });

  it('finds no crossing in this repository', () => {
    const run = spawnSync(biome, ['lint', '--only=style/noRestrictedImports', 'runtime', 'generator', 'contracts', 'generated'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });
});
