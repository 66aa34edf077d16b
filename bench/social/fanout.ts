import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import { api } from '../../contracts';
import { createLogger, createTokenSigner, serve, type Running } from '../../runtime/server';
import { ACCESS_TOKEN_TTL_SECONDS } from '../../server/auth/session-tokens';
import { createMundoApp } from '../../server/app';
import { ConfigSchema } from '../../server/config';
import type { Database } from '../../server/db/database';
import { follows } from '../../server/db/schema';
import { connectRedis, type RedisConnections } from '../../server/redis';
import { withNotifications } from '../../server/services/notifications';
import type { LoadProcess } from './load';
import type { Seeded } from './seed';

/**
 * Notification fan-out to the star's followers, each connected with one socket.
 *
 * A round tells 1,000 people that the star changed an event (`event_changed`, a new event id per
 * round, so every round stores new items instead of collapsing into the last), as updateEvent tells
 * an event's attendees, through the real NotificationService, whose push is `notification:new` to
 * each recipient's `user:{id}` room. The recipients are the star's followers (one indexed query).
 * Three ways:
 *  - `notify` per follower, one after another: each its own transaction, pushed once it commits;
 *  - one transaction with one `tell` per follower (`withNotifications`), all pushed once it commits;
 *  - one transaction with one batched `tell` of them all (`notifyMany`: the rules and writes in a
 *    few queries), as updateEvent, deleteEvent and deleteGroup tell attendees.
 * Time runs from before the follower query to the last socket's receipt, read by the sockets'
 * process; the sockets connect through the app's real-time server, as a device does.
 */
export interface FanOutRound {
  /** Followers told. */
  told: number;
  /** Until every notification was stored (and handed to the sockets), ms. */
  storedMs: number;
  /** Until the first socket, then the last, received its notification, ms. */
  firstMs: number;
  lastMs: number;
  /** Sockets that received theirs, and events received over all sockets (more than the sockets: a duplicate). */
  reached: number;
  received: number;
  /** CPU time of this process (app, and PGlite when it is the database) per notification, µs. */
  cpuMicrosPerNotification: number;
}

export interface FanOutFigure {
  way: string;
  sockets: number;
  /** Median of each figure over the counted rounds, each taken separately (reached: the fewest; received: the most). */
  median: FanOutRound;
  rounds: FanOutRound[];
}

export interface FanOutSetup {
  database: Database;
  seeded: Seeded;
  load: LoadProcess;
  /** One instance, or two sharing the database and Redis (the sockets split evenly between them). */
  instances: 1 | 2;
  redisUrl?: string;
  rounds: number;
  timeoutMs: number;
  /** Progress lines. */
  say: (line: string) => void;
  /** The app's log. */
  log: Logger;
}

interface Instance {
  mundo: Awaited<ReturnType<typeof createMundoApp>>;
  running: Running;
  redis?: RedisConnections;
}

const now = () => performance.timeOrigin + performance.now();

/** The middle value; with an even count, the mean of the two middle ones. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const half = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
}

/**
 * The app's log, kept out of the output: warnings and errors are counted and the first few kept,
 * for the runner to report once (a thousand sockets failing alike would be a thousand lines).
 */
export function quietLog() {
  const problems = { count: 0, first: [] as string[] };
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        problems.count++;
        if (problems.first.length < 3) {
          try {
            const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
            problems.first.push(`${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}`);
          } catch {
            problems.first.push(line.slice(0, 200));
          }
        }
      }
      done();
    },
  });
  return { log: createLogger({ level: 'warn', destination }), problems };
}

async function startInstance(
  database: Database,
  config: ReturnType<typeof ConfigSchema.parse>,
  log: Logger,
  redis?: RedisConnections,
): Promise<Instance> {
  const mundo = await createMundoApp({ config, database, secret: Buffer.from(config.JWT_SECRET!), log, redis });
  const running = await serve(mundo.app, {
    port: 0,
    host: '127.0.0.1',
    log,
    // Every bench socket comes from 127.0.0.1: the per-address caps (256 connections, 100 sockets) are lifted.
    maxConnectionsPerAddress: 0,
    beforeClose: () => mundo.close(),
  });
  mundo.attachRealtime(running.server, { maxSocketsPerAddress: Number.MAX_SAFE_INTEGER });
  return { mundo, running, redis };
}

/** Deletes every Redis key under the instance's prefix (presence, rate limits): the run leaves nothing behind. */
async function sweepRedis(redis: RedisConnections): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.client.scan(cursor, 'MATCH', `${redis.keyPrefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

export async function measureFanOut(setup: FanOutSetup): Promise<FanOutFigure[]> {
  const { database, seeded, load, say } = setup;
  const db = database.db;
  const config = ConfigSchema.parse({ NODE_ENV: 'production', JWT_SECRET: randomBytes(32).toString('hex'), TRUST_PROXY: 'loopback' });
  const prefix = `bench-social:${process.pid}:${randomUUID().slice(0, 8)}:`;
  const instances: Instance[] = [];
  try {
    for (let i = 0; i < setup.instances; i++) {
      const redis = setup.redisUrl ? await connectRedis(setup.redisUrl, prefix) : undefined;
      instances.push(await startInstance(database, config, setup.log, redis));
    }
    if (setup.instances > 1) {
      // Both adapters subscribed before anything is broadcast (as test/server/notifications-two-instances.test.ts waits).
      const redis = instances[0]!.redis!;
      for (let tries = 0; ; tries++) {
        const [, count] = (await redis.client.pubsub('NUMSUB', `${prefix}socket.io-request#/#`)) as [string, number];
        if (Number(count) >= setup.instances) break;
        if (tries > 200) throw new Error('the Socket.IO Redis adapters did not subscribe within 2 s');
        await sleep(10);
      }
    }
    const { services } = instances[0]!.mundo;

    // One device per follower, each with a session of its own (a signed access token; nobody signs in).
    const signer = createTokenSigner({
      secret: Buffer.from(config.JWT_SECRET!),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: ACCESS_TOKEN_TTL_SECONDS,
    });
    const followerIds = (await db.select({ id: follows.followerId }).from(follows).where(eq(follows.followeeId, seeded.starId))).map(
      (row) => row.id,
    );
    const tokens = await Promise.all(followerIds.map((sub) => signer.sign({ sub, roles: ['user'], sid: randomUUID() })));
    const connected = await load.ask(
      { type: 'connect', urls: instances.map((instance) => instance.running.url), path: api.realtime.path, tokens },
      'connected',
      120_000,
    );
    say(
      `    ${connected.sockets}/${tokens.length} sockets connected in ${connected.ms.toFixed(0)} ms` +
        `${connected.errors.length > 0 ? ` (refused: ${connected.errors.join('; ')})` : ''}`,
    );
    // Presence updates go out as users come online: let them drain before measuring.
    await sleep(500);

    const ways: { way: string; tell: (ids: string[], eventId: string) => Promise<void> }[] = [
      {
        way: `notify ×${followerIds.length}, one at a time`,
        async tell(ids, eventId) {
          for (const userId of ids) {
            await services.notifications.notify({
              userId,
              actorId: seeded.starId,
              kind: 'event_changed',
              target: { type: 'event', id: eventId },
            });
          }
        },
      },
      {
        way: `one transaction, ${followerIds.length} tells`,
        async tell(ids, eventId) {
          await withNotifications(db, services.notifications, async (_tx, tell) => {
            for (const userId of ids) {
              await tell({ userId, actorId: seeded.starId, kind: 'event_changed', target: { type: 'event', id: eventId } });
            }
          });
        },
      },
      {
        way: `one transaction, notifyMany of ${followerIds.length}`,
        async tell(ids, eventId) {
          await withNotifications(db, services.notifications, async (_tx, tell) => {
            await tell(
              ids.map((userId) => ({ userId, actorId: seeded.starId, kind: 'event_changed', target: { type: 'event', id: eventId } })),
            );
          });
        },
      },
    ];

    const figures: FanOutFigure[] = [];
    for (const { way, tell } of ways) {
      const rounds: FanOutRound[] = [];
      // Round 0 is a warm-up, not counted: the first tenth of the followers only.
      for (let r = 0; r <= setup.rounds; r++) {
        const warmup = r === 0;
        const sockets = warmup ? Math.ceil(followerIds.length / 10) : followerIds.length;
        await load.ask({ type: 'expect', timeoutMs: setup.timeoutMs, sockets }, 'armed');
        const done = load.ask(undefined, 'done', setup.timeoutMs + 10_000);
        done.catch(() => {}); // awaited below, unless the round fails first
        const cpu = process.cpuUsage();
        const started = now();
        const ids = (await db.select({ id: follows.followerId }).from(follows).where(eq(follows.followeeId, seeded.starId))).map(
          (row) => row.id,
        );
        // The sockets were connected in the order of followerIds: the warm-up tells the first ones.
        await tell(warmup ? followerIds.slice(0, sockets) : ids, randomUUID());
        const storedAt = now();
        const reply = await done;
        const { user, system } = process.cpuUsage(cpu);
        const told = warmup ? sockets : ids.length;
        const round: FanOutRound = {
          told,
          storedMs: storedAt - started,
          firstMs: reply.received > 0 ? reply.firstAt - started : Number.NaN,
          lastMs: reply.reached > 0 ? reply.lastAt - started : Number.NaN,
          reached: reply.reached,
          received: reply.received,
          cpuMicrosPerNotification: (user + system) / told,
        };
        const lost = load.takeLost();
        if (lost) say(`    a socket was lost: ${lost}`);
        if (!warmup) rounds.push(round);
        say(
          `    ${way}, ${warmup ? `warm-up (${told} followers)` : `round ${r}`}: stored ${round.storedMs.toFixed(0)} ms, first receipt ${round.firstMs.toFixed(0)} ms, ` +
            `last ${round.lastMs.toFixed(0)} ms; ${round.reached}/${told} sockets reached${round.received > round.reached ? `, ${round.received - round.reached} duplicates` : ''}`,
        );
      }
      const mid = (pick: (round: FanOutRound) => number) => median(rounds.map(pick));
      figures.push({
        way,
        sockets: connected.sockets,
        rounds,
        median: {
          told: mid((x) => x.told),
          storedMs: mid((x) => x.storedMs),
          firstMs: mid((x) => x.firstMs),
          lastMs: mid((x) => x.lastMs),
          reached: Math.min(...rounds.map((x) => x.reached)),
          received: Math.max(...rounds.map((x) => x.received)),
          cpuMicrosPerNotification: mid((x) => x.cpuMicrosPerNotification),
        },
      });
    }
    return figures;
  } finally {
    await load.ask({ type: 'close' }, 'closed').catch(() => {});
    // The server's side of those disconnects (presence, in Redis with two instances) settles before the stores close.
    await sleep(300);
    for (const instance of instances) await instance.running.shutdown();
    for (const instance of instances) {
      if (!instance.redis) continue;
      await sweepRedis(instance.redis).catch(() => {});
      await instance.redis.close();
    }
  }
}
