import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

/**
 * A load balancer in front of server processes, as a deployment has one: TCP (so WebSockets pass
 * through), each new connection to the next healthy backend in turn. A backend is healthy while its
 * `GET /api/v1/health` answers 200 (checked every `checkMs`); a connection it refuses is tried on
 * the next one before anything was sent (as nginx's `proxy_next_upstream error` does). A connection
 * stays with its backend until either end closes it.
 */
export async function loadBalancer(options: { checkMs?: number } = {}) {
  // Every 250 ms: the health operation allows an address 600 checks a minute.
  const checkMs = options.checkMs ?? 250;
  const backends = new Map<number, { healthy: boolean }>();
  const sockets = new Set<Socket>();
  let turn = 0;
  let preferred: number | undefined;

  const candidates = () => {
    const healthy = [...backends].filter(([, state]) => state.healthy).map(([port]) => port);
    turn = (turn + 1) % Math.max(healthy.length, 1);
    const order = [...healthy.slice(turn), ...healthy.slice(0, turn)];
    return preferred !== undefined && order.includes(preferred) ? [preferred, ...order.filter((port) => port !== preferred)] : order;
  };

  const server = createServer((client) => {
    sockets.add(client);
    client.on('error', () => {});
    client.on('close', () => sockets.delete(client));
    // What the client sends before a backend is connected waits here.
    const early: Buffer[] = [];
    const hold = (chunk: Buffer) => early.push(chunk);
    client.on('data', hold);
    const tryNext = (ports: number[]) => {
      const port = ports.shift();
      if (port === undefined || client.destroyed) {
        client.destroy();
        return;
      }
      const upstream = connect(port, '127.0.0.1');
      let connected = false;
      upstream.once('error', () => {
        if (connected) client.destroy();
        else tryNext(ports);
      });
      upstream.once('connect', () => {
        connected = true;
        if (client.destroyed) {
          upstream.destroy();
          return;
        }
        sockets.add(upstream);
        upstream.on('error', () => {});
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        client.on('close', () => upstream.destroy());
        client.off('data', hold);
        for (const chunk of early.splice(0)) upstream.write(chunk);
        client.pipe(upstream);
        upstream.pipe(client);
      });
    };
    tryNext(candidates());
  });

  const checks = setInterval(() => {
    for (const [port, state] of backends) {
      fetch(`http://127.0.0.1:${port}/api/v1/health`, { signal: AbortSignal.timeout(checkMs * 5) }).then(
        (res) => {
          state.healthy = res.status === 200;
          void res.body?.cancel();
        },
        () => (state.healthy = false),
      );
    }
  }, checkMs);

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    /** A new backend; it takes connections once its first health check passes. */
    add(backendPort: number) {
      backends.set(backendPort, { healthy: false });
    },
    /** New connections go to this backend while it is healthy (a test placing its clients), or in turn again with undefined. */
    prefer(backendPort: number | undefined) {
      preferred = backendPort;
    },
    remove(backendPort: number) {
      backends.delete(backendPort);
    },
    /** Resolves once the backend's health check has passed (or failed, with `healthy` false). */
    async until(backendPort: number, healthy: boolean, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (backends.get(backendPort)?.healthy !== healthy) {
        if (Date.now() > deadline) throw new Error(`backend ${backendPort} not ${healthy ? 'healthy' : 'out'} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      clearInterval(checks);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
