import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { ClientEvents, RealtimeClient, ServerEvents } from '../../generated/client/realtime';
import { backends, type ScratchStore } from '../support/database';
import { redisRun, redisUrl } from '../server/scale/http-client';
import { loadBalancer } from './load-balancer';
import { startServerProcess, type ServerProcess } from './server-process';

type Device = RealtimeClient<ClientEvents, ServerEvents>;

/**
 * A scaled-out deployment for one test file, as production runs it: server processes (`npm start`'s
 * code) sharing a new PostgreSQL database and a corner of Redis of their own, behind a load
 * balancer. Call inside a suite that needs PostgreSQL and Redis (describeWith); `start()` brings up
 * two instances, one after the other (the first migrates the database). Devices given to `track`
 * are closed, and the database and Redis keys removed, when the file ends.
 */
export function deployment(tag: string) {
  const run = redisRun(tag);
  let store: ScratchStore;
  let dataDir: string;
  const devices: Device[] = [];
  beforeAll(async () => {
    store = await backends.find((backend) => backend.name === 'postgres')!.scratch();
    dataDir = await mkdtemp(join(tmpdir(), `mundo-${tag}-`));
  });
  afterAll(async () => {
    for (const device of devices) device.close();
    await store?.dispose();
    await rm(dataDir, { recursive: true, force: true });
    await run.sweep();
  });

  /** One more instance; it serves once its "listening" line is out. */
  function instance(): ServerProcess {
    return startServerProcess({
      DATABASE_URL: String(store.options.url),
      REDIS_URL: redisUrl,
      REDIS_PREFIX: run.prefix,
      JWT_SECRET: 'a shared test secret of the instances, 32+ characters',
      TRUST_PROXY: 'loopback',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
    });
  }

  return {
    instance,
    track<D extends Device>(device: D): D {
      devices.push(device);
      return device;
    },
    /** Two instances, both healthy behind a new load balancer (close it when done). */
    async start() {
      const a = instance();
      await a.listening();
      const b = instance();
      await b.listening();
      const [portA, portB] = [await a.port(), await b.port()];
      const lb = await loadBalancer();
      lb.add(portA);
      lb.add(portB);
      await Promise.all([lb.until(portA, true), lb.until(portB, true)]);
      return { a, b, portA, portB, lb };
    },
  };
}
