import { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { createClient, createTokenStore, memoryTokenStorage } from '../../generated/client';
import { connected, contacts, next, realtimeServerForFile, signUp, startRealtimeServer } from '../support/realtime';

/** Real sockets against a real server: messages, receipts, rooms, presence, heartbeat, revocation. */
const file = realtimeServerForFile();

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

async function pair() {
  const ana = await signUp(file.server.url);
  const ben = await signUp(file.server.url);
  const conversation = await ana.api.messages.createConversation({ body: { kind: 'direct', memberIds: [ben.id] } });
  return { ana, ben, conversation };
}

describe('real-time messaging', () => {
  it('send with ack; a recipient on two devices gets it on both; the sender gets one delivered', async () => {
    const { ana, ben, conversation } = await pair();
    const anaPhone = ana.device();
    const benPhone = ben.device();
    const benLaptop = ben.device();
    await Promise.all([anaPhone, benPhone, benLaptop].map(connected));

    const onPhone = next(benPhone, 'message:new');
    const onLaptop = next(benLaptop, 'message:new');
    const ack = await anaPhone.emit('message:send', { conversationId: conversation.id, clientKey: 'k-1', body: '¿Bailamos?' });
    expect(ack).toMatchObject({ conversationId: conversation.id, senderId: ana.id, body: '¿Bailamos?' });
    expect(Date.parse(ack.createdAt)).not.toBeNaN();
    expect((await onPhone).id).toBe(ack.id);
    expect((await onLaptop).id).toBe(ack.id);

    const delivered: unknown[] = [];
    anaPhone.on('message:delivered', (d) => delivered.push(d));
    await benPhone.emit('message:received', { messageId: ack.id });
    await benLaptop.emit('message:received', { messageId: ack.id });
    await settle();
    expect(delivered).toEqual([expect.objectContaining({ messageId: ack.id, userId: ben.id, conversationId: conversation.id })]);

    // A resend with the same key (a lost ack, say) is not stored twice.
    const resend = await anaPhone.emit('message:send', { conversationId: conversation.id, clientKey: 'k-1', body: '¿Bailamos?' });
    expect(resend.id).toBe(ack.id);
    const stored = await ana.api.messages.listMessages({ params: { conversationId: conversation.id } });
    expect(stored.data.map((m) => m.id)).toEqual([ack.id]);
    [anaPhone, benPhone, benLaptop].forEach((d) => d.close());
  });

  it('markRead sends a read receipt to the sender', async () => {
    const { ana, ben, conversation } = await pair();
    const anaPhone = ana.device();
    await connected(anaPhone);
    const message = await ana.api.messages.sendMessage({
      params: { conversationId: conversation.id },
      body: { clientKey: 'r-1', body: 'Hola' },
    });
    const receipt = next(anaPhone, 'message:read');
    await ben.api.messages.markRead({ params: { conversationId: conversation.id }, body: { messageId: message.id } });
    expect(await receipt).toMatchObject({ userId: ben.id, messageId: message.id, conversationId: conversation.id });
    anaPhone.close();
  });

  it('a non-member can neither join nor send: error acks, and the connection stays up', async () => {
    const { conversation } = await pair();
    const eve = await signUp(file.server.url);
    const eveLaptop = eve.device();
    await connected(eveLaptop);
    await expect(eveLaptop.join(`conversation:${conversation.id}`)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      eveLaptop.emit('message:send', { conversationId: conversation.id, clientKey: 'x', body: 'intruding' }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(eveLaptop.join('user:someone-else')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Nor can a socket slip out of its own user or session room (revocation reaches it there).
    await expect(eveLaptop.leave(`session:${eve.session.sessionId}`)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(eveLaptop.leave(`user:${eve.id}`)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(eveLaptop.connected).toBe(true);
    eveLaptop.close();
  });

  it('an invalid payload gets an error ack with field paths, and the server keeps serving', async () => {
    const { ana, conversation } = await pair();
    const phone = ana.device();
    await connected(phone);
    const error = await phone.emit('message:send', { conversationId: 'nope', clientKey: '', body: '' } as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((error as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(
      expect.arrayContaining(['/payload/conversationId', '/payload/clientKey', '/payload/body']),
    );
    const nul = await phone
      .emit('message:send', { conversationId: conversation.id, clientKey: 'v-0', body: 'a\u0000b' })
      .catch((e: unknown) => e);
    expect(nul).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: '/payload/body', code: 'forbidden_character' }] });
    const lone = await phone
      .emit('message:send', { conversationId: conversation.id, clientKey: 'x\ud800', body: 'hi' })
      .catch((e: unknown) => e);
    expect(lone).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: '/payload/clientKey', code: 'invalid_unicode' }] });
    phone.socket.emit('message:send', 'not even an object');
    const ok = await phone.emit('message:send', { conversationId: conversation.id, clientKey: 'v-1', body: 'still here' });
    expect(ok.body).toBe('still here');
    phone.close();
  });

  it('closes a connection that sends a message over 64 KB, and the client comes back by itself', async () => {
    const { ana, conversation } = await pair();
    const phone = ana.device({ retries: 0 });
    await connected(phone);
    const dropped = new Promise<string>((resolve) => phone.socket.once('disconnect', (reason) => resolve(reason)));
    phone.socket.emit('message:send', { conversationId: conversation.id, clientKey: 'huge', body: 'x'.repeat(70 * 1024) });
    expect(await dropped).toBe('transport close');
    await connected(phone);
    const stored = await ana.api.messages.listMessages({ params: { conversationId: conversation.id } });
    expect(stored.data).toEqual([]);
    phone.close();
  });

  it('sending over the socket and over REST draws on one rate limit, answered with RATE_LIMITED', async () => {
    const { ana, conversation } = await pair();
    const phone = ana.device();
    await connected(phone);
    const conversationId = conversation.id;
    // Ten at a time: the limit counts them all the same.
    const tens = Array.from({ length: 6 }, (_, t) => Array.from({ length: 10 }, (_, i) => t * 10 + i));
    for (const ten of tens)
      await Promise.all(
        ten.map((i) => ana.api.messages.sendMessage({ params: { conversationId }, body: { clientKey: `rest-${i}`, body: 'x' } })),
      );
    for (const ten of tens)
      await Promise.all(ten.map((i) => phone.emit('message:send', { conversationId, clientKey: `socket-${i}`, body: 'x' })));
    const refused = await phone.emit('message:send', { conversationId, clientKey: 'one-too-many', body: 'x' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'RATE_LIMITED' });
    const overRest = await ana.api.messages
      .sendMessage({ params: { conversationId }, body: { clientKey: 'rest-too-many', body: 'x' } })
      .catch((e: unknown) => e);
    expect(overRest).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    phone.close();
  });

  it('members can join the conversation room and ask who is in it', async () => {
    const { ana, ben, conversation } = await contacts(file.server.url);
    const [a, b] = [ana.device(), ben.device()];
    await Promise.all([a, b].map(connected));
    await a.join(`conversation:${conversation.id}`);
    await b.join(`conversation:${conversation.id}`);
    const members = await a.emit('room:members', { room: `conversation:${conversation.id}` });
    expect(members.userIds).toEqual([ana.id, ben.id].sort());
    a.close();
    b.close();
  });
});

describe('presence', () => {
  it('online with the first device, offline only when the last one leaves, pushed to contacts', async () => {
    const { ana, ben } = await contacts(file.server.url);
    const anaPhone = ana.device();
    await connected(anaPhone);
    const updates: { userId: string; status: string; lastSeenAt: string | null }[] = [];
    anaPhone.on('presence:update', (p) => updates.push(p));

    const benPhone = ben.device();
    await connected(benPhone);
    await settle();
    const benLaptop = ben.device();
    await connected(benLaptop);
    await settle();
    expect(updates).toEqual([{ userId: ben.id, status: 'online', lastSeenAt: null }]);
    expect((await anaPhone.emit('presence:query', { userIds: [ben.id] })).users[0]).toMatchObject({ status: 'online' });

    benPhone.close();
    await settle();
    expect(updates).toHaveLength(1);
    benLaptop.close();
    await settle();
    expect(updates[1]).toMatchObject({ userId: ben.id, status: 'offline', lastSeenAt: expect.any(String) });
    anaPhone.close();
  });

  it('drops a client that stops answering pings and turns its presence offline', async () => {
    // A short heartbeat so a dead peer is found within a test: ping every 300 ms, wait 300 ms for the
    // pong. On a server of its own: on a loaded machine, live clients miss such a deadline too.
    const heartbeat = await startRealtimeServer(file.database, { pingIntervalMs: 300, pingTimeoutMs: 300 });
    const { ana, ben } = await contacts(heartbeat.url);
    const anaPhone = ana.device();
    await connected(anaPhone);
    const benSeen = async () => (await anaPhone.emit('presence:query', { userIds: [ben.id] })).users[0]!;

    // A raw Engine.IO client that connects, authenticates, then never answers a ping.
    const port = new URL(heartbeat.url).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/realtime/?EIO=4&transport=websocket`);
    const closed = new Promise<number>((resolve) => ws.on('close', () => resolve(Date.now())));
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('0')) ws.send(`40${JSON.stringify({ token: ben.session.accessToken })}`);
    });
    const started = Date.now();
    const closedAt = await closed;
    // Dropped within ping interval + timeout (300 + 300 ms), with room for a slow machine (the
    // defaults are 30 s + 20 s). Asked rather than pushed: Ana's own socket may drop and come back.
    // Last seen: he was online, and is not any more.
    expect(closedAt - started).toBeLessThan(5000);
    await expect.poll(benSeen, { interval: 300, timeout: 5000 }).toMatchObject({ status: 'offline', lastSeenAt: expect.any(String) });
    anaPhone.close();
    await heartbeat.stop();
  });
});

describe('sessions', () => {
  it('revoking a session disconnects its sockets at once', async () => {
    const ana = await signUp(file.server.url);
    const phone = ana.device();
    await connected(phone);
    const disconnected = new Promise<string>((resolve) => phone.socket.on('disconnect', (reason) => resolve(reason)));
    await ana.api.auth.logout();
    expect(await disconnected).toBe('io server disconnect');
    phone.close();
  });

  it('refuses an expired token at the handshake, and the client refreshes it and connects', async () => {
    const ana = await signUp(file.server.url);
    const expired = await file.server.expiredToken(ana.id, ana.session.sessionId);
    let token = expired;
    let refreshes = 0;
    const phone = ana.device({
      tokens: {
        getAccessToken: () => token,
        refresh: async () => {
          refreshes++;
          token = ana.session.accessToken;
          return true;
        },
      },
    });
    const refused = new Promise<Error & { data?: { code?: string } }>((resolve) => phone.socket.once('connect_error', resolve));
    expect((await refused).data?.code).toBe('TOKEN_EXPIRED');
    await connected(phone);
    expect(refreshes).toBe(1);
    phone.close();
  });

  it('the HTTP client and the real-time client sharing a token store refresh once', async () => {
    const ana = await signUp(file.server.url);
    const expired = await file.server.expiredToken(ana.id, ana.session.sessionId);
    let refreshes = 0;
    const anonymous = createClient({ baseUrl: file.server.url });
    const tokens = createTokenStore({
      storage: memoryTokenStorage({ accessToken: expired, refreshToken: ana.session.refreshToken }),
      refresh: async (refreshToken) => {
        refreshes++;
        return anonymous.auth.refreshTokens({ body: { refreshToken } });
      },
    });
    const api = createClient({ baseUrl: file.server.url, tokens });
    const phone = ana.device({ tokens });
    const [me] = await Promise.all([api.users.getMe(), connected(phone)]);
    expect(me.id).toBe(ana.id);
    expect(refreshes).toBe(1);
    phone.close();
  });

  it('refuses a handshake without a valid token', async () => {
    const ana = await signUp(file.server.url);
    const stranger = ana.device({ tokens: { getAccessToken: () => 'not-a-token' } });
    const error = await new Promise<Error & { data?: { code?: string } }>((resolve) => stranger.socket.once('connect_error', resolve));
    expect(error.data?.code).toBe('UNAUTHENTICATED');
    stranger.close();
  });
});

describe('documents', () => {
  it('serves the AsyncAPI document at /asyncapi.json', async () => {
    const res = await fetch(`${file.server.url}/asyncapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = (await res.json()) as { asyncapi: string; channels: { realtime: { address: string } } };
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.channels.realtime.address).toBe('/api/v1/realtime');
  });
});
