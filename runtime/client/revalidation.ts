/**
 * What GETs answered with an ETag, kept to revalidate: the next request for the same URL (with the
 * same token) sends `If-None-Match`, and a 304 is answered from here without a body on the wire.
 * Bounded: past `max` answers the least recently used goes.
 */
export interface RevalidationCache {
  /** The held answer for this request, if any. */
  get(key: string): { etag: string; value: unknown } | undefined;
  set(key: string, etag: string, value: unknown): void;
}

export function createRevalidationCache(max = 200): RevalidationCache {
  const entries = new Map<string, { etag: string; value: unknown }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (entry) {
        // Most recently used last.
        entries.delete(key);
        entries.set(key, entry);
      }
      return entry;
    },
    set(key, etag, value) {
      entries.delete(key);
      entries.set(key, { etag, value });
      if (entries.size > max) entries.delete(entries.keys().next().value!);
    },
  };
}
