import { randomUUID } from 'node:crypto';
import { count, eq, sql } from 'drizzle-orm';
import request from 'supertest';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Database } from '../../../server/db/database';
import { messages } from '../../../server/db/schema';
import type { Message } from '../../../server/services/messaging';
import { noRealtime, type RealtimePort } from '../../../server/services/realtime-port';
import { createTestApp } from '../../support/app';
import type { Backend } from '../../support/database';

/** The messaging tests' app: real accounts, a recording real-time port, helpers to talk as someone. */
export interface Recorded {
  userIds: string[];
  event: string;
  payload: Record<string, unknown>;
}

export interface Dancer {
  id: string;
  token: string;
}

/** Newest first, as the API orders messages: (created_at, id) descending. */
export const newestFirst = (a: Message, b: Message) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);

/** Call inside a describe: sets the app up before its tests and tears it down after. */
export function useMessagingApp(backend: Backend) {
  let database: Database;
  let test: Awaited<ReturnType<typeof createTestApp>>;
  const recorded: Recorded[] = [];
  const realtime: RealtimePort = {
    toUsers(userIds, event, payload) {
      recorded.push({ userIds: [...userIds], event, payload: payload as Record<string, unknown> });
    },
    toRoom() {},
    removeFromRoom() {},
    liveCounts: noRealtime.liveCounts,
  };

  beforeAll(async () => {
    database = await backend.open();
    test = await createTestApp(database, {}, undefined, { realtime });
  });
  afterAll(async () => {
    await test.close();
    await database.close();
  });

  /** A real account, stored through the user store, and a token for it. */
  async function dancer(): Promise<Dancer> {
    const user = await test.services.userStore.create({
      username: `dancer-${randomUUID().slice(0, 8)}`,
      displayName: 'Test Dancer',
      passwordHash: 'not-a-real-hash',
    });
    if (user === 'taken') throw new Error('username collision');
    return { id: user.id, token: await test.token(user.id) };
  }

  const as = (who: Dancer) => ({
    get: (path: string, query: Record<string, string | number> = {}) =>
      request(test.app).get(`/api/v1${path}`).query(query).set('Authorization', `Bearer ${who.token}`),
    post: (path: string, body: object) => request(test.app).post(`/api/v1${path}`).set('Authorization', `Bearer ${who.token}`).send(body),
  });

  async function conversation(creator: Dancer, others: Dancer[], kind: 'direct' | 'group' = others.length === 1 ? 'direct' : 'group') {
    const res = await as(creator).post('/conversations', { kind, memberIds: others.map((o) => o.id) });
    expect(res.status).toBe(201);
    return res.body.data as { id: string; memberIds: string[] };
  }

  async function send(who: Dancer, conversationId: string, body = 'Hola', clientKey: string = randomUUID()) {
    const res = await as(who).post(`/conversations/${conversationId}/messages`, { clientKey, body });
    expect(res.status).toBe(201);
    return res.body.data as Message;
  }

  const storedMessages = async (conversationId: string) =>
    (await database.db.select({ n: count() }).from(messages).where(eq(messages.conversationId, conversationId)))[0]!.n;

  const eventsFor = (event: string, match: (payload: Record<string, unknown>) => boolean) =>
    recorded.filter((r) => r.event === event && match(r.payload));

  return {
    recorded,
    dancer,
    as,
    conversation,
    send,
    storedMessages,
    eventsFor,
    /** As a moderator's `hide` decision leaves a message. */
    hideMessage: (id: string) => database.db.execute(sql`UPDATE messages SET hidden_at = now() WHERE id = ${id}`),
    /** The running app (read inside tests, once beforeAll has run). */
    get app() {
      return test.app;
    },
    get services() {
      return test.services;
    },
  };
}
