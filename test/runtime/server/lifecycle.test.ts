import { request as httpRequest, Agent } from 'node:http';
import { connect } from 'node:net';
import { Server as SocketIoServer } from 'socket.io';
import { io as ioClient } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { ListenError, serve } from '../../../runtime/server';
import { createFixture } from './fixture';

/** A GET over its own keep-alive agent, as browsers and fetch clients hold connections open. */
function get(url: string, agent: Agent) {
  return new Promise<{ status: number; body: unknown; headers: Record<string, unknown> }>((resolve, reject) => {
    httpRequest(url, { agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown }),
      );
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** Resolves with the error code of a TCP connection attempt, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

describe('graceful shutdown', () => {
  it('finishes the in-flight request, runs onClose after it, and refuses new connections', async () => {
    const fixture = createFixture();
    const events: string[] = [];
    const running = await serve(fixture.app, {
      port: 0,
      host: '127.0.0.1',
      log: fixture.log,
      onClose: async () => {
        // By now the in-flight response must be complete: its access-log line is written on close.
        const served = fixture.logLines.some((l) => l.msg === 'request' && l.route === '/api/v1/slow' && l.status === 200);
        events.push(served ? 'onClose after response' : 'onClose before response');
      },
    });
    const port = Number(new URL(running.url).port);
    expect(await tryConnect(port)).toBe('connected');

    // An idle kept-alive connection (a finished request) must not hold the shutdown up.
    const idleAgent = new Agent({ keepAlive: true });
    const warmup = await get(`${running.url}/api/v1/ping`, idleAgent);
    expect(warmup.status).toBe(200);

    const agent = new Agent({ keepAlive: false });
    const inflight = get(`${running.url}/api/v1/slow`, agent).then((res) => {
      events.push('response');
      return res;
    });
    await fixture.probe.slowStarted;
    const stopped = running.shutdown().then(() => events.push('shutdown resolved'));

    // While draining, a new connection is refused.
    expect(await tryConnect(port)).toBe('ECONNREFUSED');
    expect(fixture.probe.slowFinishedAt).toBeUndefined();

    const res = await inflight;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { done: true } });
    await stopped;

    expect(events).toContain('onClose after response');
    expect(events.indexOf('onClose after response')).toBeLessThan(events.indexOf('shutdown resolved'));
    expect(await tryConnect(port)).toBe('ECONNREFUSED');
    expect(fixture.logLines.some((l) => l.msg === 'shut down')).toBe(true);
    agent.destroy();
    idleAgent.destroy();
  });

  it('does not keep a kept-alive connection open after its in-flight request: the drain ends with the last response', async () => {
    const fixture = createFixture();
    const running = await serve(fixture.app, { port: 0, host: '127.0.0.1', log: fixture.log, drainMs: 60_000 });
    // Make the difference unmistakable: an idle keep-alive socket would otherwise live for a minute.
    running.server.keepAliveTimeout = 60_000;
    const agent = new Agent({ keepAlive: true });
    try {
      const inflight = get(`${running.url}/api/v1/slow`, agent);
      await fixture.probe.slowStarted;
      const stopped = running.shutdown().then(() => 'stopped' as const);
      const res = await inflight;
      expect(res.status).toBe(200);
      // Liveness bound, not a measurement: a correct drain ends right after the response.
      const outcome = await Promise.race([
        stopped,
        new Promise<'still draining'>((resolve) => setTimeout(() => resolve('still draining'), 3000).unref()),
      ]);
      expect(outcome).toBe('stopped');
    } finally {
      agent.destroy();
      running.server.closeAllConnections();
      await running.shutdown();
    }
  });

  it('refuses new connections before telling sockets to go, and closes a kept-alive connection after its next answer', async () => {
    const fixture = createFixture();
    let duringBeforeClose: string | undefined;
    const running = await serve(fixture.app, {
      port: 0,
      host: '127.0.0.1',
      log: fixture.log,
      // A socket told to reconnect must not land on this instance again.
      beforeClose: async () => {
        duringBeforeClose = await tryConnect(port);
      },
    });
    const port = Number(new URL(running.url).port);
    // One kept-alive connection: a request in flight, then, once draining, one more on it (pipelined).
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write('GET /api/v1/slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await fixture.probe.slowStarted;
    const stopped = running.shutdown();
    socket.write('GET /api/v1/ping HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed;
    await stopped;
    expect(duringBeforeClose).toBe('ECONNREFUSED');
    const answers = received.split(/(?=HTTP\/1\.1 )/);
    expect(answers.map((answer) => answer.slice(0, 15))).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    // The request that came during the drain is answered, and its connection closed after it.
    expect(answers[1]).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('is idempotent: a second shutdown() waits for the same drain', async () => {
    const fixture = createFixture();
    let closes = 0;
    const running = await serve(fixture.app, {
      port: 0,
      host: '127.0.0.1',
      log: fixture.log,
      onClose: async () => {
        closes++;
      },
    });
    await Promise.all([running.shutdown(), running.shutdown()]);
    expect(closes).toBe(1);
  });
});

/** A raw connection: what it received, and when the server closed it. */
function rawConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  const opened = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
  return { socket, opened, closed, received: () => received };
}

/** Resolves with `value` after `ms` (an unref'd timer), to race against what should happen sooner. */
const settleAfter = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms).unref());

describe('slow clients', () => {
  it('cuts off a trickled body once the request timeout passes (408), and a trickled header block too', async () => {
    const fixture = createFixture();
    const running = await serve(fixture.app, {
      port: 0,
      host: '127.0.0.1',
      log: fixture.log,
      timeouts: { headersMs: 300, requestMs: 600 },
    });
    const port = Number(new URL(running.url).port);
    const body = rawConnection(port);
    const headers = rawConnection(port);
    await Promise.all([body.opened, headers.opened]);
    const started = performance.now();
    body.socket.write('POST /api/v1/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{');
    headers.socket.write('GET /api/v1/ping HTTP/1.1\r\n');
    // A byte every 100 ms keeps both connections busy, as a slowloris client does.
    const trickle = setInterval(() => {
      if (!body.socket.destroyed) body.socket.write(' ');
      if (!headers.socket.destroyed) headers.socket.write('X-A: b\r\n');
    }, 100);
    try {
      // Node's default would hold the body for 300 s; the bound here is generous for a loaded machine.
      const [bodyClosedAt, headersClosedAt] = await Promise.race([
        Promise.all([body.closed, headers.closed]),
        settleAfter(8000, [Infinity, Infinity]),
      ]);
      expect(bodyClosedAt - started).toBeLessThan(8000);
      expect(headersClosedAt - started).toBeLessThan(8000);
      expect(body.received()).toMatch(/^HTTP\/1\.1 408 /);
      expect(headers.received()).toMatch(/^HTTP\/1\.1 408 /);
      // The handler never saw the unfinished request.
      expect(fixture.probe.calls.createItem).toBeUndefined();
    } finally {
      clearInterval(trickle);
      await running.shutdown();
    }
  });

  it('refuses connections past the per-address cap, counts a closed one out, and exempts trusted proxies', async () => {
    const fixture = createFixture();
    const capped = await serve(fixture.app, { port: 0, host: '127.0.0.1', log: fixture.log, maxConnectionsPerAddress: 2 });
    const proxied = await serve(fixture.app, {
      port: 0,
      host: '127.0.0.1',
      log: fixture.log,
      maxConnectionsPerAddress: 2,
      isTrustedPeer: (a) => a.endsWith('127.0.0.1'),
    });
    const open: ReturnType<typeof rawConnection>[] = [];
    try {
      const port = Number(new URL(capped.url).port);
      const [first, second] = [rawConnection(port), rawConnection(port)];
      open.push(first, second);
      await Promise.all([first.opened, second.opened]);
      // A request on each shows both were taken in (not merely queued by the kernel).
      for (const c of [first, second]) c.socket.write('GET /api/v1/ping HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitUntil(() => first.received().includes('200 OK') && second.received().includes('200 OK'));

      const third = rawConnection(port);
      open.push(third);
      third.socket.write('GET /api/v1/ping HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await Promise.race([third.closed.then(() => 'closed'), settleAfter(5000, 'open')])).toBe('closed');
      expect(third.received()).toBe('');
      expect(fixture.logLines.some((l) => l.msg === 'connection refused: too many open connections from one address')).toBe(true);

      first.socket.destroy();
      await first.closed;
      const fourth = rawConnection(port);
      open.push(fourth);
      fourth.socket.write('GET /api/v1/ping HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitUntil(() => fourth.received().includes('200 OK'));

      const proxyPort = Number(new URL(proxied.url).port);
      const many = [rawConnection(proxyPort), rawConnection(proxyPort), rawConnection(proxyPort)];
      open.push(...many);
      for (const c of many) c.socket.write('GET /api/v1/ping HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitUntil(() => many.every((c) => c.received().includes('200 OK')));
    } finally {
      for (const c of open) c.socket.destroy();
      await Promise.all([capped.shutdown(), proxied.shutdown()]);
    }
  });

  it('keeps Socket.IO long-polling and WebSocket connections past the request timeout', async () => {
    const fixture = createFixture();
    const running = await serve(fixture.app, {
      port: 0,
      host: '127.0.0.1',
      log: fixture.log,
      timeouts: { headersMs: 200, requestMs: 300 },
    });
    const io = new SocketIoServer(running.server, { pingInterval: 20_000 });
    io.on('connection', (socket) => socket.on('echo', (value: string, ack: (v: string) => void) => ack(value)));
    const clients = (['polling', 'websocket'] as const).map((transport) =>
      ioClient(running.url, { transports: [transport], reconnection: false }),
    );
    try {
      await Promise.all(
        clients.map((client) => new Promise<void>((resolve, reject) => client.once('connect', resolve).once('connect_error', reject))),
      );
      const dropped: string[] = [];
      for (const client of clients) client.on('disconnect', (reason) => dropped.push(reason));
      // Several request timeouts (and checks) pass while a long-poll is held and the WebSocket idles.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(dropped).toEqual([]);
      for (const client of clients) expect(await client.timeout(3000).emitWithAck('echo', 'still here')).toBe('still here');
    } finally {
      for (const client of clients) client.close();
      await io.close();
      await running.shutdown();
    }
  });
});

describe('listening', () => {
  it('says in one line that the port is taken', async () => {
    const fixture = createFixture();
    const first = await serve(fixture.app, { port: 0, host: '127.0.0.1', log: fixture.log });
    const port = Number(new URL(first.url).port);
    try {
      const error = await serve(fixture.app, { port, host: '127.0.0.1', log: fixture.log, portSetting: 'PORT' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ListenError);
      expect((error as Error).message).toBe(
        `Cannot listen on 127.0.0.1:${port}: the port is already in use (stop what runs there, or set PORT to another port)`,
      );
    } finally {
      await first.shutdown();
    }
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('waitUntil: timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
