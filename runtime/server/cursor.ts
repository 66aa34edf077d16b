import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PageKey } from '../contract';
import { ApiError } from '../core/api-error';

/**
 * Opaque, tamper-evident page cursors: base64url(JSON of the keyset position) + "." + HMAC.
 * A client can neither read meaning into them nor forge one that skips rows.
 */
export interface CursorCodec {
  encode(key: PageKey): string;
  decode(cursor: string): PageKey;
}

export function createCursorCodec(secret: Uint8Array): CursorCodec {
  const sign = (payload: string) => createHmac('sha256', secret).update(payload).digest('base64url').slice(0, 32);
  const invalid = () => new ApiError('INVALID_CURSOR', 'The cursor is not one this API issued; start again without it');
  return {
    encode(key) {
      const payload = Buffer.from(JSON.stringify([key.createdAt.toISOString(), key.id])).toString('base64url');
      return `${payload}.${sign(payload)}`;
    },
    decode(cursor) {
      const dot = cursor.indexOf('.');
      if (dot <= 0) throw invalid();
      const payload = cursor.slice(0, dot);
      const given = Buffer.from(cursor.slice(dot + 1));
      const expected = Buffer.from(sign(payload));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
      try {
        const [createdAt, id] = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as [string, string];
        const date = new Date(createdAt);
        if (Number.isNaN(date.getTime()) || typeof id !== 'string') throw invalid();
        return { createdAt: date, id };
      } catch {
        throw invalid();
      }
    },
  };
}
