import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { memoryPresence, redisPresence, type PresenceStore } from '../../../runtime/realtime';
import { describeWith, type Service, serviceUrl } from '../../support/services';

/** Presence counts devices; in Redis, the sockets of an instance that died expire. */

// Connected on first use: a run without Redis opens no connection.
const redis = new Redis(serviceUrl('redis'), { maxRetriesPerRequest: 2, lazyConnect: true });
const prefix = `mt-test-presence-${randomUUID().slice(0, 8)}:`;
afterAll(async () => {
  if (redis.status === 'wait') return;
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const stores: [string, () => PresenceStore, Service[]][] = [
  ['memory', () => memoryPresence(), []],
  ['redis', () => redisPresence(redis, `${prefix}${randomUUID().slice(0, 4)}:`, 60_000), ['redis']],
];

for (const [name, make, needs] of stores)
  describeWith(needs, `${name} presence`, () => {
    it('is online from the first device until the last one leaves', async () => {
      const presence = make();
      expect(await presence.connect('ana', 's1')).toBe(true);
      expect(await presence.connect('ana', 's2')).toBe(false);
      expect(await presence.disconnect('ana', 's1')).toBeNull();
      expect((await presence.status(['ana'])).get('ana')).toEqual({ online: true, lastSeenAt: null });
      const leftAt = await presence.disconnect('ana', 's2');
      expect(leftAt).toBeInstanceOf(Date);
      expect((await presence.status(['ana'])).get('ana')).toEqual({ online: false, lastSeenAt: leftAt });
      expect(await presence.disconnect('ana', 's2')).toBeNull();
    });

    it('a leave recorded late (after an outage) moves the last time seen forward only, and counts for a socket never recorded', async () => {
      const presence = make();
      const earlier = new Date(Date.now() - 60_000);
      const later = new Date(Date.now() - 30_000);
      await presence.connect('ben', 'laptop');
      expect(await presence.disconnect('ben', 'laptop', later)).toEqual(later);
      // A phone that came and went while the store was out of reach, recorded now.
      expect(await presence.disconnect('ben', 'phone', earlier)).toBeNull();
      expect((await presence.status(['ben'])).get('ben')).toEqual({ online: false, lastSeenAt: later });
      expect(await presence.disconnect('cleo', 'phone', earlier)).toBeNull();
      expect((await presence.status(['cleo'])).get('cleo')).toEqual({ online: false, lastSeenAt: earlier });
    });
  });

describeWith(['redis'], 'redis presence after an instance dies', () => {
  it('lets the sockets of a dead instance expire, while refreshed ones stay', async () => {
    const presence = redisPresence(redis, `${prefix}ttl:`, 300);
    await presence.connect('ben', 'on-dead-instance');
    await presence.connect('eve', 'on-live-instance');
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await presence.refresh([{ userId: 'eve', socketId: 'on-live-instance' }]);
    }
    const status = await presence.status(['ben', 'eve']);
    expect(status.get('ben')?.online).toBe(false);
    expect(status.get('eve')?.online).toBe(true);
  });
});
