import type { SessionTokens } from './auth/session-tokens';
import type { Revocations } from './auth/revocations';
import type { Database } from './db/database';
import { createEventStore, type EventStore } from './services/events';
import { createSessionStore, type SessionStore } from './services/sessions';
import { createUserStore, type UserStore } from './services/users';

/** What every handler finds in its context beside the request: the app's stores and auth services. */
export interface Services {
  database: Database;
  eventStore: EventStore;
  userStore: UserStore;
  sessionStore: SessionStore;
  revocations: Revocations;
  tokens: SessionTokens;
  startedAt: number;
}

export function createServices(database: Database, auth: { revocations: Revocations; tokens: SessionTokens }): Services {
  return {
    database,
    eventStore: createEventStore(database.db),
    userStore: createUserStore(database.db),
    sessionStore: createSessionStore(database.db),
    revocations: auth.revocations,
    tokens: auth.tokens,
    startedAt: Date.now(),
  };
}
