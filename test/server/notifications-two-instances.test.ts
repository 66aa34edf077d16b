import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ClientEvents, RealtimeClient, ServerEvents } from '../../generated/client/realtime';
import type { Database } from '../../server/db/database';
import { connectRedis, type RedisConnections } from '../../server/redis';
import { backends } from '../support/database';
import { connected, next, signUp, startRealtimeServer } from '../support/realtime';
import { describeWith } from '../support/services';
import { redisRun, redisUrl, within } from './scale/http-client';

/**
 * notification:new behind a load balancer: two instances sharing PostgreSQL and Redis. Whichever
 * instance a notification is made on, every device of its recipient receives it, wherever that
 * device is connected, and no one else's device does.
 */
const run = redisRun('notify');
const PROPAGATION_MS = 3000;

type Server = Awaited<ReturnType<typeof startRealtimeServer>>;
type Device = RealtimeClient<ClientEvents, ServerEvents>;

let database: Database | undefined;
const connections: RedisConnections[] = [];
const servers: Server[] = [];
const devices: Device[] = [];

async function instance(): Promise<Server> {
  const redis = await connectRedis(redisUrl, run.prefix);
  connections.push(redis);
  const server = await startRealtimeServer(database!, { redis });
  servers.push(server);
  return server;
}

describeWith(['postgres', 'redis'], 'notification:new on two instances sharing PostgreSQL and Redis', () => {
  let a: Server;
  let b: Server;

  beforeAll(async () => {
    database = await backends.find((backend) => backend.name === 'postgres')!.open();
    a = await instance();
    b = await instance();
    const listening = await within(PROPAGATION_MS, async () => {
      const [, count] = (await run.inspector.pubsub('NUMSUB', `${run.prefix}socket.io-request#/#`)) as [string, number];
      return Number(count) === 2;
    });
    expect(listening.ok).toBe(true);
  });

  afterAll(async () => {
    for (const device of devices.splice(0)) device.close();
    for (const server of servers.splice(0)) await server.stop();
    for (const connection of connections.splice(0)) await connection.close();
    await run.sweep();
    await database?.close();
  });

  /** A device of a user connected to one instance (as a load balancer might place it). */
  const deviceOn = (user: Awaited<ReturnType<typeof signUp>>, server: Server) => {
    const opened = user.device({ baseUrl: server.url });
    devices.push(opened);
    return opened;
  };

  it('reaches the recipient’s devices on both instances, made on either, and nobody else’s', async () => {
    const ana = await signUp(a.url);
    const others = await Promise.all(Array.from({ length: 4 }, (_, i) => signUp((i % 2 === 0 ? a : b).url)));
    const ben = others[0]!;
    const onA = deviceOn(ana, a);
    const onB = deviceOn(ana, b);
    const benOnB = deviceOn(ben, b);
    await Promise.all([onA, onB, benOnB].map(connected));
    const toBen: unknown[] = [];
    benOnB.on('notification:new', (payload) => toBen.push(payload));

    // Four follows at once, made alternately on each instance: one item whose every state is pushed.
    const seenOnA: ServerEvents['notification:new'][] = [];
    const seenOnB: ServerEvents['notification:new'][] = [];
    onA.on('notification:new', (payload) => seenOnA.push(payload));
    onB.on('notification:new', (payload) => seenOnB.push(payload));
    await Promise.all(
      others.map((by, i) =>
        (i % 2 === 0 ? a : b).services.notifications.notify({
          userId: ana.id,
          kind: 'new_follower',
          actorId: by.id,
          target: { type: 'user', id: ana.id },
        }),
      ),
    );
    const all = await within(PROPAGATION_MS, async () => seenOnA.length === 4 && seenOnB.length === 4);
    expect(all.ok).toBe(true);
    for (const seen of [seenOnA, seenOnB]) {
      expect(new Set(seen.map((p) => p.notification.id)).size).toBe(1);
      expect(seen.map((p) => p.notification.actorCount).sort((x, y) => x - y)).toEqual([1, 2, 3, 4]);
    }
    // A later event on Ben's device proves none of Ana's reached it before.
    const toBenNext = next(benOnB, 'notification:new');
    await a.services.notifications.notify({
      userId: ben.id,
      kind: 'friend_request',
      actorId: ana.id,
      target: { type: 'user', id: ben.id },
    });
    await toBenNext;
    expect(toBen).toEqual([expect.objectContaining({ notification: expect.objectContaining({ kind: 'friend_request' }) })]);
  });
});
