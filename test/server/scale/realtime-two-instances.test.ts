import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type ApiClient } from '../../../generated/client';
import { createRealtimeClient, type ClientEvents, type RealtimeClient, type ServerEvents } from '../../../generated/client/realtime';
import type { Database } from '../../../server/db/database';
import { connectRedis, type RedisConnections } from '../../../server/redis';
import { backends } from '../../support/database';
import { describeWith } from '../../support/services';
import { connected, next, signUp, startRealtimeServer } from '../../support/realtime';
import { redisRun, redisUrl, within } from './http-client';

/**
 * Real time across two instances behind an imaginary load balancer: one PostgreSQL database, one
 * Redis, each instance with Redis connections of its own (same key prefix) and its own port. Users
 * and their devices land on either instance; messages, receipts, presence, room membership and
 * session revocation must behave as if there were one server.
 */

// One prefix per run, shared by both instances: their presence and adapter channels meet, other runs' do not.
const run = redisRun('rt');
const { prefix, inspector } = run;
/** Pub/sub is asynchronous: what one instance emits must reach the other's clients within this bound. */
const PROPAGATION_MS = 3000;
/** A revoked session's socket on the other instance must be gone within this bound (as for HTTP tokens). */
const REVOCATION_MS = 1000;
const password = 'a long enough tango passphrase'; // the one signUp registers with

type Server = Awaited<ReturnType<typeof startRealtimeServer>>;
type Device = RealtimeClient<ClientEvents, ServerEvents>;

let database: Database | undefined;
const connections: RedisConnections[] = [];
const servers: Server[] = [];
const devices: Device[] = [];
let a: Server;
let b: Server;

/** A full instance (HTTP + sockets) on the shared database, with Redis connections of its own. */
async function instance(): Promise<Server> {
  const redis = await connectRedis(redisUrl, prefix);
  connections.push(redis);
  const server = await startRealtimeServer(database!, { redis });
  servers.push(server);
  return server;
}

describeWith(['postgres', 'redis'], 'real time on two instances sharing PostgreSQL and Redis', () => {
  beforeAll(async () => {
    database = await backends.find((backend) => backend.name === 'postgres')!.open();
    a = await instance();
    b = await instance();
    // Both adapters listen before any test counts on them (fetchSockets counts the instances that do).
    const listening = await within(PROPAGATION_MS, async () => (await subscribers(`${prefix}socket.io-request#/#`)) === 2);
    expect(listening.ok).toBe(true);
  });

  afterAll(async () => {
    for (const device of devices.splice(0)) device.close();
    for (const server of servers.splice(0)) await server.stop();
    for (const connection of connections.splice(0)) await connection.close();
    // Nothing of this run may stay behind in the shared Redis (presence sets and last-seen times).
    await run.sweep();
    await database?.close();
  });

  async function subscribers(channel: string): Promise<number> {
    const [, count] = (await inspector.pubsub('NUMSUB', channel)) as [string, number];
    return Number(count);
  }

  /** How many sockets Redis presence counts for a user, across instances. */
  const presenceSockets = (userId: string) => inspector.zcard(`${prefix}presence:${userId}`);

  /** The socket ids connected to this very instance (not the other one). */
  async function localSocketIds(server: Server): Promise<string[]> {
    return (await server.realtime.io.local.fetchSockets()).map((socket) => socket.id);
  }

  function track(device: Device): Device {
    devices.push(device);
    return device;
  }

  /** One signed-in session of a user: REST and devices on either instance, with this session's token. */
  interface Session {
    id: string;
    username: string;
    sessionId: string;
    accessToken: string;
    rest(on: Server): ApiClient;
    device(on: Server): Device;
  }

  function session(id: string, username: string, sessionId: string, accessToken: string): Session {
    const tokens = { getAccessToken: () => accessToken };
    return {
      id,
      username,
      sessionId,
      accessToken,
      rest: (on) => createClient({ baseUrl: on.url, tokens, retry: false }),
      device: (on) => track(createRealtimeClient({ baseUrl: on.url, tokens, reconnectionDelayMs: 50, reconnectionDelayMaxMs: 200 })),
    };
  }

  /** Signs a new user up through an instance's REST API. */
  async function register(via: Server): Promise<Session> {
    const user = await signUp(via.url);
    return session(user.id, user.session.user.username, user.session.sessionId, user.session.accessToken);
  }

  let loginAddresses = 0;
  /** Another session of the same user, signed in through an instance's REST API. */
  async function signIn(user: Session, via: Server): Promise<Session> {
    const anonymous = createClient({ baseUrl: via.url, headers: { 'X-Forwarded-For': `10.78.0.${++loginAddresses}` }, retry: false });
    const result = await anonymous.auth.login({ body: { username: user.username, password } });
    if (result.status !== 'authenticated') throw new Error(`login of ${user.username} answered ${result.status}`);
    return session(user.id, user.username, result.sessionId, result.accessToken);
  }

  /** Every `event` a device receives from now on that `matches`. */
  function record<K extends keyof ServerEvents & string>(
    device: Device,
    event: K,
    matches: (payload: ServerEvents[K]) => boolean = () => true,
  ) {
    const seen: ServerEvents[K][] = [];
    device.on(event, (payload) => {
      if (matches(payload)) seen.push(payload);
    });
    return seen;
  }

  /** The next `event` on a device that `matches` (rejects after `ms`). */
  function nextWhere<K extends keyof ServerEvents & string>(
    device: Device,
    event: K,
    matches: (payload: ServerEvents[K]) => boolean,
    ms = PROPAGATION_MS,
  ): Promise<ServerEvents[K]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no matching ${event} within ${ms} ms`));
      }, ms);
      const off = device.on(event, (payload) => {
        if (!matches(payload)) return;
        clearTimeout(timer);
        off();
        resolve(payload);
      });
    });
  }

  /** Why the server closed a device's connection, with when (rejects after `ms`). */
  function disconnection(device: Device, ms = PROPAGATION_MS): Promise<{ reason: string; at: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`still connected after ${ms} ms`)), ms);
      device.socket.once('disconnect', (reason) => {
        clearTimeout(timer);
        resolve({ reason, at: performance.now() });
      });
    });
  }

  /**
   * A marker message sent over REST through `via` and awaited on `device`: whatever `via` pushed to
   * that device before it (a stray receipt or presence update) has arrived by the time it does.
   */
  async function marker(sender: Session, via: Server, conversationId: string, device: Device): Promise<void> {
    const clientKey = `marker-${randomUUID()}`;
    const arrived = nextWhere(device, 'message:new', (m) => m.clientKey === clientKey);
    await sender.rest(via).messages.sendMessage({ params: { conversationId }, body: { clientKey, body: 'marker' } });
    await arrived;
  }

  async function direct(from: Session, to: Session, via: Server) {
    return from.rest(via).messages.createConversation({ body: { kind: 'direct', memberIds: [to.id] } });
  }

  /** Each of them writes in the conversation (sharing it is what lets them see each other's presence). */
  async function talk(conversationId: string, via: Server, ...people: Session[]) {
    for (const person of people) {
      await person.rest(via).messages.sendMessage({ params: { conversationId }, body: { clientKey: randomUUID(), body: 'Hola' } });
    }
  }

  describe('two instances', () => {
    it('listen on ports of their own, one Redis prefix, one database', () => {
      expect(new URL(a.url).port).not.toBe(new URL(b.url).port);
      expect(connections.map((c) => c.keyPrefix)).toEqual([prefix, prefix]);
    });
  });

  describe('messaging across instances', () => {
    it('sent on A, new on B; one delivered receipt back on A however often B confirms; read over REST on B reaches A', async () => {
      const ana = await register(a);
      const ben = await register(b);
      const conversation = await direct(ana, ben, b);
      const anaPhone = ana.device(a);
      const benPhone = ben.device(b);
      await Promise.all([anaPhone, benPhone].map(connected));
      expect(await localSocketIds(a)).toContain(anaPhone.socket.id);
      expect(await localSocketIds(b)).toContain(benPhone.socket.id);
      expect(await localSocketIds(a)).not.toContain(benPhone.socket.id);

      const arrived = next(benPhone, 'message:new', PROPAGATION_MS);
      const ack = await anaPhone.emit('message:send', {
        conversationId: conversation.id,
        clientKey: 'x-1',
        body: '¿Bailamos la próxima tanda?',
      });
      expect(ack).toMatchObject({
        id: expect.any(String),
        conversationId: conversation.id,
        senderId: ana.id,
        body: '¿Bailamos la próxima tanda?',
      });
      expect(await arrived).toEqual(ack);

      const delivered = record(anaPhone, 'message:delivered');
      const firstDelivered = next(anaPhone, 'message:delivered', PROPAGATION_MS);
      expect(await benPhone.emit('message:received', { messageId: ack.id })).toEqual({ messageId: ack.id });
      const receipt = await firstDelivered;
      expect(receipt).toEqual({ messageId: ack.id, conversationId: conversation.id, userId: ben.id, deliveredAt: expect.any(String) });
      expect(Date.parse(receipt.deliveredAt)).not.toBeNaN();

      // Ben confirms again, from B and from a second device on A: no second receipt, from either instance.
      const benLaptop = ben.device(a);
      await connected(benLaptop);
      expect(await benPhone.emit('message:received', { messageId: ack.id })).toEqual({ messageId: ack.id });
      expect(await benLaptop.emit('message:received', { messageId: ack.id })).toEqual({ messageId: ack.id });
      await marker(ben, b, conversation.id, anaPhone);
      await marker(ben, a, conversation.id, anaPhone);
      expect(delivered).toEqual([receipt]);

      const read = nextWhere(anaPhone, 'message:read', (r) => r.messageId === ack.id);
      await ben.rest(b).messages.markRead({ params: { conversationId: conversation.id }, body: { messageId: ack.id } });
      expect(await read).toMatchObject({ conversationId: conversation.id, userId: ben.id, messageId: ack.id });
    });
  });

  describe('presence across instances', () => {
    it('online with the first device on B, still online when a second device on A leaves, offline when the last one does', async () => {
      const ana = await register(a);
      const ben = await register(b);
      const conversation = await direct(ana, ben, a);
      await talk(conversation.id, b, ana, ben);
      const anaPhone = ana.device(a);
      await connected(anaPhone);
      const updates = record(anaPhone, 'presence:update', (p) => p.userId === ben.id);
      const query = async () => (await anaPhone.emit('presence:query', { userIds: [ben.id] })).users;
      expect(await query()).toEqual([{ userId: ben.id, status: 'offline', lastSeenAt: null }]);

      // First device, on B: Ana, on A, hears he is online.
      const online = next(anaPhone, 'presence:update', PROPAGATION_MS);
      const benPhone = ben.device(b);
      await connected(benPhone);
      expect(await localSocketIds(b)).toContain(benPhone.socket.id);
      expect(await online).toEqual({ userId: ben.id, status: 'online', lastSeenAt: null });
      expect(await query()).toEqual([{ userId: ben.id, status: 'online', lastSeenAt: null }]);

      // A second device, on A, comes and goes: Ben stays online, and nobody is told otherwise.
      const benTablet = ben.device(a);
      await connected(benTablet);
      expect(await localSocketIds(a)).toContain(benTablet.socket.id);
      expect((await within(PROPAGATION_MS, async () => (await presenceSockets(ben.id)) === 2)).ok).toBe(true);
      benTablet.close();
      expect((await within(PROPAGATION_MS, async () => (await presenceSockets(ben.id)) === 1)).ok).toBe(true);
      // Instance A handled the disconnect; anything it would push about it has arrived before this marker.
      await marker(ben, a, conversation.id, anaPhone);
      expect(updates).toEqual([{ userId: ben.id, status: 'online', lastSeenAt: null }]);
      expect(await query()).toEqual([{ userId: ben.id, status: 'online', lastSeenAt: null }]);

      // The last device (on B) leaves: offline, with when he was last seen.
      const offline = nextWhere(anaPhone, 'presence:update', (p) => p.status === 'offline');
      const leftAt = Date.now();
      benPhone.close();
      const update = await offline;
      expect(update).toEqual({ userId: ben.id, status: 'offline', lastSeenAt: expect.any(String) });
      const seen = Date.parse(update.lastSeenAt!);
      expect(seen).toBeGreaterThanOrEqual(leftAt - 5);
      expect(seen).toBeLessThanOrEqual(Date.now() + 5);
      expect(updates).toHaveLength(2);

      const [answer] = await query();
      expect(answer).toEqual({ userId: ben.id, status: 'offline', lastSeenAt: expect.any(String) });
      const queried = Date.parse(answer!.lastSeenAt!);
      expect(queried).toBeGreaterThanOrEqual(leftAt - 5);
      expect(queried).toBeLessThanOrEqual(seen);
    });
  });

  describe('rooms across instances', () => {
    it('room:members asked on A lists the members connected on B, once per user, as they join and leave', async () => {
      const ana = await register(a);
      const ben = await register(b);
      const carla = await register(b);
      const group = await ana
        .rest(a)
        .messages.createConversation({ body: { kind: 'group', memberIds: [ben.id, carla.id], title: 'Práctica de los martes' } });
      await talk(group.id, a, ana, ben, carla);
      const room = `conversation:${group.id}`;
      const anaPhone = ana.device(a);
      const benPhone = ben.device(b);
      const carlaPhone = carla.device(b);
      await Promise.all([anaPhone, benPhone, carlaPhone].map(connected));
      await anaPhone.join(room);
      await benPhone.join(room);
      const membersOn = async (device: Device) => (await device.emit('room:members', { room })).userIds;

      // Carla is connected (on B) but not in the room.
      expect(await anaPhone.emit('room:members', { room })).toEqual({ room, userIds: [ana.id, ben.id].sort() });
      await carlaPhone.join(room);
      expect(await membersOn(anaPhone)).toEqual([ana.id, ben.id, carla.id].sort());
      expect(await membersOn(benPhone)).toEqual([ana.id, ben.id, carla.id].sort());

      // Ben in the room from both instances: listed once.
      const benLaptop = ben.device(a);
      await connected(benLaptop);
      await benLaptop.join(room);
      expect(await membersOn(anaPhone)).toEqual([ana.id, ben.id, carla.id].sort());

      // His device on B leaves the room; the one on A keeps him in it.
      await benPhone.leave(room);
      expect(await membersOn(anaPhone)).toEqual([ana.id, ben.id, carla.id].sort());
      benLaptop.close();
      const gone = await within(PROPAGATION_MS, async () => !(await membersOn(anaPhone)).includes(ben.id));
      expect(gone.ok).toBe(true);
      // Carla's device on B disconnects: no longer a member of the room, as seen from A.
      carlaPhone.close();
      const carlaGone = await within(PROPAGATION_MS, async () => !(await membersOn(anaPhone)).includes(carla.id));
      expect(carlaGone.ok).toBe(true);
      expect(await membersOn(anaPhone)).toEqual([ana.id]);
    });
  });

  describe('session revocation across instances', () => {
    it("logout through A's REST API disconnects that session's socket on B; the user's other session stays connected", async () => {
      const ben = await register(a);
      const other = await signIn(ben, b);
      const phone = ben.device(b);
      const laptop = other.device(b);
      await Promise.all([phone, laptop].map(connected));
      expect(await localSocketIds(b)).toEqual(expect.arrayContaining([phone.socket.id, laptop.socket.id]));

      const closed = disconnection(phone);
      const started = performance.now();
      await ben.rest(a).auth.logout();
      const { reason, at } = await closed;
      expect(reason).toBe('io server disconnect');
      expect(at - started).toBeLessThan(REVOCATION_MS);
      expect(phone.connected).toBe(false);

      // The other session's socket on B is untouched and still answered.
      expect(laptop.connected).toBe(true);
      expect(await laptop.emit('presence:query', { userIds: [ben.id] })).toEqual({
        users: [{ userId: ben.id, status: 'online', lastSeenAt: null }],
      });

      // Once B knows of the revocation, a new handshake with that session's token is refused there.
      const refusedOnB = await within(REVOCATION_MS, async () => {
        const res = await fetch(`${b.url}/api/v1/users/me`, { headers: { Authorization: `Bearer ${ben.accessToken}` } });
        return res.status === 401;
      });
      expect(refusedOnB.ok).toBe(true);
      const again = ben.device(b);
      const error = await new Promise<Error & { data?: { code?: string } }>((resolve) => again.socket.once('connect_error', resolve));
      expect(error.data?.code).toBe('UNAUTHENTICATED');
      expect(again.connected).toBe(false);
    });
  });

  describe('sanctions across instances', () => {
    it('the live figures count both instances; a suspension decided on A cuts the user off on A and B within a second', async () => {
      const ben = await register(a);
      const laptop = await signIn(ben, b);
      const [onA, onB] = [ben.device(a), laptop.device(b)];
      await Promise.all([onA, onB].map(connected));
      const [reporter, moderator] = [await register(b), await register(a)];
      await database!.db.execute(sql`UPDATE users SET roles = ARRAY['user', 'moderator', 'admin'] WHERE id = ${moderator.id}`);
      // The admins' live figures count the sockets of both instances.
      const statistics = await moderator.rest(a).admin.getStatistics();
      const local = (await localSocketIds(a)).length + (await localSocketIds(b)).length;
      expect(statistics.live.sockets).toBe(local);
      expect(statistics.live.usersOnline).toBeGreaterThanOrEqual(1);
      await reporter.rest(b).moderation.createReport({ body: { targetType: 'user', targetId: ben.id, reason: 'harassment' } });

      const closed = [disconnection(onA), disconnection(onB)];
      const started = performance.now();
      await moderator.rest(a).moderation.resolveReportedTarget({
        params: { targetType: 'user', targetId: ben.id },
        body: { action: 'suspend', reason: 'Harassment', suspensionDays: 3 },
      });
      for (const { reason, at } of await Promise.all(closed)) {
        expect(reason).toBe('io server disconnect');
        expect(at - started).toBeLessThan(REVOCATION_MS);
      }
      for (const [session, on] of [
        [ben, b],
        [laptop, a],
      ] as const) {
        const refused = await within(REVOCATION_MS, async () => {
          const res = await fetch(`${on.url}/api/v1/users/me`, { headers: { Authorization: `Bearer ${session.accessToken}` } });
          return res.status === 401;
        });
        expect(refused.ok).toBe(true);
      }
      const login = await fetch(`${b.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '10.78.1.1' },
        body: JSON.stringify({ username: ben.username, password }),
      });
      expect(login.status).toBe(403);
      expect(await login.json()).toMatchObject({ code: 'ACCOUNT_SUSPENDED', until: expect.any(String) });
    });
  });

  describe('shutdown', () => {
    it('leaves nothing of this run in Redis once devices have left and both instances are stopped: no presence sockets, no subscriptions', async () => {
      // Everything the instances publish (presence fan-out included) passes through this run's channels.
      const sniffer = inspector.duplicate();
      let lastPublished = performance.now();
      sniffer.on('pmessage', () => (lastPublished = performance.now()));
      await sniffer.psubscribe(`${prefix}*`);

      for (const device of devices.splice(0)) device.close();
      const empty = await within(PROPAGATION_MS, async () => (await run.keys('presence:*')).length === 0);
      expect(empty.ok, `presence sets still held: ${(await run.keys('presence:*')).join(', ')}`).toBe(true);
      // A quiet stop: the offline updates of those last devices are published before the instances go.
      const quiet = await within(PROPAGATION_MS, async () => performance.now() - lastPublished > 250);
      expect(quiet.ok).toBe(true);
      await sniffer.quit();

      for (const server of servers.splice(0)) await server.stop();
      for (const connection of connections.splice(0)) await connection.close();

      // Pub/sub holds no keys, but a subscription left open is a Redis connection (and a handle) left open.
      const channels = await within(1000, async () => ((await inspector.pubsub('CHANNELS', `${prefix}*`)) as string[]).length === 0);
      const left = (await inspector.pubsub('CHANNELS', `${prefix}*`)) as string[];
      expect(channels.ok, `channels still subscribed after shutdown: ${left.join(', ')}`).toBe(true);
      expect(await subscribers(`${prefix}socket.io-request#/#`)).toBe(0);
      expect(await subscribers(`${prefix}revoked-sessions`)).toBe(0);
    });
  });
});
