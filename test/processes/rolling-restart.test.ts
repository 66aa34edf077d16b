import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { createClient } from '../../generated/client';
import type { ClientEvents, RealtimeClient, ServerEvents } from '../../generated/client/realtime';
import { connected, signUp } from '../support/realtime';
import { describeWith } from '../support/services';
import { deployment } from './deployment';
import type { ServerProcess } from './server-process';

/**
 * A rolling restart of two instances (real processes sharing PostgreSQL and Redis, behind a load
 * balancer) under steady load: each in turn gets SIGTERM, drains and exits 0, and a new one takes
 * its place. Clients are the generated client as an app would use it (its default retries: a GET
 * or a write with an Idempotency-Key is retried on a network error or a 503) — and not one request
 * fails, no write happens twice, and a socket on a stopping instance comes back on the other.
 */
const LOOPS = 4;
/** A write per loop a second at most, and at most WRITES each: createEvent allows 60 an hour per user. */
const WRITE_EVERY_MS = 1000;
const WRITES = 50;

type Device = RealtimeClient<ClientEvents, ServerEvents>;

describeWith(['postgres', 'redis'], 'a rolling restart of two instances under load', () => {
  const deployed = deployment('rolling');

  it('fails no request, writes nothing twice, and moves sockets to the other instance', { timeout: 180_000 }, async () => {
    const { a, b, portA, portB, lb } = await deployed.start();
    try {
      const ports = new Map<ServerProcess, number>([
        [a, portA],
        [b, portB],
      ]);

      // What each attempt met on the wire, under the client's retries.
      const attempts = { ok: 0, networkErrors: 0, unavailable: 0 };
      const counting: typeof fetch = async (input, init) => {
        try {
          const res = await fetch(input, init);
          if (res.status === 503) attempts.unavailable++;
          else attempts.ok++;
          return res;
        } catch (error) {
          attempts.networkErrors++;
          throw error;
        }
      };
      const city = `Rolling ${randomUUID().slice(0, 8)}`;
      const dancers = await Promise.all(Array.from({ length: LOOPS }, () => signUp(lb.url)));
      const clients = dancers.map((dancer) =>
        createClient({ baseUrl: lb.url, tokens: { getAccessToken: () => dancer.session.accessToken }, fetch: counting }),
      );

      // A socket on each instance; messages between them go on through the restart.
      const [ana, ben] = dancers as [(typeof dancers)[0], (typeof dancers)[0]];
      const conversation = await ana.api.messages.createConversation({ body: { kind: 'direct', memberIds: [ben.id] } });
      let reconnects = 0;
      const phones: Device[] = [];
      for (const [dancer, port] of [
        [ana, ports.get(a)!],
        [ben, ports.get(b)!],
      ] as const) {
        lb.prefer(port);
        const phone = deployed.track(dancer.device({ reconnectionDelayMs: 200, reconnectionDelayMaxMs: 1000 }));
        phone.socket.io.on('reconnect', () => reconnects++);
        phones.push(phone);
        await connected(phone);
      }
      lb.prefer(undefined);
      const received = new Set<string>();
      phones[1]!.on('message:new', (message) => received.add(message.body));

      // Steady load: each loop reads the events of the city and, every WRITE_EVERY_MS, creates one
      // with an Idempotency-Key; Ana sends Ben a message every 100 ms.
      let loading = true;
      const failures: unknown[] = [];
      const written: string[] = [];
      let reads = 0;
      const loops = clients.map(async (client, n) => {
        let lastWrite = 0;
        let writes = 0;
        while (loading) {
          try {
            if (writes < WRITES && Date.now() - lastWrite >= WRITE_EVERY_MS) {
              lastWrite = Date.now();
              writes++;
              const title = `Práctica ${n}-${written.length}`;
              const startsAt = new Date(Date.UTC(2031, 0, 1 + written.length));
              await client.events.createEvent({
                body: {
                  title,
                  kind: 'practica',
                  city,
                  startsAt: startsAt.toISOString(),
                  endsAt: new Date(+startsAt + 3_600_000).toISOString(),
                },
                idempotencyKey: randomUUID(),
              });
              written.push(title);
            } else {
              await client.events.listEvents({ query: { city, limit: 5 } });
              reads++;
            }
          } catch (error) {
            failures.push(error);
          }
        }
      });
      let sent = 0;
      const messages = (async () => {
        while (loading) {
          const body = `mensaje ${++sent}`;
          await phones[0]!
            .emit('message:send', { conversationId: conversation.id, clientKey: body, body })
            .catch((error: unknown) => failures.push(error));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();

      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      await pause(1000);
      const began = performance.now();
      // One instance at a time: SIGTERM, its drain, then its successor in the pool.
      for (const old of [a, b]) {
        old.child.kill('SIGTERM');
        expect(await old.exited).toBe(0);
        lb.remove(ports.get(old)!);
        const next = deployed.instance();
        await next.listening();
        const port = await next.port();
        ports.set(next, port);
        lb.add(port);
        await lb.until(port, true);
        await pause(500);
      }
      const restartMs = performance.now() - began;
      loading = false;
      await Promise.all([...loops, messages]);

      expect(failures).toEqual([]);
      // Each write happened once: the events of the city are exactly the ones written.
      const stored: string[] = [];
      for await (const event of clients[0]!.events.listEvents.items({ query: { city } })) stored.push(event.title);
      expect(stored.sort()).toEqual([...written].sort());
      expect(written.length).toBeGreaterThan(4);
      expect(reads).toBeGreaterThan(20);
      // Both sockets were told to go and came back; every message reached Ben.
      expect(reconnects).toBeGreaterThanOrEqual(2);
      await expect.poll(() => received.size, { timeout: 10_000 }).toBe(sent);
      expect(phones.every((phone) => phone.connected)).toBe(true);
      console.info(
        `rolling restart in ${Math.round(restartMs)} ms: ${reads} reads, ${written.length} writes, ${sent} messages, 0 failed; ` +
          `attempts on the wire: ${attempts.ok} answered, ${attempts.unavailable} 503, ${attempts.networkErrors} network errors (retried by the client)`,
      );
      for (const [process] of ports) if (process !== a && process !== b) process.child.kill('SIGTERM');
    } finally {
      await lb.close();
    }
  });
});
