import type { z } from 'zod';
import { PROBLEM_LIMITS } from '../contract';
import { ApiError, type FieldError } from './api-error';
import { compiledSchema, FAIL } from './compiled-schema';
import { inputErrors, pointerSegment, wellFormed } from './input-check';

/** Zod issues as problem field errors with JSON Pointer paths: `/body/endsAt`, `/query/limit`. */
function toFieldErrors(location: string, issues: readonly z.core.$ZodIssue[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    const base = pointer(location, issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        errors.push({ path: `${base}/${pointerSegment(key)}`, code: 'unrecognized_key', message: `Unknown field "${key}"` });
      }
    } else {
      errors.push({ path: base, code: issue.code, message: issue.message });
    }
  }
  return errors;
}

export function validationError(errors: FieldError[]): ApiError {
  const detail = errors.length === 1 ? '1 field is invalid' : `${errors.length} fields are invalid`;
  return new ApiError('VALIDATION_FAILED', detail, { errors });
}

/**
 * Parses one part of the input (`params`, `query`, `headers`, `body`, `payload`) through its
 * schema, then through the API-wide text rules (no NUL, no lone surrogates, no poisoning keys).
 */
export function parseInput(schema: z.ZodType, value: unknown, location: string): unknown {
  // The compiled accepting path first; Zod itself words a refusal (and has the last word on it).
  let data = compiledSchema(schema)(value);
  if (data === FAIL) {
    const result = schema.safeParse(value);
    if (!result.success) throw validationError(toFieldErrors(location, result.error.issues));
    data = result.data;
  }
  const errors = inputErrors(data, `/${location}`);
  if (errors.length > 0) throw validationError(errors);
  return data;
}

/**
 * Field errors as the Problem schema bounds them: at most 100, each part clipped to its maximum
 * and made well-formed (a path or message may echo a client's key), with how many were left out.
 */
export function boundFieldErrors(errors: readonly FieldError[]): { errors: FieldError[]; omitted: number } {
  const kept = errors.slice(0, PROBLEM_LIMITS.errors).map((e) => ({
    path: clip(e.path, PROBLEM_LIMITS.errorPath),
    code: clip(e.code, PROBLEM_LIMITS.errorCode),
    message: clip(e.message, PROBLEM_LIMITS.errorMessage),
  }));
  return { errors: kept, omitted: errors.length - kept.length };
}

/** At most `max` UTF-16 units, well-formed, never cutting a surrogate pair; `…` marks a cut. */
export function clip(text: string, max: number): string {
  const safe = wellFormed(text);
  if (safe.length <= max) return safe;
  let end = max - 1;
  const last = safe.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${safe.slice(0, end)}…`;
}

function pointer(location: string, path: readonly PropertyKey[]): string {
  let out = `/${location}`;
  for (const part of path) out += `/${pointerSegment(String(part))}`;
  return out;
}
