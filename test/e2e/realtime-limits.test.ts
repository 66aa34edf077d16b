import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../generated/client';
import type { Database } from '../../server/db/database';
import { openServerDatabase } from '../support/database';
import { connected, signUp, startRealtimeServer, viaProxy } from '../support/realtime';

/**
 * Abuse caps of the socket server: every client event has a per-user rate limit (answered with a
 * RATE_LIMITED ack), and sockets are capped per user and per client address (refused at the
 * handshake with TOO_MANY_CONNECTIONS). One server with the defaults, one with small caps.
 */
let database: Database;
let server: Awaited<ReturnType<typeof startRealtimeServer>>;
let small: Awaited<ReturnType<typeof startRealtimeServer>>;

beforeAll(async () => {
  database = await openServerDatabase();
  server = await startRealtimeServer(database);
  small = await startRealtimeServer(database, { maxSocketsPerUser: 3, maxSocketsPerAddress: 5 });
});
afterAll(async () => {
  await small.stop();
  await server.stop();
  await database.close();
});

type Device = ReturnType<Awaited<ReturnType<typeof signUp>>['device']>;
type ConnectError = Error & { data?: { code?: string; message?: string } };

/** Whether a device got in: 'connected', or the code of its connect_error. */
function outcome(device: Device): Promise<{ connected: true } | { connected: false; error: ConnectError }> {
  return new Promise((resolve) => {
    if (device.socket.connected) return resolve({ connected: true });
    device.socket.once('connect', () => resolve({ connected: true }));
    device.socket.once('connect_error', (error: ConnectError) => resolve({ connected: false, error }));
  });
}

describe('event rate limits', () => {
  it('presence:query is limited per user across devices; the next query is RATE_LIMITED, other users and events are not', async () => {
    const ana = await signUp(server.url);
    const ben = await signUp(server.url);
    const [phone, laptop, benPhone] = [ana.device(), ana.device(), ben.device()];
    await Promise.all([phone, laptop, benPhone].map(connected));
    const query = { userIds: [ben.id] };
    // 30 a minute per user, from both of Ana's devices together.
    for (let i = 0; i < 15; i++) {
      await phone.emit('presence:query', query);
      await laptop.emit('presence:query', query);
    }
    const refused = await phone.emit('presence:query', query).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/try again in \d+ s/) });
    await expect(laptop.emit('presence:query', query)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    // Each event counts on its own, and each user.
    expect(await phone.emit('room:members', { room: `user:${ana.id}` })).toEqual({ room: `user:${ana.id}`, userIds: [ana.id] });
    expect((await benPhone.emit('presence:query', { userIds: [ana.id] })).users).toHaveLength(1);
    expect(phone.connected).toBe(true);
    [phone, laptop, benPhone].forEach((d) => d.close());
  });

  it('room events without a limit of their own get the default per-user limit', async () => {
    const ana = await signUp(server.url);
    const phone = ana.device();
    await connected(phone);
    const room = { room: `user:${ana.id}` };
    const answers = await Promise.all(
      Array.from({ length: 121 }, () =>
        phone.emit('room:members', room).then(
          () => 'ok',
          (e: { code: string }) => e.code,
        ),
      ),
    );
    expect(answers.filter((a) => a === 'ok')).toHaveLength(120);
    expect(answers.filter((a) => a === 'RATE_LIMITED')).toHaveLength(1);
    phone.close();
  });
});

describe('connection caps', () => {
  it('by default a user holds at most 20 sockets; the 21st is refused with TOO_MANY_CONNECTIONS', async () => {
    const ana = await signUp(server.url);
    const devices = Array.from({ length: 20 }, () => ana.device());
    await Promise.all(devices.map(connected));
    const extra = ana.device();
    const result = await outcome(extra);
    expect(result.connected).toBe(false);
    const { error } = result as { error: ConnectError };
    expect(error.data).toEqual({ code: 'TOO_MANY_CONNECTIONS', message: expect.stringContaining('at most 20') });
    expect(error.message).toContain('this user');
    // Another user is not affected.
    const ben = await signUp(server.url);
    const benPhone = ben.device();
    expect(await outcome(benPhone)).toEqual({ connected: true });
    [...devices, extra, benPhone].forEach((d) => d.close());
  });

  it('counts every session and device of a user, and frees a place when a socket leaves', async () => {
    const ana = await signUp(small.url);
    const login = await createClient({ baseUrl: small.url, headers: { 'X-Forwarded-For': '10.99.9.9' } }).auth.login({
      body: { username: ana.session.user.username, password: 'a long enough tango passphrase' },
    });
    if (login.status !== 'authenticated') throw new Error(`login answered ${login.status}`);
    const otherSession = { getAccessToken: () => login.accessToken };
    const first = [ana.device(), ana.device(), ana.device({ tokens: otherSession })];
    await Promise.all(first.map(connected));
    const refused = await outcome(ana.device({ tokens: otherSession }));
    expect(refused).toMatchObject({ connected: false, error: { data: { code: 'TOO_MANY_CONNECTIONS' } } });
    first[0]!.close();
    await expect.poll(async () => (await small.realtime.io.fetchSockets()).filter((s) => s.data.user.id === ana.id).length).toBe(2);
    const again = ana.device();
    expect(await outcome(again)).toEqual({ connected: true });
    [...first, again].forEach((d) => d.close());
  });

  it('caps sockets per client address as the trusted proxy reports it; other addresses still get in', async () => {
    const users = await Promise.all(Array.from({ length: 3 }, () => signUp(small.url)));
    const crowd = '10.99.0.1';
    // Five from one address (no user over their own cap of three), then one more.
    const five = [0, 0, 1, 1, 2].map((i) => users[i]!.device({ connect: viaProxy(crowd) }));
    await Promise.all(five.map(connected));
    const sixth = users[2]!.device({ connect: viaProxy(crowd) });
    const result = await outcome(sixth);
    expect(result).toMatchObject({
      connected: false,
      error: { data: { code: 'TOO_MANY_CONNECTIONS', message: expect.stringContaining('address') } },
    });
    // The proxy's own address is not the client's: someone elsewhere connects through it.
    const elsewhere = users[2]!.device({ connect: viaProxy('10.99.0.2') });
    expect(await outcome(elsewhere)).toEqual({ connected: true });
    // A refused socket took no place: one leaves, one more from the crowd gets in.
    five[0]!.close();
    await expect.poll(async () => (await small.realtime.io.fetchSockets()).length).toBeLessThanOrEqual(5);
    const next = users[0]!.device({ connect: viaProxy(crowd) });
    expect(await outcome(next)).toEqual({ connected: true });
    [...five, sixth, elsewhere, next].forEach((d) => d.close());
  });
});
