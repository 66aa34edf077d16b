/**
 * The spec as other ecosystems read it: a spec change that breaks them fails here.
 *
 * 1. @hey-api/openapi-ts generates a TypeScript client (types, SDK, fetch client) from the OpenAPI
 *    document into a temporary folder, and this repository's TypeScript type-checks it under strict
 *    settings with NodeNext resolution (what a Node 20 project compiles it with).
 * 2. @asyncapi/parser, the official AsyncAPI parser, validates the AsyncAPI document: an error fails,
 *    warnings and notes are printed.
 *
 * Too slow for `npm test` (about 12 s of CPU, 8 s of wall time on 2 cores), so CI runs it on its own:
 *   node --import tsx test/consumers/check.ts [--openapi <file>] [--asyncapi <file>] [--keep]
 * The documents default to generated/openapi.json and generated/asyncapi.json. The temporary folder is
 * kept when the generated client fails to compile (or always with --keep), and its path printed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { createClient } from '@hey-api/openapi-ts';
import ts from 'typescript';

const REPO = resolve(import.meta.dirname, '../..');

/** What a strict consumer compiles with. exactOptionalPropertyTypes is left out: hey-api's own fetch client does not pass it. */
const COMPILER_OPTIONS = {
  target: 'ES2022',
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  lib: ['ES2022', 'DOM', 'DOM.Iterable'],
  types: [],
  strict: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noImplicitReturns: true,
  noFallthroughCasesInSwitch: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  noPropertyAccessFromIndexSignature: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  skipLibCheck: false,
  noEmit: true,
};

/** Generates the client into `dir`/client and type-checks it; returns the problems, empty when there are none. */
async function checkOpenApi(spec: string, dir: string): Promise<string[]> {
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(tsconfig, JSON.stringify({ compilerOptions: COMPILER_OPTIONS, include: ['client'] }, null, 2));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  try {
    // hey-api reads the tsconfig to write imports NodeNext resolves (with `.js`).
    await createClient({
      input: spec,
      output: { path: join(dir, 'client'), tsConfigPath: tsconfig },
      logs: { file: false, level: 'warn' },
    });
  } catch (error) {
    // A JobError carries the generator's own error under originalError.error.
    const cause = (error as { originalError?: { error?: unknown } }).originalError?.error ?? error;
    return [`@hey-api/openapi-ts failed: ${cause instanceof Error ? cause.message : String(cause)}`];
  }
  const config = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) return [`cannot read ${tsconfig}`];
  if (config.fileNames.length === 0) return ['@hey-api/openapi-ts wrote no TypeScript files'];
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, projectReferences: config.projectReferences });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length === 0) return [];
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => dir,
    getNewLine: () => '\n',
  };
  return [`tsc: ${diagnostics.length} error(s) in the generated client\n${ts.formatDiagnostics(diagnostics, host).trimEnd()}`];
}

/** Parses the AsyncAPI document; prints warnings and notes, returns the errors. */
async function checkAsyncApi(spec: string): Promise<string[]> {
  const { document, diagnostics } = await new Parser().parse(readFileSync(spec, 'utf8'), { source: spec });
  const errors: string[] = [];
  for (const d of diagnostics) {
    const line = `${DiagnosticSeverity[d.severity]} ${d.code} at ${d.path.length ? `#/${d.path.join('/')}` : '(document)'}: ${d.message}`;
    if (d.severity === DiagnosticSeverity.Error) errors.push(`@asyncapi/parser: ${line}`);
    else console.log(`  asyncapi ${line}`);
  }
  if (!document && errors.length === 0) errors.push('@asyncapi/parser returned no document');
  return errors;
}

const { values } = parseArgs({
  options: {
    openapi: { type: 'string', default: join(REPO, 'generated/openapi.json') },
    asyncapi: { type: 'string', default: join(REPO, 'generated/asyncapi.json') },
    keep: { type: 'boolean', default: false },
  },
});
const openapi = resolve(values.openapi);
const asyncapi = resolve(values.asyncapi);
const dir = mkdtempSync(join(tmpdir(), 'mt-consumers-'));

const started = performance.now();
const openApiProblems = await checkOpenApi(openapi, dir);
console.log(
  `${openApiProblems.length ? '✗' : '✓'} OpenAPI ${openapi}: client by @hey-api/openapi-ts, type-checked by tsc ${ts.version} (strict, NodeNext)`,
);
const asyncApiProblems = await checkAsyncApi(asyncapi);
console.log(`${asyncApiProblems.length ? '✗' : '✓'} AsyncAPI ${asyncapi}: @asyncapi/parser`);

const problems = [...openApiProblems, ...asyncApiProblems];
if (values.keep || (openApiProblems.length && existsSync(join(dir, 'client')))) console.log(`generated client kept in ${dir}`);
else rmSync(dir, { recursive: true, force: true });
for (const problem of problems) console.error(problem);
console.log(`${problems.length ? 'failed' : 'passed'} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = problems.length ? 1 : 0;
