import { createServer } from 'node:http';
import { api } from '../../contracts';
import { announce } from '../payload';
import { BENCH_PASSWORD, liftedMundo } from './lifted-mundo';

/**
 * The whole Mundo Tango app with its real time attached, on an in-memory PGlite (as
 * bench/servers/mundo.ts), for the load-and-soak benchmark (bench/soak.ts). Seeded with two
 * accounts, `bench-soak` (it signs in and writes events) and
 * `bench-soak-peer`, and a group conversation of the two. Rate limits are lifted, as in
 * realtime-mundo.ts: the load sends far more than one person may.
 *
 * A side channel under /__bench/ (not the app's): `setup` (what the load needs), `token` (a fresh
 * access token of `bench-soak`, as access tokens expire after 15 minutes) and `memory`
 * (process.memoryUsage() after a full collection, when run with --expose-gc).
 */
const SOAK_USERNAME = 'bench-soak';
const SOCKETS = Number(process.argv[2] ?? 4);

export interface SoakSetup {
  /** The account the load signs in as and writes events with. */
  login: { username: string; password: string };
  realtimePath: string;
  conversationId: string;
  /** One access token per socket, each of a session of its own (alternately of the two members). */
  socketTokens: string[];
}

const { mundo, tokens, account, device } = await liftedMundo();

const writer = await account(SOAK_USERNAME);
const peer = await account('bench-soak-peer');
const { conversation } = await mundo.services.messaging.createConversation({
  creatorId: writer.id,
  kind: 'group',
  memberIds: [peer.id],
  title: 'Soak',
});
const socketTokens: string[] = [];
for (let i = 0; i < SOCKETS; i++) socketTokens.push((await device(i % 2 === 0 ? writer : peer)).token);
const writerSession = (await device(writer)).sessionId;

const reply = (res: import('node:http').ServerResponse, body: unknown) => {
  const json = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
};

const server = createServer((req, res) => {
  const path = req.url ?? '/';
  if (!path.startsWith('/__bench/')) return mundo.app(req, res);
  switch (path) {
    case '/__bench/setup':
      return reply(res, {
        login: { username: SOAK_USERNAME, password: BENCH_PASSWORD },
        realtimePath: api.realtime.path,
        conversationId: conversation.id,
        socketTokens,
      } satisfies SoakSetup);
    case '/__bench/token':
      return void tokens.accessToken(writer, writerSession).then((token) => reply(res, { token }));
    case '/__bench/memory':
      // After a full collection when the process runs with --expose-gc (bench/soak.ts starts it so).
      globalThis.gc?.();
      return reply(res, process.memoryUsage());
    default:
      res.writeHead(404).end();
  }
});
// Every bench socket comes from 127.0.0.1: lift the per-address cap as the rate limits are lifted.
mundo.attachRealtime(server, { maxSocketsPerAddress: Number.MAX_SAFE_INTEGER });
server.listen(0, '127.0.0.1', () => announce((server.address() as { port: number }).port));
