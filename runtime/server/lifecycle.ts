import { createServer, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

/**
 * Listens, and on SIGTERM/SIGINT drains: stop accepting, close long-lived sockets (`beforeClose`),
 * let in-flight requests finish (up to `drainMs`; a request still coming on a kept-alive connection
 * is answered with `Connection: close`), then close what the app holds (pools) and exit.
 */
export interface Running {
  server: Server;
  url: string;
  shutdown(): Promise<void>;
}

/**
 * How long a client may take, so a slow one cannot hold a connection for minutes. Node checks the
 * header and request deadlines periodically (a fraction of the header timeout here), so a request
 * is cut off between the deadline and a quarter of `headersMs` after it. The request deadline
 * covers receiving the request only: a long answer (a Socket.IO long-poll) or an upgraded
 * WebSocket is not cut off.
 */
export interface ServerTimeouts {
  /** Until the request's headers are in (Node's `headersTimeout`). */
  headersMs: number;
  /** Until the whole request, body included, is in (`requestTimeout`); at least `headersMs`. */
  requestMs: number;
  /** How long an idle kept-alive connection waits for its next request (`keepAliveTimeout`). */
  keepAliveMs: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 };

/** Open connections one address may hold; far more than a browser opens (6 per origin) or a NAT of many users needs. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;

/** The port could not be taken; the message is one line, fit for an operator. */
export class ListenError extends Error {
  override name = 'ListenError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export async function serve(
  app: RequestListener,
  options: {
    port: number;
    host: string;
    log: Logger;
    drainMs?: number;
    /** Runs once new connections are refused, e.g. to close long-lived sockets, which would otherwise hold the server open. */
    beforeClose?: () => Promise<void> | void;
    /** Runs once the last request is done: close pools and connections. */
    onClose?: () => Promise<void>;
    handleSignals?: boolean;
    timeouts?: Partial<ServerTimeouts>;
    /** 0 turns the cap off. */
    maxConnectionsPerAddress?: number;
    /** Peers the cap does not apply to: the trusted proxies, whose connections carry many clients. */
    isTrustedPeer?: (address: string) => boolean;
    /** What sets the port, named in a listen error (e.g. `PORT`). */
    portSetting?: string;
  },
): Promise<Running> {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  let closing: Promise<void> | undefined;
  const server = createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval: Math.min(Math.max(Math.floor(timeouts.headersMs / 4), 50), 5_000),
    },
    // Once draining, a request that still comes on a kept-alive connection is answered and its
    // connection closed after it: the client opens its next one elsewhere.
    (req, res) => {
      if (closing) res.setHeader('Connection', 'close');
      app(req, res);
    },
  );
  capConnectionsPerAddress(
    server,
    options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
    options.isTrustedPeer ?? (() => false),
    options.log,
  );
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    server.close();
    throw listenError(error as NodeJS.ErrnoException, options.host, options.port, options.portSetting);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const shutdown = () => {
    closing ??= (async () => {
      options.log.info('shutting down: draining in-flight requests');
      // New connections are refused first, so clients told to go (below) and a load balancer's
      // next try reach another instance rather than this one.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await options.beforeClose?.();
      // A kept-alive connection busy now goes idle after its response: close those as they free up.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const timer = setTimeout(() => server.closeAllConnections(), options.drainMs ?? 10_000);
      await closed;
      clearInterval(sweep);
      clearTimeout(timer);
      await options.onClose?.();
      options.log.info('shut down');
    })();
    return closing;
  };

  if (options.handleSignals) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        shutdown().then(
          () => process.exit(0),
          (error: unknown) => {
            options.log.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
  }
  return { server, url, shutdown };
}

/**
 * Refuses a connection (closes it at once) from an address that already holds `max` open ones.
 * Slow clients are cut off by the timeouts; this bounds how many one address can keep waiting.
 */
function capConnectionsPerAddress(server: Server, max: number, isTrustedPeer: (address: string) => boolean, log: Logger): void {
  if (max <= 0) return;
  const open = new Map<string, number>();
  let lastWarning = 0;
  server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (address === undefined || isTrustedPeer(address)) return;
    const count = open.get(address) ?? 0;
    if (count >= max) {
      socket.destroy();
      if (Date.now() - lastWarning > 60_000) {
        lastWarning = Date.now();
        log.warn({ address, max }, 'connection refused: too many open connections from one address');
      }
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number, setting = 'the port setting'): Error {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new ListenError(
        `Cannot listen on ${where}: the port is already in use (stop what runs there, or set ${setting} to another port)`,
        error.code,
      );
    case 'EACCES':
      return new ListenError(
        `Cannot listen on ${where}: permission denied (ports below 1024 need privileges; set ${setting} to another port)`,
        error.code,
      );
    case 'EADDRNOTAVAIL':
      return new ListenError(`Cannot listen on ${where}: this machine has no such address (check the host setting)`, error.code);
    default:
      return error.code ? new ListenError(`Cannot listen on ${where}: ${error.code} ${error.message}`, error.code) : error;
  }
}
