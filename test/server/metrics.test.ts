import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database';
import { openServerDatabase } from '../support/database';
import { connected, startRealtimeServer, storedUser } from '../support/realtime';

/** What /metrics tells an operator beyond request latency: sockets and their events, refusals, sign-in failures, the pool. */
const TOKEN = randomBytes(24).toString('hex');
let database: Database;
let server: Awaited<ReturnType<typeof startRealtimeServer>>;

beforeAll(async () => {
  database = await openServerDatabase();
  server = await startRealtimeServer(database, { env: { METRICS_TOKEN: TOKEN } });
});
afterAll(async () => {
  await server?.stop();
  await database?.close();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  return response.text();
}
/** The value of one series, by its name and labels as written (`name{a="b"}`), or undefined. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('counts refused sign-ins by problem code, and rate-limit refusals by policy', async () => {
    const login = (password: string) =>
      fetch(`${server.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.9.9.9' },
        body: JSON.stringify({ username: 'nobody.here', password }),
      });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) statuses.push((await login(`wrong password ${attempt}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const text = await scrape();
    expect(value(text, 'http_problems_total{route="/api/v1/auth/login",code="INVALID_CREDENTIALS"}')).toBe(5);
    expect(value(text, 'http_problems_total{route="/api/v1/auth/login",code="RATE_LIMITED"}')).toBe(1);
    expect(value(text, 'rate_limit_refusals_total{operation="login",limit="login"}')).toBe(1);
  });

  it('shows the sockets connected here, and socket events by outcome', async () => {
    const ana = await storedUser(server);
    const device = ana.device();
    await connected(device);
    await device.emit('room:join', { room: `user:${ana.id}` });
    await expect(device.emit('room:join', { room: 'user:someone-else' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const text = await scrape();
    expect(value(text, 'realtime_sockets')).toBe(1);
    expect(value(text, 'realtime_events_total{event="room:join",outcome="ok"}')).toBe(1);
    expect(value(text, 'realtime_events_total{event="room:join",outcome="FORBIDDEN"}')).toBe(1);
    device.close();
  });

  it.runIf(() => database.kind === 'postgres')('shows the PostgreSQL pool: connections open and idle, requests waiting', async () => {
    const text = await scrape();
    expect(value(text, 'db_pool_connections{state="open"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'db_pool_connections{state="waiting"}')).toBe(0);
  });
});
