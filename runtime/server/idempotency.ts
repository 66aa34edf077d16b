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

/**
 * `finish` stores the answer unless the key holds something else than this request's claim (an
 * answer, or another request's claim); `abandon` frees the key only while it holds this request's
 * claim. So a late settlement (a handler past its timeout, one made again
 * after an outage) never overwrites or frees what another request holds.
 */
export interface IdempotencyStore {
  begin(key: string, fingerprint: string): Promise<IdempotencyClaim>;
  finish(key: string, fingerprint: string, response: StoredResponse): Promise<void>;
  abandon(key: string, fingerprint: string): Promise<void>;
}

export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

interface Entry {
  fingerprint: string;
  response?: StoredResponse;
}

/** The key holds this request's claim, nothing stored yet. */
const claimedBy = (entry: Entry, fingerprint: string) => entry.response === undefined && entry.fingerprint === fingerprint;

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
      const existing = entries.get(key);
      if (existing && Date.now() - existing.at < ttlMs && !claimedBy(existing, fingerprint)) return;
      entries.set(key, { fingerprint, response, at: Date.now() });
    },
    async abandon(key, fingerprint) {
      const existing = entries.get(key);
      if (existing && claimedBy(existing, fingerprint)) entries.delete(key);
    },
  };
}

/** Shared by every instance: the claim is one atomic SET NX. */
export function redisIdempotency(redis: Redis, keyPrefix: string, ttlSeconds = IDEMPOTENCY_TTL_SECONDS): IdempotencyStore {
  const keyOf = (key: string) => `${keyPrefix}idempotency:${key}`;
  // Each a check and a change in one script (claimedBy, in Lua): nothing comes between them.
  const CLAIMED_BY = 'local e = cjson.decode(v) local mine = e.response == nil and e.fingerprint == ARGV[1] ';
  const FINISH =
    "local v = redis.call('GET', KEYS[1]) if v then " +
    CLAIMED_BY +
    "if not mine then return 0 end end redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1";
  const ABANDON =
    "local v = redis.call('GET', KEYS[1]) if not v then return 0 end " +
    CLAIMED_BY +
    "if mine then redis.call('DEL', KEYS[1]) return 1 end return 0";
  return {
    async begin(key, fingerprint) {
      const claimed = await redis.set(keyOf(key), JSON.stringify({ fingerprint }), 'EX', ttlSeconds, 'NX');
      if (claimed === 'OK') return { state: 'claimed' };
      const stored = await redis.get(keyOf(key));
      return stored ? claimOf(JSON.parse(stored) as Entry, fingerprint) : { state: 'in-progress' };
    },
    async finish(key, fingerprint, response) {
      await redis.eval(FINISH, 1, keyOf(key), fingerprint, JSON.stringify({ fingerprint, response }), ttlSeconds);
    },
    async abandon(key, fingerprint) {
      await redis.eval(ABANDON, 1, keyOf(key), fingerprint);
    },
  };
}

/** How often a settlement the store did not take is made again. */
const SETTLE_RETRY_MS = 1000;
/** Settlements kept for another try, at most, and the bytes of their answers' bodies, at most. */
const MAX_UNSETTLED = 1000;
const MAX_UNSETTLED_BYTES = 16 * 1024 * 1024;

type Settlement = { fingerprint: string; response?: StoredResponse; at: number };

/**
 * The store, with its settlements (`finish`, `abandon`) not lost to a passing failure (Redis out of
 * reach): one the store did not take still fails (the caller logs it), and is made again every
 * SETTLE_RETRY_MS until the store takes it or the claim has expired. So a retry of the request once
 * the store is back replays its answer, or runs again when it failed, instead of meeting a claim that
 * holds until it expires. Meanwhile this instance answers a retry of a kept answer itself. At most
 * MAX_UNSETTLED are kept, and MAX_UNSETTLED_BYTES of answers; past that the oldest is dropped
 * (logged; its key stays claimed until it expires), and all of them are lost with the process.
 */
export function settlingIdempotency(store: IdempotencyStore, log: Logger, ttlSeconds = IDEMPOTENCY_TTL_SECONDS): IdempotencyStore {
  const unsettled = new Map<string, Settlement>();
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let retrying = false;
  const sizeOf = (settlement: Settlement) => settlement.response?.body?.length ?? 0;

  function settle(key: string, settlement: Settlement): Promise<void> {
    return settlement.response
      ? store.finish(key, settlement.fingerprint, settlement.response)
      : store.abandon(key, settlement.fingerprint);
  }

  function keep(key: string, settlement: Settlement): void {
    const previous = unsettled.get(key);
    if (previous) forget(key, previous);
    unsettled.set(key, settlement);
    bytes += sizeOf(settlement);
    while (unsettled.size > MAX_UNSETTLED || bytes > MAX_UNSETTLED_BYTES) {
      const [oldest, dropped] = unsettled.entries().next().value!;
      forget(oldest, dropped);
      log.error(
        { kept: unsettled.size, bytes },
        'an Idempotency-Key the store did not take was dropped: it stays claimed until it expires',
      );
    }
    timer ??= setInterval(retry, SETTLE_RETRY_MS).unref();
  }

  /** Forgets the key's settlement, unless a newer one came meanwhile; the timer stops with the last. */
  function forget(key: string, settlement: Settlement): void {
    if (unsettled.get(key) !== settlement) return;
    unsettled.delete(key);
    bytes -= sizeOf(settlement);
    if (unsettled.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  function retry(): void {
    // One round at a time: a store that stalls gets no pile of the same commands.
    if (retrying) return;
    retrying = true;
    const expired = Date.now() - ttlSeconds * 1000;
    const round = [...unsettled].map(([key, settlement]) => {
      // Its claim is gone from the store by now: nothing left to settle.
      if (settlement.at < expired) return forget(key, settlement);
      return settle(key, settlement).then(
        () => {
          forget(key, settlement);
          log.info({ left: unsettled.size }, 'an Idempotency-Key the store did not take is settled');
        },
        () => {},
      );
    });
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
        await settle(key, kept);
        forget(key, kept);
      }
      return store.begin(key, fingerprint);
    },
    finish: (key, fingerprint, response) => settleOrKeep(key, { fingerprint, response, at: Date.now() }),
    abandon: (key, fingerprint) => settleOrKeep(key, { fingerprint, at: Date.now() }),
  };
}
