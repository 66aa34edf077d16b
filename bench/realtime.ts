import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { io, type Socket } from 'socket.io-client';
import { pinned, startServer } from './http';
import type { ClientCommand, ClientReply } from './servers/realtime-clients';
import type { MemoryFigures, RealtimeSetup } from './servers/realtime-common';
import { stopChild } from './child-process';

/**
 * Real-time fan-out and memory, bare Socket.IO next to this runtime, measured in one run.
 *
 * Each server runs in a child process on core 0 (with --expose-gc, so that it can report its
 * memory after full collections); the sockets live in one load process on core 1
 * (servers/realtime-clients.ts), socket.io-client on the websocket transport. For each server:
 * warm the socket code up (connect and close a few sockets), read the server's memory, connect
 * `sockets` idle sockets, read it again: (after − before) / sockets is the memory per idle socket.
 * Then a sending device connects and rounds of `messages` broadcasts go out, all at once; a round
 * ends when every one of the `sockets` has received all of them (the sender's own copies are not
 * counted). Figures are the median of `rounds` rounds, after one uncounted warm-up round.
 *
 * Wall-clock rates depend on both processes (the load process does about as much work per
 * delivery as the server) and on whatever else the machine runs; the server's CPU time per
 * delivery, which it reads itself, depends on neither.
 */
const root = join(import.meta.dirname, '..');
const WARM_SOCKETS = 20;
const SETTLE_MS = 500;
const ROUND_TIMEOUT_MS = 30_000;

export interface RealtimeSettings {
  node: string;
  sockets: number;
  /** Broadcasts per round. */
  messages: number;
  rounds: number;
}

export interface FanOut {
  name: string;
  /** Broadcasts per second until the last socket had them all. */
  broadcastsPerSecond: number;
  /** Messages received per second over all sockets (= broadcasts/s × sockets). */
  deliveriesPerSecond: number;
  /** Server CPU time per delivery over the round, µs (the trigger's own work included). */
  serverMicrosPerDelivery: number;
  /** Share of a core the server used over the round (below 1: it waited on the load process or lost its core to other work). */
  serverCoreShare: number;
  /** Share of a core the load process used over the round: near 1 means it, not the server, may be the limit. */
  clientCoreShare: number;
}

export interface RealtimeResult {
  name: string;
  /** What the server is and holds. */
  detail: string;
  connectMs: number;
  /** Bytes per idle socket, after full collections. */
  rssPerSocket: number;
  /** The same, less the growth of V8's young generation (a burst of allocation grows it for good, sockets or not). */
  rssPerSocketNoYoung: number;
  heapPerSocket: number;
  externalPerSocket: number;
  gc: boolean;
  fanOut: FanOut[];
}

type LoadProcess = ReturnType<typeof startClients>;

/** The load process on core 1, driven over IPC: a command, then the reply it waits for. */
function startClients() {
  const [command, args] = pinned(1, process.execPath, ['--import', 'tsx', join(root, 'bench/servers/realtime-clients.ts')]);
  const child: ChildProcess = spawn(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let lost: string | undefined;
  const waiting: { type: ClientReply['type']; resolve: (reply: ClientReply) => void }[] = [];
  child.on('message', (reply: ClientReply) => {
    if (reply.type === 'lost') {
      lost ??= reply.reason;
      return;
    }
    const at = waiting.findIndex((w) => w.type === reply.type);
    if (at >= 0) waiting.splice(at, 1)[0]!.resolve(reply);
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const exited = exit.then((code) => {
    throw new Error(`the load process exited with ${code}`);
  });
  exited.catch(() => {});
  return {
    get lost() {
      return lost;
    },
    /** Sends `command` (if any) and resolves with the next reply of type `answer`. */
    async ask<T extends ClientReply['type']>(
      command: ClientCommand | undefined,
      answer: T,
      timeoutMs = 60_000,
    ): Promise<Extract<ClientReply, { type: T }>> {
      const reply = new Promise<ClientReply>((resolve) => waiting.push({ type: answer, resolve }));
      if (command) child.send(command);
      const timer = new AbortController();
      const timeout = sleep(timeoutMs, undefined, { signal: timer.signal }).then(() => {
        throw new Error(`no "${answer}" from the load process within ${timeoutMs} ms`);
      });
      timeout.catch(() => {});
      try {
        return (await Promise.race([reply, exited, timeout])) as Extract<ClientReply, { type: T }>;
      } finally {
        timer.abort();
      }
    },
    /** Asks the load process to close its sockets and leave; kills it if it has not within 5 s. */
    stop: () => stopChild(child, exit),
  };
}

async function get<T>(base: string, path: string): Promise<T> {
  const response = await fetch(`${base}/__bench/${path}`);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return (await response.json()) as T;
}

function connectOne(base: string, path: string, token: string | undefined): Promise<Socket> {
  const socket = io(base, { path, transports: ['websocket'], forceNew: true, reconnection: false, ...(token ? { auth: { token } } : {}) });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Trigger {
  name: string;
  send: (ctx: { base: string; sender: Socket; setup: RealtimeSetup; round: number; n: number }) => Promise<void>;
}

/** One round: arm the load process, trigger n broadcasts, wait until every socket has all n. */
async function round(base: string, clients: LoadProcess, send: () => Promise<void>, n: number) {
  await clients.ask({ type: 'expect', n }, 'armed');
  const cpu0 = await get<{ micros: number }>(base, 'cpu');
  const started = performance.now();
  const done = clients.ask(undefined, 'done', ROUND_TIMEOUT_MS);
  done.catch(() => {}); // awaited below, unless the trigger fails first
  await send();
  const { cpuMicros } = await done;
  const seconds = (performance.now() - started) / 1000;
  const cpu1 = await get<{ micros: number }>(base, 'cpu');
  return { seconds, serverMicros: cpu1.micros - cpu0.micros, clientMicros: cpuMicros };
}

async function measureServer(
  server: { name: string; detail: string; script: string; args: string[] },
  settings: RealtimeSettings,
  clients: LoadProcess,
  triggers: Trigger[],
): Promise<RealtimeResult> {
  const { name } = server;
  const { child, port } = await startServer(settings.node, server.script, server.args, ['--expose-gc']);
  const base = `http://127.0.0.1:${port}`;
  let sender: Socket | undefined;
  try {
    const setup = await get<RealtimeSetup>(base, 'setup');
    const connect = (count: number): ClientCommand => ({ type: 'connect', url: base, path: setup.path, count, tokens: setup.tokens });

    // Warm-up: the first connections load and compile code that is no part of a socket's cost.
    await clients.ask(connect(WARM_SOCKETS), 'connected');
    await clients.ask({ type: 'close' }, 'closed');
    await sleep(SETTLE_MS);
    const before = await get<MemoryFigures>(base, 'memory');

    const connected = await clients.ask(connect(settings.sockets), 'connected');
    if (connected.sockets !== settings.sockets) {
      throw new Error(`${name}: ${connected.sockets}/${settings.sockets} sockets connected (${connected.errors.join('; ')})`);
    }
    // Presence updates go out as users come online: let them drain before measuring.
    await sleep(SETTLE_MS);
    const after = await get<MemoryFigures>(base, 'memory');
    const perSocket = (bytes: number) => bytes / settings.sockets;

    // The sending device (the runtime's group creator; for the bare server, one more socket), connected last.
    sender = await connectOne(base, setup.path, setup.sender?.token);
    await sleep(SETTLE_MS);

    const fanOut: FanOut[] = [];
    for (const [t, trigger] of triggers.entries()) {
      const send = (r: number, n: number) => () => trigger.send({ base, sender: sender!, setup, round: t * 100 + r, n });
      // An uncounted round first, to warm the path up.
      await round(base, clients, send(0, Math.max(10, settings.messages >> 2)), Math.max(10, settings.messages >> 2));
      const runs = [];
      for (let r = 1; r <= settings.rounds; r++) {
        runs.push(await round(base, clients, send(r, settings.messages), settings.messages));
        if (clients.lost) throw new Error(`${name}: a socket was lost: ${clients.lost}`);
      }
      const seconds = median(runs.map((run) => run.seconds));
      const deliveries = settings.messages * settings.sockets;
      fanOut.push({
        name: trigger.name,
        broadcastsPerSecond: settings.messages / seconds,
        deliveriesPerSecond: deliveries / seconds,
        serverMicrosPerDelivery: median(runs.map((run) => run.serverMicros)) / deliveries,
        serverCoreShare: median(runs.map((run) => run.serverMicros / 1e6 / run.seconds)),
        clientCoreShare: median(runs.map((run) => run.clientMicros / 1e6 / run.seconds)),
      });
    }

    return {
      name,
      detail: server.detail,
      connectMs: connected.ms,
      rssPerSocket: perSocket(after.rss - before.rss),
      rssPerSocketNoYoung: perSocket(after.rss - before.rss - (after.newSpace - before.newSpace)),
      heapPerSocket: perSocket(after.heapUsed - before.heapUsed),
      externalPerSocket: perSocket(after.external - before.external),
      gc: before.gc && after.gc,
      fanOut,
    };
  } finally {
    sender?.close();
    await clients.ask({ type: 'close' }, 'closed').catch(() => {});
    child.kill('SIGKILL');
  }
}

/** N broadcasts sent by the server itself, all at once (one control request). */
const serverBroadcast: Trigger['send'] = async ({ base, round, n }) => {
  await get(base, `broadcast?round=${round}&n=${n}`);
};

/** N `message:send` events from the sender's socket, all at once; each must be acked with the stored message. */
const messageSend: Trigger['send'] = async ({ sender, setup, round, n }) => {
  const acks: Promise<{ ok: boolean; error?: { code: string } }>[] = [];
  for (let i = 0; i < n; i++) {
    acks.push(
      sender.emitWithAck('message:send', {
        conversationId: setup.sender!.conversationId,
        clientKey: `send-${round}-${i}`,
        body: '¿Bailamos la próxima tanda? Nos vemos en la milonga a las diez.',
      }),
    );
  }
  const failed = (await Promise.all(acks)).filter((ack) => !ack.ok);
  if (failed.length > 0) throw new Error(`${failed.length} message:send refused: ${failed[0]!.error?.code}`);
};

/** Members a group may have besides its creator (contracts/messages.ts MAX_INVITED_MEMBERS). */
const GROUP_MEMBERS = 100;

export async function measureRealtime(settings: RealtimeSettings): Promise<{ bare: RealtimeResult; runtime: RealtimeResult }> {
  // The runtime's sockets: the members of one group of the largest size allowed, each on as many devices as it takes.
  const devices = Math.ceil(settings.sockets / GROUP_MEMBERS);
  const members = Math.ceil(settings.sockets / devices);
  const clients = startClients();
  try {
    const bare = await measureServer(
      {
        name: 'bare Socket.IO',
        detail: 'default options, no auth, io.emit to every socket',
        script: 'bench/servers/realtime-bare.ts',
        args: [],
      },
      settings,
      clients,
      [{ name: 'io.emit', send: serverBroadcast }],
    );
    const runtime = await measureServer(
      {
        name: 'this runtime',
        detail: `Mundo Tango app on PGlite; ${members} users × ${devices} devices, each device its own session and JWT, in one group with the sender`,
        script: 'bench/servers/realtime-mundo.ts',
        args: [String(members), String(devices)],
      },
      settings,
      clients,
      [
        { name: 'toUsers', send: serverBroadcast },
        { name: 'message:send', send: messageSend },
      ],
    );
    return { bare, runtime };
  } finally {
    await clients.stop();
  }
}
