import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import { ApiError } from '../core/api-error';

/**
 * Opaque, tamper-evident page cursors: base64url(JSON of the keyset position) + "." + HMAC.
 * A client can neither read meaning into them nor forge one that skips rows.
 */
export interface CursorCodec {
  /** Signs a keyset position (any JSON value; a Date becomes its ISO string). */
  /** Signs a position for one operation (`scope`, its operationId): another operation refuses it. */
  encode(key: unknown, scope: string): string;
  /** Checks the signature for this operation, then parses the position through its key schema. */
  decode(cursor: string, key: z.ZodType, scope: string): unknown;
}

export function createCursorCodec(secret: Uint8Array): CursorCodec {
  // Made once: a key given as bytes is imported again by every createHmac.
  const hmacKey = createSecretKey(secret);
  const sign = (payload: string, scope: string) =>
    createHmac('sha256', hmacKey).update(`${scope}\n${payload}`).digest('base64url').slice(0, 32);
  const invalid = () => new ApiError('INVALID_CURSOR', 'The cursor is not one this API issued; start again without it');
  return {
    encode(key, scope) {
      const payload = Buffer.from(JSON.stringify(key)).toString('base64url');
      return `${payload}.${sign(payload, scope)}`;
    },
    decode(cursor, key, scope) {
      const dot = cursor.indexOf('.');
      if (dot <= 0) throw invalid();
      const payload = cursor.slice(0, dot);
      const given = Buffer.from(cursor.slice(dot + 1));
      const expected = Buffer.from(sign(payload, scope));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
      let value: unknown;
      try {
        value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw invalid();
      }
      const parsed = key.safeParse(value);
      if (!parsed.success) throw invalid();
      return parsed.data;
    },
  };
}
