import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

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

/** How often a settlement the store did not take is made again. */
const SETTLE_RETRY_MS = 1000;
/** Settlements kept for another try, at most (an answer is at most the body limit). */
const MAX_UNSETTLED = 1000;

type Settlement = { fingerprint: string; response: StoredResponse } | { fingerprint?: undefined; response?: undefined };

/**
 * The store, with its settlements (`finish`, `abandon`) not lost to a passing failure (Redis out of
 * reach): one the store did not take still fails (the caller logs it), and is made again every
 * SETTLE_RETRY_MS until the store takes it. So a retry of the request once the store is back replays
 * its answer, or runs again when it failed, instead of meeting a claim that holds until it expires.
 * Meanwhile this instance answers a retry of a kept answer itself. At most MAX_UNSETTLED are kept;
 * past that the oldest is dropped (logged; its key stays claimed until it expires), and all of them
 * are lost with the process.
 */
export function settlingIdempotency(store: IdempotencyStore, log: Logger): IdempotencyStore {
  const unsettled = new Map<string, Settlement>();
  let timer: NodeJS.Timeout | undefined;

  async function settle(key: string, settlement: Settlement): Promise<void> {
    if (settlement.response) await store.finish(key, settlement.fingerprint, settlement.response);
    else await store.abandon(key);
  }

  function keep(key: string, settlement: Settlement): void {
    unsettled.delete(key);
    unsettled.set(key, settlement);
    if (unsettled.size > MAX_UNSETTLED) {
      const [oldest] = unsettled.keys();
      unsettled.delete(oldest!);
      log.error({ kept: MAX_UNSETTLED }, 'an Idempotency-Key the store did not take was dropped: it stays claimed until it expires');
    }
    timer ??= setInterval(retry, SETTLE_RETRY_MS).unref();
  }

  let retrying = false;
  function retry(): void {
    // One round at a time: a store that stalls gets no pile of the same commands.
    if (retrying) return;
    retrying = true;
    const round = [...unsettled].map(([key, settlement]) =>
      settle(key, settlement).then(
        () => {
          // Unless a newer settlement of the key came meanwhile.
          if (unsettled.get(key) !== settlement) return;
          unsettled.delete(key);
          log.info({ left: unsettled.size }, 'an Idempotency-Key the store did not take is settled');
          if (unsettled.size === 0) {
            clearInterval(timer);
            timer = undefined;
          }
        },
        () => {},
      ),
    );
    void Promise.allSettled(round).then(() => {
      retrying = false;
    });
  }

  async function settleOrKeep(key: string, settlement: Settlement): Promise<void> {
    try {
      await settle(key, settlement);
    } catch (error) {
      keep(key, settlement);
      throw error;
    }
  }

  return {
    async begin(key, fingerprint) {
      const kept = unsettled.get(key);
      if (kept?.response) return claimOf(kept, fingerprint);
      // A failure's key is free once the store takes it: offered now, then claimed as usual.
      if (kept) {
        await store.abandon(key);
        if (unsettled.get(key) === kept) unsettled.delete(key);
      }
      return store.begin(key, fingerprint);
    },
    finish: (key, fingerprint, response) => settleOrKeep(key, { fingerprint, response }),
    abandon: (key) => settleOrKeep(key, {}),
  };
}
