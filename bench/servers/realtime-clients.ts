import { io, type Socket } from 'socket.io-client';

/**
 * The load side of the real-time benchmark (not a server: it runs pinned to core 1, driven by the
 * runner over IPC). Holds socket.io-client sockets on the websocket transport, counts the
 * `message:new` events each one receives, and says when every socket has had all it expects.
 */
export type ClientCommand =
  | { type: 'connect'; url: string; path: string; count: number; tokens?: string[] }
  | { type: 'close' }
  | { type: 'expect'; n: number }
  | { type: 'exit' };

export type ClientReply =
  | { type: 'connected'; sockets: number; ms: number; errors: string[] }
  | { type: 'closed' }
  | { type: 'armed' }
  | { type: 'done'; cpuMicros: number; received: number }
  | { type: 'lost'; reason: string };

const BATCH = 50;
let sockets: Socket[] = [];
let counts = new Int32Array(0);
let expected = Infinity;
let pending = 0;
let cpuStart = process.cpuUsage();

const send = (reply: ClientReply) => process.send!(reply);

function open(url: string, path: string, index: number, token: string | undefined): Promise<Socket> {
  const socket = io(url, {
    path,
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: 20_000,
    ...(token ? { auth: { token } } : {}),
  });
  socket.on('message:new', () => {
    if (++counts[index]! === expected && --pending === 0) {
      const { user, system } = process.cpuUsage(cpuStart);
      send({ type: 'done', cpuMicros: user + system, received: counts.reduce((a, b) => a + b, 0) });
    }
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      // Only now: a socket refused at the handshake is no loss of one that was connected.
      socket.on('disconnect', (reason) => {
        if (sockets.length > 0) send({ type: 'lost', reason: `socket ${index}: ${reason}` });
      });
      resolve(socket);
    });
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

async function connect(command: Extract<ClientCommand, { type: 'connect' }>): Promise<ClientReply> {
  const started = performance.now();
  counts = new Int32Array(command.count);
  const errors: string[] = [];
  const opened: Socket[] = [];
  for (let from = 0; from < command.count; from += BATCH) {
    const batch = [];
    for (let i = from; i < Math.min(from + BATCH, command.count); i++) {
      batch.push(open(command.url, command.path, i, command.tokens?.[i % command.tokens.length]));
    }
    for (const result of await Promise.allSettled(batch)) {
      if (result.status === 'fulfilled') opened.push(result.value);
      else if (errors.length < 5) errors.push(String(result.reason));
    }
  }
  sockets = opened;
  return { type: 'connected', sockets: opened.length, ms: performance.now() - started, errors };
}

async function close(): Promise<void> {
  const closing = sockets;
  sockets = [];
  await Promise.all(
    closing.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (!socket.connected) return resolve();
          socket.once('disconnect', () => resolve());
          socket.close();
        }),
    ),
  );
}

process.on('message', (command: ClientCommand) => {
  switch (command.type) {
    case 'connect':
      void connect(command).then(send);
      break;
    case 'expect':
      counts.fill(0);
      expected = command.n;
      pending = sockets.length;
      cpuStart = process.cpuUsage();
      send({ type: 'armed' });
      break;
    case 'close':
      void close().then(() => send({ type: 'closed' }));
      break;
    case 'exit':
      void close().then(() => process.disconnect());
      break;
  }
});
// The runner gone (it crashed, say): close everything and leave.
process.on('disconnect', () => {
  void close().then(() => process.exit(0));
});
