import { describe, expect, it } from 'vitest';
import { createClient, createTokenStore, memoryTokenStorage } from '../../generated/client';
import { connected, contacts, next, realtimeServerForFile } from '../support/realtime';

/**
 * A socket lives no longer than its access token: at `exp` the server says `token:expired` and
 * disconnects it; the generated client refreshes through its token store, connects again and
 * rejoins its rooms, with nothing for the app to do. Tokens here live two to three seconds.
 */
const file = realtimeServerForFile();

/** Resolves with why and when the device's connection was closed (rejects after `ms`). */
function disconnection(device: { socket: { once(event: 'disconnect', fn: (reason: string) => void): unknown } }, ms: number) {
  return new Promise<{ reason: string; at: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still connected after ${ms} ms`)), ms);
    device.socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve({ reason, at: Date.now() });
    });
  });
}

describe('a socket whose access token expires', () => {
  it('is closed at exp with token:expired; the client refreshes through its token store, reconnects and rejoins its rooms', async () => {
    const { ana, ben, conversation } = await contacts(file.server.url);
    const room = `conversation:${conversation.id}`;
    const short = await file.server.shortLivedToken(ana, 3);
    let refreshes = 0;
    const anonymous = createClient({ baseUrl: file.server.url });
    const tokens = createTokenStore({
      storage: memoryTokenStorage({ accessToken: short.token, refreshToken: ana.session.refreshToken }),
      refresh: async (refreshToken) => {
        refreshes++;
        return anonymous.auth.refreshTokens({ body: { refreshToken } });
      },
    });
    const phone = ana.device({ tokens });
    const benPhone = ben.device();
    await Promise.all([phone, benPhone].map(connected));
    await phone.join(room);
    await benPhone.join(room);

    const told = next(phone, 'token:expired', 10_000);
    const closed = disconnection(phone, 10_000);
    expect(await told).toEqual({ code: 'TOKEN_EXPIRED', message: expect.any(String) });
    const { reason, at } = await closed;
    expect(reason).toBe('io server disconnect');
    expect(at).toBeGreaterThanOrEqual(short.expiresAt);

    // Back by itself, with a fresh token, in its room again: Ben sees Ana there and her messages arrive.
    await expect.poll(() => phone.connected, { timeout: 10_000 }).toBe(true);
    expect(refreshes).toBe(1);
    expect(await tokens.getAccessToken()).not.toBe(short.token);
    await expect.poll(async () => (await benPhone.emit('room:members', { room })).userIds, { timeout: 5000 }).toContain(ana.id);
    const arrived = next(phone, 'message:new', 5000);
    const sent = await ben.api.messages.sendMessage({
      params: { conversationId: conversation.id },
      body: { clientKey: 'after-expiry', body: '¿Seguís ahí?' },
    });
    expect((await arrived).id).toBe(sent.id);

    // The HTTP client sharing the store uses the refreshed token: no second refresh.
    const api = createClient({ baseUrl: file.server.url, tokens });
    expect((await api.users.getMe()).id).toBe(ana.id);
    expect(refreshes).toBe(1);
    phone.close();
    benPhone.close();
  });

  it('stays closed when the token cannot be refreshed: an expired token neither sends nor receives', async () => {
    const { ana, ben, conversation } = await contacts(file.server.url);
    const short = await file.server.shortLivedToken(ana, 3);
    const phone = ana.device({ tokens: { getAccessToken: () => short.token } });
    await connected(phone);
    const received: string[] = [];
    phone.on('message:new', (m) => received.push(m.id));

    const { reason } = await disconnection(phone, 10_000);
    expect(reason).toBe('io server disconnect');
    const sent = await ben.api.messages.sendMessage({
      params: { conversationId: conversation.id },
      body: { clientKey: 'to-nobody', body: 'Hola' },
    });
    // A handshake with the expired token is refused as expired, and the client does not loop on it.
    const again = ana.device({ tokens: { getAccessToken: () => short.token } });
    const refused = await new Promise<Error & { data?: { code?: string } }>((resolve) => again.socket.once('connect_error', resolve));
    expect(refused.data?.code).toBe('TOKEN_EXPIRED');
    expect(phone.connected).toBe(false);
    expect(again.connected).toBe(false);
    expect(received).not.toContain(sent.id);
    phone.close();
    again.close();
  });
});
