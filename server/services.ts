import type { Database } from './db/database';
import { createEventStore, type EventStore } from './services/events';

/** What every handler finds in its context beside the request: the app's stores. */
export interface Services {
  database: Database;
  eventStore: EventStore;
  startedAt: number;
}

export function createServices(database: Database): Services {
  return { database, eventStore: createEventStore(database.db), startedAt: Date.now() };
}
