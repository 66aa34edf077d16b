import { expect, it } from 'vitest';
import { connected, signUp } from '../support/realtime';
import { describeWith } from '../support/services';
import { deployment } from './deployment';

/**
 * `kill -9` of one of two instances (real processes sharing PostgreSQL and Redis, behind a load
 * balancer) while a dancer sends messages to a group over her socket: her client reconnects to the
 * other instance within its backoff and resends what was not acknowledged; a member connected to
 * the surviving instance gets every message pushed, one connected to the killed one reconnects and
 * catches up. Compared at the end: what was acknowledged, what is stored and what each member was
 * shown — nothing lost, nothing twice.
 */
const MESSAGES = 60;
const SEND_EVERY_MS = 25;
const KILL_AFTER = 20;
/** The clients' backoff: first retry after 200 ms, at most 1 s apart. */
const BACKOFF = { reconnectionDelayMs: 200, reconnectionDelayMaxMs: 1000 };

describeWith(['postgres', 'redis'], 'an instance killed with sockets connected', () => {
  const deployed = deployment('kill');

  it('its clients reconnect to the other and no acknowledged message is lost or delivered twice', { timeout: 120_000 }, async () => {
    const { a, b, portA, portB, lb } = await deployed.start();
    try {
      const [ana, ben, cleo] = [await signUp(lb.url), await signUp(lb.url), await signUp(lb.url)];
      const conversation = await ana.api.messages.createConversation({
        body: { kind: 'group', title: 'Práctica', memberIds: [ben.id, cleo.id] },
      });
      const conversationId = conversation.id;

      /**
       * A receiver's app: shows each message once, pushed or fetched when it catches up after a
       * reconnection (from the last message it saw, as the client's `resync` is meant for).
       */
      const receiver = async (dancer: typeof ben, port: number) => {
        const pushed = new Map<string, number>();
        const shown = new Set<string>();
        let last: string | undefined;
        lb.prefer(port);
        const phone = deployed.track(
          dancer.device({
            ...BACKOFF,
            resync: async () => {
              const query = last ? { after: last } : {};
              for await (const message of dancer.api.messages.listMessages.items({ params: { conversationId }, query }))
                shown.add(message.id);
            },
          }),
        );
        phone.on('message:new', (message) => {
          pushed.set(message.id, (pushed.get(message.id) ?? 0) + 1);
          shown.add(message.id);
          last = message.id;
        });
        await connected(phone);
        return { phone, pushed, shown };
      };
      // Ben on B, which survives; Cleo and Ana's phone on A, the instance about to die.
      const benApp = await receiver(ben, portB);
      const cleoApp = await receiver(cleo, portA);
      lb.prefer(portA);
      const anaPhone = deployed.track(ana.device(BACKOFF));
      await connected(anaPhone);
      lb.prefer(undefined);
      let cleoBack = false;
      cleoApp.phone.socket.io.on('reconnect', () => (cleoBack = true));
      let reconnectedAt: number | undefined;
      anaPhone.socket.io.on('reconnect', () => (reconnectedAt ??= performance.now()));

      // Sends every 25 ms without waiting for acks; A is killed after the 20th.
      const sends: Promise<{ id: string; body: string }>[] = [];
      let killedAt = 0;
      for (let i = 1; i <= MESSAGES; i++) {
        sends.push(anaPhone.emit('message:send', { conversationId, clientKey: `m-${i}`, body: `mensaje ${i}` }));
        if (i === KILL_AFTER) {
          a.child.kill('SIGKILL');
          killedAt = performance.now();
        }
        await new Promise((resolve) => setTimeout(resolve, SEND_EVERY_MS));
      }
      expect(await a.exited).toBe(null);

      // Every send is acknowledged in the end (the client resends what was not), each with its own message.
      const acked = await Promise.all(sends);
      expect(acked.map((message) => message.body)).toEqual(Array.from({ length: MESSAGES }, (_, i) => `mensaje ${i + 1}`));
      expect(new Set(acked.map((message) => message.id)).size).toBe(MESSAGES);
      expect(reconnectedAt, 'Ana reconnected').toBeDefined();
      const reconnectMs = reconnectedAt! - killedAt;
      // Within the backoff: the first retries come 200–1000 ms apart, each refused one retried on B by the balancer.
      expect(reconnectMs).toBeLessThan(10_000);

      // Stored: exactly the acknowledged messages, once each.
      const stored: { id: string; body: string }[] = [];
      for await (const message of ana.api.messages.listMessages.items({ params: { conversationId } })) stored.push(message);
      expect(stored.map((message) => message.id).sort()).toEqual(acked.map((message) => message.id).sort());

      // Delivered to Ben, who stayed connected, and to Cleo, who reconnected and caught up: every one.
      const ids = acked.map((message) => message.id).sort();
      for (const app of [benApp, cleoApp]) {
        await expect.poll(() => app.shown.size, { timeout: 10_000 }).toBe(MESSAGES);
        expect([...app.shown].sort()).toEqual(ids);
      }
      expect(cleoBack, 'Cleo reconnected').toBe(true);
      const twice = (app: typeof benApp) => [...app.pushed.values()].filter((count) => count > 1).length;
      console.info(
        `kill -9: Ana reconnected ${Math.round(reconnectMs)} ms after the kill; ${MESSAGES} acknowledged, ${stored.length} stored, ` +
          `${benApp.shown.size} shown to Ben (${twice(benApp)} pushed twice), ${cleoApp.shown.size} to Cleo ` +
          `(${cleoApp.pushed.size} pushed, the rest fetched when she caught up)`,
      );

      b.child.kill('SIGTERM');
      expect(await b.exited).toBe(0);
    } finally {
      await lb.close();
    }
  });
});
