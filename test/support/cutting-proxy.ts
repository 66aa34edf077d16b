import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';

/**
 * A TCP proxy that cuts the connection carrying the first PATCH, both ways, once `cutAfterBytes` of
 * that request have passed: a network that drops in the middle of a chunk.
 */
export async function cuttingProxy(targetPort: number, cutAfterBytes: number): Promise<{ port: number; close(): Promise<void> }> {
  let cut = false;
  const sockets = new Set<Socket>();
  const proxy = createTcpServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      // The cut makes the other ends reset their sockets; that is the point, not a failure.
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.pipe(client);
    // The request line may straddle two chunks: the last bytes of the previous one are kept to find it.
    let previousTail = '';
    // PATCH bytes forwarded before the current chunk; negative while the PATCH starts inside it.
    let patchBytes: number | undefined;
    client.on('data', (chunk: Buffer) => {
      if (patchBytes === undefined && !cut) {
        const seen = previousTail + chunk.toString('latin1');
        const start = seen.indexOf('PATCH ');
        if (start >= 0) patchBytes = previousTail.length - start;
        else previousTail = seen.slice(-5);
      }
      if (patchBytes === undefined || cut) {
        upstream.write(chunk);
        return;
      }
      const room = cutAfterBytes - patchBytes;
      if (chunk.length < room) {
        patchBytes += chunk.length;
        upstream.write(chunk);
        return;
      }
      cut = true;
      upstream.write(chunk.subarray(0, room), () => {
        upstream.destroy();
        client.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as AddressInfo).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}
