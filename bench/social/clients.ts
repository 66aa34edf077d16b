import { io, type Socket } from 'socket.io-client';

/**
 * The load side of the notification fan-out benchmark (bench/social.ts): a process of its own,
 * pinned to core 1 and driven by the runner over IPC. It holds one socket.io-client socket
 * (websocket transport) per follower, each with that follower's access token, and notes when each
 * receives its `notification:new`. A round is armed by `expect`; it ends when every socket has had
 * one (or after `timeoutMs`), and the reply carries the wall-clock times of the first and the last
 * receipt (`performance.timeOrigin + performance.now()`, comparable with the runner's).
 */
export type ClientCommand =
  | { type: 'connect'; urls: string[]; path: string; tokens: string[] }
  /** Arms a round that ends when `sockets` sockets (the first ones connected, all by default) have had theirs. */
  | { type: 'expect'; timeoutMs: number; sockets?: number }
  | { type: 'close' }
  | { type: 'exit' };

export type ClientReply =
  | { type: 'connected'; sockets: number; ms: number; errors: string[] }
  | { type: 'armed' }
  | { type: 'done'; sockets: number; reached: number; received: number; firstAt: number; lastAt: number }
  | { type: 'closed' }
  | { type: 'lost'; reason: string };

const BATCH = 50;
const now = () => performance.timeOrigin + performance.now();
const send = (reply: ClientReply) => process.send!(reply);

let sockets: Socket[] = [];
/** Per socket: `notification:new` events received in the current round. */
let counts = new Int32Array(0);
let armed = false;
let expected = 0;
let reached = 0;
let received = 0;
let firstAt = 0;
let lastAt = 0;
let timer: NodeJS.Timeout | undefined;

function finish() {
  if (!armed) return;
  armed = false;
  clearTimeout(timer);
  send({ type: 'done', sockets: sockets.length, reached, received, firstAt, lastAt });
}

function open(url: string, path: string, index: number, token: string): Promise<Socket> {
  const socket = io(url, { path, transports: ['websocket'], forceNew: true, reconnection: false, timeout: 20_000, auth: { token } });
  socket.on('notification:new', () => {
    if (!armed) return;
    const at = now();
    received++;
    if (received === 1) firstAt = at;
    if (++counts[index]! === 1) {
      lastAt = at;
      if (++reached === expected) finish();
    }
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
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
  const errors: string[] = [];
  const opened: Socket[] = [];
  for (let from = 0; from < command.tokens.length; from += BATCH) {
    const batch: Promise<Socket>[] = [];
    for (let i = from; i < Math.min(from + BATCH, command.tokens.length); i++) {
      batch.push(open(command.urls[i % command.urls.length]!, command.path, i, command.tokens[i]!));
    }
    for (const result of await Promise.allSettled(batch)) {
      if (result.status === 'fulfilled') opened.push(result.value);
      else if (errors.length < 5) errors.push(String(result.reason));
    }
  }
  sockets = opened;
  counts = new Int32Array(command.tokens.length);
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
      reached = 0;
      received = 0;
      firstAt = 0;
      lastAt = 0;
      expected = Math.min(command.sockets ?? sockets.length, sockets.length);
      armed = true;
      timer = setTimeout(finish, command.timeoutMs);
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
