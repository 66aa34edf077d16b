import { createServer } from 'node:http';
import { api } from '../../contracts';
import type { UserRecord } from '../../server/services/users';
import { announce } from '../payload';
import { liftedMundo } from './lifted-mundo';
import { benchControl, benchMessage } from './realtime-common';

/**
 * The whole Mundo Tango app with its real time attached (createMundoApp(...).attachRealtime), on an
 * in-memory PGlite, seeded with one group conversation of the largest size the contracts allow:
 * a sender plus `members` (default 100) other users. Each of those has `devices` (default 10)
 * devices, every device a session of its own with its own signed access token, so the sockets
 * carry what production sockets carry: the handshake verifies each JWT, and each socket joins its
 * `user:{id}` and `session:{id}` rooms and counts in presence.
 *
 * Fan-out goes through the runtime's own path, two ways (both end in `message:new` to the
 * `user:{id}` rooms of all 101 members, i.e. to every one of their sockets):
 *  - `message:send` from the sender's socket: validated, stored in PGlite, acked, then
 *    `toUsers(memberIds, 'message:new', message)` by the messaging service (the product path);
 *  - GET /__bench/broadcast: `realtime.toUsers(memberIds, 'message:new', message)` directly, to
 *    separate the socket runtime's cost from the database's.
 */
const members = Number(process.argv[2] ?? 100);
const devices = Number(process.argv[3] ?? 10);

const { mundo, account, device: openDevice } = await liftedMundo();
/** A device's access token, of a session of its own. */
const device = async (user: UserRecord) => (await openDevice(user)).token;

const sender = await account('bench-sender');
const recipients: UserRecord[] = [];
for (let i = 0; i < members; i++) recipients.push(await account(`bench-dancer-${i}`));
const { conversation } = await mundo.services.messaging.createConversation({
  creatorId: sender.id,
  kind: 'group',
  memberIds: recipients.map((user) => user.id),
  title: 'Práctica de los martes',
});
const memberIds = conversation.memberIds;
const senderToken = await device(sender);
const deviceTokens: string[] = [];
for (let d = 0; d < devices; d++) for (const user of recipients) deviceTokens.push(await device(user));

const server = createServer(
  benchControl({
    setup: () => ({ path: api.realtime.path, tokens: deviceTokens, sender: { token: senderToken, conversationId: conversation.id } }),
    broadcast(round, n) {
      for (let i = 0; i < n; i++) realtime.toUsers(memberIds, 'message:new', benchMessage(round, i, conversation.id, sender.id));
    },
    next: mundo.app,
  }),
);
// Every bench socket comes from 127.0.0.1: lift the per-address cap (100) as the rate limits are lifted.
const realtime = mundo.attachRealtime(server, { maxSocketsPerAddress: Number.MAX_SAFE_INTEGER });
server.listen(0, '127.0.0.1', () => announce((server.address() as { port: number }).port));
