import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database';
import { openTestDatabase } from '../support/database';
import { connected, startRealtimeServer, storedUser } from '../support/realtime';

/** What an operator reads about sockets with LOG_LEVEL=debug: connects, disconnects and refusals, with the user. */
let database: Database;
let server: Awaited<ReturnType<typeof startRealtimeServer>>;

beforeAll(async () => {
  database = await openTestDatabase();
  server = await startRealtimeServer(database, { env: { LOG_LEVEL: 'debug' } });
});
afterAll(async () => {
  await server?.stop();
  await database?.close();
});

const until = async (check: () => boolean) => {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('until: timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};
const logged = (msg: string) => server.logLines.filter((line) => line.msg === msg);

describe('socket logs at debug', () => {
  it('a connect, a refused event and a disconnect, each with the user id; a refused handshake with its code', async () => {
    const ana = await storedUser(server);
    const device = ana.device();
    await connected(device);
    await until(() => logged('socket connected').some((line) => line.userId === ana.id));
    expect(logged('socket connected').find((line) => line.userId === ana.id)).toMatchObject({
      level: 'debug',
      socketId: expect.any(String),
    });

    await expect(device.emit('room:join', { room: 'user:someone-else' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(logged('socket event refused')).toContainEqual(
      expect.objectContaining({ event: 'room:join', userId: ana.id, code: 'FORBIDDEN' }),
    );

    device.close();
    await until(() => logged('socket disconnected').some((line) => line.userId === ana.id));

    const stranger = io(server.url, {
      path: '/api/v1/realtime',
      auth: { token: 'not-a-token' },
      reconnection: false,
      transports: ['websocket'],
    });
    await new Promise((resolve) => stranger.once('connect_error', resolve));
    stranger.close();
    expect(logged('socket refused')).toContainEqual(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    // Never the token itself.
    expect(JSON.stringify(server.logLines)).not.toContain('not-a-token');
  });
});
