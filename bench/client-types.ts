import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readGeneratorConfig } from '../generator/config';
import { generateFiles } from '../generator/pipeline';
import { listContracts } from '../runtime/contract';
import { syntheticApi } from './generator';

/**
 * What the generated client costs the TypeScript compiler of a project that uses it: the client of
 * `count` synthetic operations (bench/generator.ts) and a usage file calling `calls` of them (every
 * kind: a page, a create, a read, an update, a delete, an error guard), checked by `tsc --noEmit
 * --extendedDiagnostics` (strict, NodeNext, skipLibCheck) in a process of its own, against the
 * package's declarations (what an installed client is) or its TypeScript sources. Returns tsc's figures.
 */
export async function measureClientTypes(root: string, count: number, from: 'package' | 'sources', calls = 50) {
  const api = syntheticApi(count);
  const { files } = await generateFiles(root, readGeneratorConfig(root), api, listContracts(api));
  const dir = mkdtempSync(join(tmpdir(), 'mundo-client-types-'));
  try {
    for (const [path, content] of files) {
      // The package: its declarations and JavaScript, as a project installs it. The sources: the .ts files.
      const wanted = from === 'package' ? path.startsWith('client/dist/') : !path.startsWith('client/dist/') && path.endsWith('.ts');
      if (!path.startsWith('client/') || !wanted) continue;
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    writeFileSync(
      join(dir, 'usage.ts'),
      usage(Math.min(calls, count), from === 'package' ? './client/dist/index.js' : './client/index.js'),
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const flags = ['--noEmit', '--extendedDiagnostics', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext'];
    const types = ['--types', 'node', '--typeRoots', join(root, 'node_modules/@types'), '--target', 'ES2022', '--skipLibCheck'];
    const out = execFileSync(process.execPath, [tsc, ...flags, ...types, join(dir, 'usage.ts')], { encoding: 'utf8' });
    const figure = (label: string) => Number(new RegExp(`^${label}:\\s+([\\d.]+)`, 'm').exec(out)?.[1] ?? Number.NaN);
    return {
      count,
      calls: Math.min(calls, count),
      checkSeconds: figure('Check time'),
      totalSeconds: figure('Total time'),
      instantiations: figure('Instantiations'),
      types: figure('Types'),
      memoryKb: figure('Memory used'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Calls of the first `calls` operations, each used as a project would: its result read, its errors told apart. */
function usage(calls: number, entry: string): string {
  const lines = [
    `import { createClient } from '${entry}';`,
    "const api = createClient({ baseUrl: 'http://localhost:3000' });",
    "const itemId = '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d';",
    'export async function use(): Promise<unknown[]> {',
    '  const seen: unknown[] = [];',
  ];
  for (let i = 0; i < calls; i++) {
    const op = `api.synthetic.op${i}`;
    const kind = i % 5;
    if (kind === 0)
      lines.push(`  for await (const item of ${op}.items({ query: { q: 'tango' } })) seen.push(item.name.toUpperCase(), item.createdAt);`);
    else if (kind === 1) lines.push(`  seen.push((await ${op}({ body: { name: 'milonga', size: 3 } })).id);`);
    else if (kind === 2) lines.push(`  seen.push((await ${op}({ params: { itemId } })).size.toFixed(0));`);
    else if (kind === 3) lines.push(`  seen.push((await ${op}({ params: { itemId }, body: { name: 'vals' } })).name);`);
    else
      lines.push(
        `  try { await ${op}({ params: { itemId } }); } catch (error) { if (${op}.isError(error) && error.code === 'NOT_FOUND') seen.push(error.status); }`,
      );
  }
  lines.push('  return seen;', '}', '');
  return lines.join('\n');
}
