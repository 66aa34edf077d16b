import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { announce } from '../payload';
import { benchControl, benchMessage } from './realtime-common';

/**
 * Baseline: a bare Socket.IO server with its default options: no authentication, no rooms but
 * each socket's own, no handlers. A broadcast is `io.emit('message:new', message)` to every socket.
 */
const conversationId = randomUUID();
const senderId = randomUUID();

const server = createServer(
  benchControl({
    setup: () => ({ path: '/socket.io' }),
    broadcast(round, n) {
      for (let i = 0; i < n; i++) io.emit('message:new', benchMessage(round, i, conversationId, senderId));
    },
  }),
);
const io = new Server(server);
server.listen(0, '127.0.0.1', () => announce((server.address() as { port: number }).port));
