import type { Redis } from 'ioredis';

/**
 * Idempotency keys for requests that are not idempotent by method (POST, PATCH): the first request
 * with a key runs; a retry with the same key and the same request gets the stored answer (with
 * `Idempotent-Replayed: true`) instead of running again; the same key with another request is
 * refused; a retry while the first is still running gets 409. This is what lets the client retry
 * a POST that carries a key. Only successful answers are kept; a failure frees the key.
 */
export interface StoredResponse {
  status: number;
  body: string | undefined;
  headers: Record<string, string> | undefined;
}

export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'in-progress' }
  | { state: 'done'; fingerprint: string; response: StoredResponse }
  | { state: 'mismatch' };

export interface IdempotencyStore {
  begin(key: string, fingerprint: string): Promise<IdempotencyClaim>;
  finish(key: string, fingerprint: string, response: StoredResponse): Promise<void>;
  abandon(key: string): Promise<void>;
}

export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

interface Entry {
  fingerprint: string;
  response?: StoredResponse;
}

function claimOf(entry: Entry, fingerprint: string): IdempotencyClaim {
  if (entry.fingerprint !== fingerprint) return { state: 'mismatch' };
  return entry.response ? { state: 'done', fingerprint, response: entry.response } : { state: 'in-progress' };
}

/** One process: a bounded map, oldest entries dropped first. */
export function memoryIdempotency(options: { ttlSeconds?: number; maxEntries?: number } = {}): IdempotencyStore {
  const ttlMs = (options.ttlSeconds ?? IDEMPOTENCY_TTL_SECONDS) * 1000;
  const max = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry & { at: number }>();
  return {
    async begin(key, fingerprint) {
      const existing = entries.get(key);
      if (existing && Date.now() - existing.at < ttlMs) return claimOf(existing, fingerprint);
      entries.delete(key);
      entries.set(key, { fingerprint, at: Date.now() });
      if (entries.size > max) entries.delete(entries.keys().next().value!);
      return { state: 'claimed' };
    },
    async finish(key, fingerprint, response) {
      entries.set(key, { fingerprint, response, at: Date.now() });
    },
    async abandon(key) {
      entries.delete(key);
    },
  };
}

/** Shared by every instance: the claim is one atomic SET NX. */
export function redisIdempotency(redis: Redis, keyPrefix: string, ttlSeconds = IDEMPOTENCY_TTL_SECONDS): IdempotencyStore {
  const keyOf = (key: string) => `${keyPrefix}idempotency:${key}`;
  return {
    async begin(key, fingerprint) {
      const claimed = await redis.set(keyOf(key), JSON.stringify({ fingerprint }), 'EX', ttlSeconds, 'NX');
      if (claimed === 'OK') return { state: 'claimed' };
      const stored = await redis.get(keyOf(key));
      return stored ? claimOf(JSON.parse(stored) as Entry, fingerprint) : { state: 'in-progress' };
    },
    async finish(key, fingerprint, response) {
      await redis.set(keyOf(key), JSON.stringify({ fingerprint, response }), 'EX', ttlSeconds);
    },
    async abandon(key) {
      await redis.del(keyOf(key));
    },
  };
}
