import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { OpenApiDocument } from './openapi';
import { LINT_RULESET } from './lint';

/**
 * generated/client/schema.ts: the spec's TypeScript types (paths, operations, components) for the
 * standalone client, printed by openapi-typescript.
 *
 * openapi-typescript loads the TypeScript compiler (over a second) and Redocly's lint is slow too, yet
 * both are pure functions of openapi.json and the tools' versions. So the file's second line stamps
 * those inputs and its own body's hash: when the spec has not changed, the file on disk is reused as it
 * is, without loading either tool — and a hand edit of the body, a changed spec or an upgraded tool
 * still makes it stale.
 */
const TYPES_OPTIONS = { alphabetize: false } as const;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function versionOf(name: string, from: string): string {
  const file = createRequire(from).resolve(`${name}/package.json`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

let tools: string | undefined;
/** What besides the spec decides the file: who linted the spec and who printed the types, how. */
function toolsLine(): string {
  if (tools === undefined) {
    const openapiTs = createRequire(import.meta.url).resolve('openapi-typescript');
    tools =
      `lint @redocly/openapi-core ${versionOf('@redocly/openapi-core', import.meta.url)} ${LINT_RULESET}; ` +
      `types openapi-typescript ${versionOf('openapi-typescript', import.meta.url)} ${JSON.stringify(TYPES_OPTIONS)}, ` +
      `typescript ${versionOf('typescript', openapiTs)}`;
  }
  return tools;
}

/** Everything before the body's hash; equal only when the header, the spec and the tools are. */
function stampPrefix(header: string, json: string): string {
  return `${header}\n// From openapi.json sha256:${sha256(json)} (${toolsLine()}); body sha256:`;
}

/** The file's full text, printing the types: the caller has linted `json`. */
export async function schemaFile(header: string, json: string, document: OpenApiDocument): Promise<string> {
  const { default: openapiTS, astToString } = await import('openapi-typescript');
  const body = astToString(await openapiTS(document as unknown as Parameters<typeof openapiTS>[0], TYPES_OPTIONS));
  return `${stampPrefix(header, json)}${sha256(body)}\n\n${body}`;
}

/** The text when it is exactly what `schemaFile` would make of `json` (so that spec passed the lint), else undefined. */
function verified(text: string, header: string, json: string): string | undefined {
  const prefix = stampPrefix(header, json);
  if (!text.startsWith(prefix)) return undefined;
  const hash = text.slice(prefix.length, prefix.length + 64);
  const body = text.slice(prefix.length + 64);
  return body.startsWith('\n\n') && sha256(body.slice(2)) === hash ? text : undefined;
}

const readOrUndefined = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** The file as it is on disk when it is exactly what `schemaFile` would make of `json`, else undefined. */
export function reusableSchemaFile(file: string, header: string, json: string): string | undefined {
  const current = readOrUndefined(file);
  return current === undefined ? undefined : verified(current, header, json);
}

/**
 * This machine's cache of printed schema files (pipeline.ts's SCHEMA_CACHE_DIR), one per spec and tools:
 * going back to a spec printed before (another branch checked out, a hand edit undone) needs
 * neither tool. Checked like the file on disk, so a damaged entry is only a miss.
 */
export function cachedSchemaFile(cacheDir: string, header: string, json: string): string | undefined {
  const cached = readOrUndefined(join(cacheDir, cacheName(header, json)));
  return cached === undefined ? undefined : verified(cached, header, json);
}

/** Keeps a printed schema file in the cache; a cache that cannot be written is no error. */
export function cacheSchemaFile(cacheDir: string, header: string, json: string, content: string): void {
  try {
    mkdirSync(cacheDir, { recursive: true });
    const file = join(cacheDir, cacheName(header, json));
    // Written aside and renamed: a run reading meanwhile never sees half a file.
    writeFileSync(`${file}.${process.pid}`, content);
    renameSync(`${file}.${process.pid}`, file);
  } catch {
    // A cache that cannot be written: every run prints the types, as without one.
  }
}

const cacheName = (header: string, json: string) => `schema-${sha256(stampPrefix(header, json))}.ts`;
