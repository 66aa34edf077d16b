import type { z } from 'zod';
import { ApiError, type FieldError } from './api-error';

/** Zod issues as problem field errors with JSON Pointer paths: `/body/endsAt`, `/query/limit`. */
export function toFieldErrors(location: string, issues: readonly z.core.$ZodIssue[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    const base = pointer(location, issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        errors.push({ path: `${base}/${escape(key)}`, code: 'unrecognized_key', message: `Unknown field "${key}"` });
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

function pointer(location: string, path: readonly PropertyKey[]): string {
  let out = `/${location}`;
  for (const part of path) out += `/${escape(String(part))}`;
  return out;
}

function escape(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
