import { createServer, type RequestListener, type Server } from 'node:http';
import type { Logger } from 'pino';

/**
 * Listens, and on SIGTERM/SIGINT drains: stop accepting, let in-flight requests finish (up to
 * `drainMs`), then close what the app holds (pools, sockets) and exit.
 */
export interface Running {
  server: Server;
  url: string;
  shutdown(): Promise<void>;
}

export async function serve(
  app: RequestListener,
  options: {
    port: number;
    host: string;
    log: Logger;
    drainMs?: number;
    /** Runs first, e.g. to close long-lived sockets, which would otherwise hold the server open. */
    beforeClose?: () => Promise<void> | void;
    /** Runs once the last request is done: close pools and connections. */
    onClose?: () => Promise<void>;
    handleSignals?: boolean;
  },
): Promise<Running> {
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  const shutdown = () => {
    closing ??= (async () => {
      options.log.info('shutting down: draining in-flight requests');
      await options.beforeClose?.();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
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
