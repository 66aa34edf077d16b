import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setImmediate as tick } from 'node:timers/promises';
import { getHeapSpaceStatistics } from 'node:v8';

/**
 * What both real-time bench servers share: the message every fan-out sends (a `message:new`
 * payload of the real Message shape) and a control surface under /__bench/ that the runner uses
 * to learn the setup, trigger broadcasts and read the server's own CPU time and memory.
 */
const CONTROL_PREFIX = '/__bench/';

export interface RealtimeSetup {
  /** The Socket.IO path clients connect to. */
  path: string;
  /** One access token per receiving socket (none for the bare server). */
  tokens?: string[];
  /** The sending device's access token and the conversation it writes to (runtime only). */
  sender?: { token: string; conversationId: string };
}

export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Resident size of V8's young generation, which grows with allocation bursts and stays grown. */
  newSpace: number;
  /** Whether the figures follow full collections (the server runs with --expose-gc). */
  gc: boolean;
}

/** A `message:new` payload as the messaging service builds it (Message, wire form). */
export function benchMessage(round: number, index: number, conversationId: string, senderId: string) {
  return {
    id: randomUUID(),
    conversationId,
    senderId,
    clientKey: `bench-${round}-${index}`,
    body: '¿Bailamos la próxima tanda? Nos vemos en la milonga a las diez.',
    createdAt: new Date().toISOString(),
  };
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Full collections until the heap stops shrinking (at most 5), then the process's memory. (Not
 * V8's memory-reducing "last-resort" flavour: it force-flushes bytecode, and the sockets would then
 * be charged with compiling it again.)
 */
async function settledMemory(): Promise<MemoryFigures> {
  if (gc) {
    let last = Infinity;
    for (let i = 0; i < 5; i++) {
      gc();
      await tick();
      const used = process.memoryUsage().heapUsed;
      if (used >= last - 1024) break;
      last = used;
    }
  }
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0;
  return { rss, heapUsed, external, arrayBuffers, newSpace, gc: Boolean(gc) };
}

/**
 * The request listener of a bench server: answers /__bench/* and hands anything else to `next`.
 * `broadcast(round, n)` sends n `message:new` events the server's own way, synchronously.
 */
export function benchControl(options: {
  setup: () => RealtimeSetup;
  broadcast: (round: number, n: number) => void;
  next?: (req: IncomingMessage, res: ServerResponse) => void;
}) {
  const reply = (res: ServerResponse, body: unknown) => {
    const json = JSON.stringify(body);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
    res.end(json);
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://bench');
    if (!url.pathname.startsWith(CONTROL_PREFIX)) {
      if (options.next) options.next(req, res);
      else res.writeHead(404).end();
      return;
    }
    switch (url.pathname.slice(CONTROL_PREFIX.length)) {
      case 'setup':
        return reply(res, options.setup());
      case 'memory':
        return void settledMemory().then((memory) => reply(res, memory));
      case 'cpu': {
        const { user, system } = process.cpuUsage();
        return reply(res, { micros: user + system });
      }
      case 'broadcast': {
        const n = Number(url.searchParams.get('n') ?? 1);
        options.broadcast(Number(url.searchParams.get('round') ?? 0), n);
        return reply(res, { sent: n });
      }
      default:
        res.writeHead(404).end();
    }
  };
}
