import { request as httpRequest, Agent } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { serve } from '../../../runtime/server';
import { createFixture } from './fixture';

/** A GET over its own keep-alive agent, as browsers and fetch clients hold connections open. */
function get(url: string, agent: Agent) {
  return new Promise<{ status: number; body: unknown; headers: Record<string, unknown> }>((resolve, reject) => {
    httpRequest(url, { agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown }));
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
      const outcome = await Promise.race([stopped, new Promise<'still draining'>((resolve) => setTimeout(() => resolve('still draining'), 3000).unref())]);
      expect(outcome).toBe('stopped');
    } finally {
      agent.destroy();
      running.server.closeAllConnections();
      await running.shutdown();
    }
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
