import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database';
import { openServerDatabase } from '../support/database';
import { connected, signUp, startRealtimeServer } from '../support/realtime';

/** A killed and restarted server: the client reconnects by itself and loses or repeats nothing. */
let database: Database;

beforeAll(async () => {
  database = await openServerDatabase();
});
afterAll(() => database.close());

describe('reconnection', () => {
  it('reconnects with backoff, rejoins its rooms, catches up through listMessages, and resends unacknowledged sends once', async () => {
    let server = await startRealtimeServer(database);
    const port = Number(new URL(server.url).port);
    const ana = await signUp(server.url);
    const ben = await signUp(server.url);
    const conversation = await ana.api.messages.createConversation({ body: { kind: 'direct', memberIds: [ben.id] } });

    // Ben's app: shows each message once, whether pushed or fetched after a reconnection.
    const seen: string[] = [];
    const show = (message: { id: string }) => {
      if (!seen.includes(message.id)) seen.push(message.id);
    };
    // Catch up from the last message seen before the connection dropped.
    let seenBeforeDrop: string | undefined;
    const resync = async () => {
      for await (const message of ben.api.messages.listMessages.items({
        params: { conversationId: conversation.id },
        query: seenBeforeDrop ? { after: seenBeforeDrop } : {},
      }))
        show(message);
    };
    const benPhone = ben.device({ reconnectionDelayMs: 400, reconnectionDelayMaxMs: 2000, resync });
    benPhone.on('message:new', show);
    benPhone.socket.on('disconnect', () => {
      seenBeforeDrop = seen.at(-1);
    });
    const attempts: number[] = [];
    benPhone.socket.io.on('reconnect_attempt', () => attempts.push(Date.now()));
    await connected(benPhone);
    await benPhone.join(`conversation:${conversation.id}`);

    const send = (clientKey: string) =>
      ana.api.messages.sendMessage({ params: { conversationId: conversation.id }, body: { clientKey, body: clientKey } });
    const first = await send('m1');
    await expect.poll(() => seen).toEqual([first.id]);

    // Kill the server. Ben's phone tries to send meanwhile: the send waits for an ack.
    await server.stop();
    const pendingSend = benPhone.emit('message:send', { conversationId: conversation.id, clientKey: 'from-ben', body: 'sent while down' });
    await new Promise((r) => setTimeout(r, 600));
    server = await startRealtimeServer(database, { port });
    // Messages sent before Ben's phone is back.
    const missed = [await send('m2'), await send('m3')];

    const acked = await pendingSend;
    await expect.poll(() => seen, { timeout: 5000 }).toEqual(expect.arrayContaining([first.id, ...missed.map((m) => m.id), acked.id]));
    expect(new Set(seen).size).toBe(seen.length);
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(benPhone.connected).toBe(true);

    // Nothing was stored twice, and the room was joined again.
    const stored = await ana.api.messages.listMessages({ params: { conversationId: conversation.id }, query: { limit: 100 } });
    expect(stored.data.map((m) => m.body).sort()).toEqual(['m1', 'm2', 'm3', 'sent while down'].sort());
    const members = await benPhone.emit('room:members', { room: `conversation:${conversation.id}` });
    expect(members.userIds).toContain(ben.id);

    // And new messages arrive live again.
    const live = await send('m4');
    await expect.poll(() => seen).toContain(live.id);
    benPhone.close();
    await server.stop();
  });
});
