import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real server that a test turns off and on: `down()` refuses connections
 * and cuts the open ones (a server stopped or unreachable), `stall()` keeps connections open but
 * forwards nothing (a network that stopped answering), `up()` restores it on the same port.
 */
export async function switchableProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let stalled = false;
  const server = createTcpServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      // A cut makes the other ends reset their sockets: that is the point, not a failure.
      from.on('error', () => {});
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
      from.on('data', (chunk: Buffer) => {
        if (!stalled) to.write(chunk);
      });
    }
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    async down() {
      stalled = false;
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    stall() {
      stalled = true;
    },
    async up() {
      stalled = false;
      // Connections opened while stalled never carried anything: a client has given up on them.
      for (const socket of sockets) socket.destroy();
      if (!server.listening) await listen(port);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}
