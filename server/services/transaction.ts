import type { AppDb } from '../db/database';
import { createSessionStore, type SessionStore } from './sessions';
import { createUserStore, type UserStore } from './users';

/** The account stores, bound to one transaction. */
export interface TransactionStores {
  userStore: UserStore;
  sessionStore: SessionStore;
}

/**
 * Runs `work` in one database transaction with stores bound to it: every write it makes commits
 * together, or none does if it throws. An operation that writes more than once runs its writes,
 * and whatever may still fail after them (signing its tokens), in here. Inside, use only these
 * stores and no slow work: PGlite has one connection, so a query through the app's own stores
 * would wait for this transaction to end, and every other request waits while it runs.
 */
export function inTransaction<T>(db: AppDb, work: (stores: TransactionStores) => Promise<T>): Promise<T> {
  return db.transaction((tx) => work({ userStore: createUserStore(tx), sessionStore: createSessionStore(tx) }));
}
