import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { clientEvent, defineErrors } from '../../../runtime/contract';
import { attachRealtime, memoryPresence, type Realtime } from '../../../runtime/realtime';
import { ApiError, createLogger, createTokenSigner, createTokenVerifier } from '../../../runtime/server';

/**
 * Socket acks answer the way HTTP problems do: a registered code with its message, anything
 * else — a crash, or a code the API never declared — as INTERNAL, saying nothing more.
 */
const SECRET = new TextEncoder().encode('realtime-ack-test-secret-of-32-bytes-min');
const settings = { secret: SECRET, issuer: 'https://issuer.test', audience: 'acks' };
const errors = defineErrors({ SONG_UNKNOWN: { status: 404, title: 'No such song' } });

const play = clientEvent({
  name: 'song:play',
  summary: 'Play a song',
  payload: z.object({ fail: z.enum(['none', 'declared', 'undeclared', 'crash']) }),
  ack: z.object({ playing: z.boolean() }),
});

let realtime: Realtime;
let url: string;
const server = createServer();

beforeAll(async () => {
  realtime = attachRealtime(server, {
    path: '/rt',
    verifier: createTokenVerifier(settings),
    clientEvents: [play],
    serverEvents: [],
    handlers: {
      'song:play': ({ fail }: { fail: string }) => {
        if (fail === 'declared') throw new ApiError('SONG_UNKNOWN', 'No song with this id');
        if (fail === 'undeclared') throw new ApiError('SOMETHING_ELSE', 'internal detail at /srv/app.ts');
        if (fail === 'crash') throw new Error('secret crash detail');
        return { playing: true, extra: 'dropped' };
      },
    },
    authorizeRoom: () => false,
    presence: memoryPresence(),
    log: createLogger({ level: 'silent' }),
    corsOrigins: [],
    errors,
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await realtime.close();
  server.close();
});

describe('socket acks', () => {
  it('answer a declared code with its message, and anything else as INTERNAL', async () => {
    const token = await createTokenSigner({ ...settings, ttlSeconds: 900 }).sign({ sub: 'u1', roles: ['user'], sid: 's1' });
    const socket = connect(url, { path: '/rt', auth: { token }, transports: ['websocket'] });
    try {
      const send = (fail: string) => socket.timeout(5000).emitWithAck('song:play', { fail });
      expect(await send('none')).toEqual({ ok: true, data: { playing: true } });
      expect(await send('declared')).toEqual({ ok: false, error: { code: 'SONG_UNKNOWN', message: 'No song with this id' } });
      const internal = { ok: false, error: { code: 'INTERNAL', message: 'An unexpected error occurred' } };
      expect(await send('undeclared')).toEqual(internal);
      expect(await send('crash')).toEqual(internal);
    } finally {
      socket.disconnect();
    }
  });
});
