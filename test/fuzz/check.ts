import type { Case } from './cases';
import { typesOf } from './generate';
import type { FuzzRequest, FuzzResponse } from './harness';
import type { SchemaChecker } from './schemas';
import { documentedResponse, type Operation, type Schema } from './spec';

/**
 * The assertions on one answer. For every request: no 5xx; the status is documented for the
 * operation; the media type is a documented one; the body is strict UTF-8 JSON that validates
 * against the declared schema and holds no undeclared field; documented headers validate; an
 * error is an RFC 9457 problem whose `status` is the HTTP status and whose `code` is one the
 * response documents. For an invalid request also: the refusal it must get (status, code, and
 * for VALIDATION_FAILED an entry of `errors[]` pointing at the broken field).
 */

export interface Verdict {
  problems: string[];
  /** The parsed body, when it was JSON. */
  json: unknown;
  /** The schema the body was checked against. */
  schema: Schema | undefined;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function judge(op: Operation, c: Case, req: FuzzRequest, res: FuzzResponse, checker: SchemaChecker): Verdict {
  const problems: string[] = [];
  const verdict: Verdict = { problems, json: undefined, schema: undefined };
  const { status } = res;

  if (status >= 500) problems.push(`server error ${status}`);
  const documented = documentedResponse(op, status);
  if (!documented) problems.push(`status ${status} is not documented for ${op.id} (documented: ${Object.keys(op.responses).join(', ')})`);

  const contentType = String(res.headers['content-type'] ?? '');
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase();
  const hasBody = res.body.length > 0;

  let text: string | undefined;
  if (hasBody) {
    try {
      text = decoder.decode(res.body);
    } catch {
      problems.push('body is not valid UTF-8');
    }
    if (text !== undefined && /[/+]json$/.test(mediaType)) {
      try {
        verdict.json = JSON.parse(text);
      } catch {
        problems.push(`body is not JSON although ${mediaType}: ${snippet(text)}`);
      }
    }
  }

  if (documented) {
    const media = Object.entries(documented.content).find(([type]) => type.toLowerCase() === mediaType)?.[1];
    const documentedTypes = Object.keys(documented.content);
    if (!hasBody) {
      // An empty stream (no item) is an empty NDJSON body.
      if (documentedTypes.length > 0 && req.method !== 'HEAD' && !documentedTypes.includes('application/x-ndjson'))
        problems.push(`no body, but ${status} documents ${documentedTypes.join(', ')}`);
    } else if (documentedTypes.length === 0) {
      problems.push(`a ${mediaType || 'untyped'} body, but ${status} documents none`);
    } else if (!media) {
      problems.push(`media type ${mediaType || '(none)'} is not documented for ${status} (${documentedTypes.join(', ')})`);
    } else if (mediaType === 'application/x-ndjson' && text !== undefined && media.schema) {
      // A stream: each line one item of the schema, and the body whole (ending with a newline).
      if (!text.endsWith('\n')) problems.push('an NDJSON body cut short: it does not end with a newline');
      for (const [n, line] of text.split('\n').slice(0, -1).entries()) {
        let item: unknown;
        try {
          item = JSON.parse(line);
        } catch {
          problems.push(`NDJSON line ${n + 1} is not JSON: ${snippet(line)}`);
          continue;
        }
        for (const e of checker.errors(media.schema, item)) problems.push(`NDJSON line ${n + 1} breaks its schema: ${e}`);
        for (const e of checker.undeclared(media.schema, item)) problems.push(`NDJSON line ${n + 1} holds an undeclared field: ${e}`);
      }
    } else if (verdict.json !== undefined && media.schema) {
      verdict.schema = media.schema;
      for (const e of checker.errors(media.schema, verdict.json)) problems.push(`body breaks its schema: ${e}`);
      for (const e of checker.undeclared(media.schema, verdict.json)) problems.push(`body holds an undeclared field: ${e}`);
      if (status >= 400 && media.codes.length > 0) {
        const code = (verdict.json as { code?: unknown } | null)?.code;
        if (typeof code === 'string' && !media.codes.includes(code))
          problems.push(`problem code ${code} is not documented for ${status} (${media.codes.join(', ')})`);
      }
    }
    for (const [name, header] of Object.entries(documented.headers)) {
      const value = res.headers[name];
      if (value === undefined) {
        if (header.required) problems.push(`required header ${name} is missing`);
        continue;
      }
      if (!header.schema) continue;
      const text = Array.isArray(value) ? value.join(', ') : value;
      const numeric = typesOf(header.schema).some((t) => t === 'integer' || t === 'number');
      const typed = numeric && /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
      for (const e of checker.errors(header.schema, typed)) problems.push(`header ${name} breaks its schema: ${e} (${snippet(text)})`);
    }
  }

  if (status >= 400) {
    if (mediaType !== 'application/problem+json')
      problems.push(`an error answered as ${mediaType || '(no media type)'}, not application/problem+json`);
    const problemStatus = (verdict.json as { status?: unknown } | undefined)?.status;
    if (verdict.json !== undefined && problemStatus !== status)
      problems.push(`problem status ${String(problemStatus)} differs from HTTP status ${status}`);
  }

  if (c.kind === 'invalid' && c.expect) {
    const e = c.expect;
    const code = (verdict.json as { code?: unknown } | undefined)?.code;
    const wanted = `${e.statuses.join('/')} ${e.codes.join('/')}${e.pointer ? ` at ${e.pointer}` : ''}`;
    if (!e.statuses.includes(status) && status !== 429) {
      problems.push(
        status < 400
          ? `invalid input accepted: expected ${wanted}, got ${status}`
          : `invalid input refused wrongly: expected ${wanted}, got ${status} ${String(code)}`,
      );
    } else if (status !== 429 && (typeof code !== 'string' || !e.codes.includes(code))) {
      problems.push(`invalid input refused with the wrong code: expected ${wanted}, got ${status} ${String(code)}`);
    } else if (code === 'VALIDATION_FAILED' && e.pointer) {
      const errors = ((verdict.json as { errors?: { path?: unknown }[] }).errors ?? []).map((x) => String(x.path));
      const parent = e.pointer.slice(0, e.pointer.lastIndexOf('/'));
      if (!errors.some((p) => p === e.pointer || p.startsWith(`${e.pointer}/`) || (e.parentOk && p === parent))) {
        problems.push(
          `refused, but not for the broken field: expected an error at ${e.pointer}, got ${errors.length > 0 ? errors.join(', ') : 'no errors[]'}`,
        );
      }
    }
  }
  return verdict;
}

export function snippet(text: string, max = 160): string {
  const escaped = visible(text.length > max ? text.slice(0, max) : text);
  return text.length > max ? `${escaped}… (${text.length} chars)` : escaped;
}

/** Text as it is, but control characters, invisible ones and lone surrogates as \uXXXX. */
function visible(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A request as one readable line: method, path, query, body (shortened, escaped). */
export function describeRequest(req: FuzzRequest): string {
  const target = req.path + (req.query ? `?${req.query}` : '');
  let line = `${req.method} ${target.length > 200 ? `${target.slice(0, 200)}… (${target.length} chars)` : target}`;
  const headers = Object.entries(req.headers)
    .filter(([name]) => name.toLowerCase() !== 'authorization' || !req.headers[name]!.startsWith('Bearer ey'))
    .map(([name, value]) => `${name}: ${snippet(value, 60)}`);
  if (headers.length > 0) line += ` [${headers.join('; ')}]`;
  if (req.body !== undefined) line += ` body ${bytesText(req.body)}`;
  return line;
}

/** Bytes as escaped text; bytes that are not UTF-8 shown as \xFF. */
function bytesText(bytes: Buffer, max = 160): string {
  let out = '';
  let i = 0;
  while (i < bytes.length && out.length < max) {
    const lead = bytes[i]!;
    const length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    let char: string | undefined;
    try {
      char = decoder.decode(bytes.subarray(i, i + length));
    } catch {
      char = undefined;
    }
    if (char === undefined) {
      out += `\\x${lead.toString(16).toUpperCase().padStart(2, '0')}`;
      i += 1;
    } else {
      out += visible(char);
      i += length;
    }
  }
  return i < bytes.length ? `${out}… (${bytes.length} bytes)` : out;
}

export function describeResponse(res: FuzzResponse): string {
  const text = res.body.toString('utf8');
  try {
    const json = JSON.parse(text) as { code?: unknown; detail?: unknown; errors?: { path?: unknown; code?: unknown }[] };
    if (res.status >= 400 && typeof json.code === 'string') {
      const errors = (json.errors ?? []).slice(0, 3).map((e) => `${String(e.path)} ${String(e.code)}`);
      return `${res.status} ${json.code}${json.detail ? ` "${snippet(String(json.detail), 100)}"` : ''}${errors.length ? ` errors: ${errors.join(', ')}${(json.errors?.length ?? 0) > 3 ? ` (+${json.errors!.length - 3})` : ''}` : ''}`;
    }
  } catch {
    // not JSON: shown as text
  }
  return `${res.status} ${snippet(text, 120)}`;
}
