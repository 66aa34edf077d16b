import type { FieldError } from './api-error';

/**
 * The rules every input value meets, whatever its schema says: text is well-formed Unicode
 * (no lone surrogates) without NUL, which no database column takes, and no key can poison an
 * object merged later (`__proto__`, `constructor.prototype`). Applied once, in the input path, to
 * bodies, path and query parameters and real-time payloads, so every field of every contract
 * inherits them.
 */

// Only strings holding one of these code units need a closer look.
const SUSPECT = /[\u0000\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a text is refused, or undefined when it is fine. */
function textError(text: string): { code: string; message: string } | undefined {
  if (!SUSPECT.test(text)) return undefined;
  if (text.includes('\u0000')) return { code: 'forbidden_character', message: 'Text must not contain NUL (U+0000)' };
  if (LONE_SURROGATE.test(text)) return { code: 'invalid_unicode', message: 'Text must be well-formed Unicode (no lone surrogates)' };
  return undefined;
}

/** Past this many, the rest are not looked for: the problem lists at most 100 anyway. */
const MAX_ERRORS = 101;

/**
 * The field errors of a parsed input value (JSON Pointer paths under `rootPath`), keys included.
 * Walked with an explicit stack: a deeply nested body must not overflow the call stack.
 */
export function inputErrors(root: unknown, rootPath: string): FieldError[] {
  const errors: FieldError[] = [];
  const stack: [unknown, string][] = [[root, rootPath]];
  while (stack.length > 0 && errors.length < MAX_ERRORS) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      const problem = textError(value);
      if (problem) errors.push({ path, ...problem });
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      const keyProblem = textError(key);
      if (keyProblem) {
        errors.push({
          path: `${path}/${pointerSegment(wellFormed(key))}`,
          code: keyProblem.code,
          message: `Field name: ${keyProblem.message}`,
        });
        continue;
      }
      const childPath = `${path}/${pointerSegment(key)}`;
      const poisoned =
        key === '__proto__' || (key === 'constructor' && typeof child === 'object' && child !== null && 'prototype' in child);
      if (poisoned) {
        errors.push({ path: childPath, code: 'forbidden_key', message: `The key "${key}" is not allowed` });
        continue;
      }
      stack.push([child, childPath]);
    }
  }
  return errors;
}

/** The text with NUL and lone surrogates replaced by U+FFFD, so it can be echoed in a response. */
export function wellFormed(text: string): string {
  return SUSPECT.test(text) ? text.replace(/\u0000/g, '\ufffd').replace(new RegExp(LONE_SURROGATE.source, 'g'), '\ufffd') : text;
}

/** A JSON Pointer reference token (RFC 6901). */
export function pointerSegment(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
