/**
 * A small token store for signed-in apps: it holds the access and refresh tokens, hands the access
 * token to each request, and on `TOKEN_EXPIRED` exchanges the refresh token (through the function
 * you give it, usually the API's refresh operation) for new tokens. The transport makes sure many
 * requests failing at once cause one refresh. Where tokens are kept is up to `storage`.
 */
import type { TokenStore } from './types.js';

export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
}

/** Where tokens live: memory by default; localStorage, a keychain or a cookie jar in an app. */
export interface TokenStorage {
  load(): SessionTokens | null | Promise<SessionTokens | null>;
  save(tokens: SessionTokens | null): void | Promise<void>;
}

export function memoryTokenStorage(initial: SessionTokens | null = null): TokenStorage {
  let tokens = initial;
  return {
    load: () => tokens,
    save: (next) => {
      tokens = next;
    },
  };
}

export interface SessionTokenStore extends TokenStore {
  refresh(): Promise<boolean>;
  /** After sign-in: keep these tokens. */
  set(tokens: SessionTokens): Promise<void>;
  /** After sign-out, or when the refresh token is refused. */
  clear(): Promise<void>;
}

export function createTokenStore(options: {
  /** Exchanges a refresh token for new tokens; rejects when the server refuses it. */
  refresh: (refreshToken: string) => Promise<SessionTokens>;
  storage?: TokenStorage;
  /** Called when the session ends because the refresh token was refused. */
  onSignedOut?: () => void;
}): SessionTokenStore {
  const storage = options.storage ?? memoryTokenStorage();
  // One refresh at a time for everyone holding this store (the HTTP client and the real-time
  // client alike): a refresh token works once, and a second use would revoke the session.
  let refreshing: Promise<boolean> | undefined;
  async function refreshOnce(): Promise<boolean> {
    const current = await storage.load();
    if (!current) return false;
    let next: SessionTokens;
    try {
      next = await options.refresh(current.refreshToken);
    } catch (error) {
      // Only a refusal ends the session; a network failure leaves the tokens for a later try.
      if ((error as { status?: unknown }).status !== 401) throw error;
      await storage.save(null);
      options.onSignedOut?.();
      return false;
    }
    await storage.save({ accessToken: next.accessToken, refreshToken: next.refreshToken });
    return true;
  }
  return {
    async getAccessToken() {
      return (await storage.load())?.accessToken;
    },
    refresh() {
      refreshing ??= refreshOnce().finally(() => {
        refreshing = undefined;
      });
      return refreshing;
    },
    set: async (tokens) => storage.save(tokens),
    clear: async () => storage.save(null),
  };
}
