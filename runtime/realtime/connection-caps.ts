/**
 * Sockets held per user and per client address on this instance. The caps are far above what real
 * clients reach (a user's phones, laptops and tabs; a household or office behind one address) and
 * stop one token or one host from holding thousands of connections.
 */
export interface ConnectionCaps {
  /** Why one more connection from this address (and, once known, this user) is refused; undefined when it is not. */
  refusal(address: string, userId?: string): string | undefined;
  /** Counts a socket until it is released. */
  hold(socketId: string, userId: string, address: string): void;
  /** Stops counting a socket; releasing it again does nothing. */
  release(socketId: string, userId: string, address: string): void;
}

export const DEFAULT_MAX_SOCKETS_PER_USER = 20;
export const DEFAULT_MAX_SOCKETS_PER_ADDRESS = 100;

export function connectionCaps(limits: { perUser: number; perAddress: number }): ConnectionCaps {
  const byUser = new Map<string, Set<string>>();
  const byAddress = new Map<string, Set<string>>();
  const held = (map: Map<string, Set<string>>, key: string) => map.get(key)?.size ?? 0;
  const add = (map: Map<string, Set<string>>, key: string, socketId: string) => {
    const set = map.get(key) ?? new Set<string>();
    map.set(key, set);
    set.add(socketId);
  };
  const remove = (map: Map<string, Set<string>>, key: string, socketId: string) => {
    const set = map.get(key);
    if (set?.delete(socketId) && set.size === 0) map.delete(key);
  };
  return {
    refusal(address, userId) {
      if (held(byAddress, address) >= limits.perAddress) return `Too many connections from this address (at most ${limits.perAddress})`;
      if (userId !== undefined && held(byUser, userId) >= limits.perUser)
        return `Too many connections of this user (at most ${limits.perUser})`;
      return undefined;
    },
    hold(socketId, userId, address) {
      add(byUser, userId, socketId);
      add(byAddress, address, socketId);
    },
    release(socketId, userId, address) {
      remove(byUser, userId, socketId);
      remove(byAddress, address, socketId);
    },
  };
}
