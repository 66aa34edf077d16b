import { type AddressInfo, createServer } from 'node:net';
import { Redis, ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisUnavailable } from '../../server/redis-outage';

/**
 * Which errors are a Redis outage (503 with Retry-After) and which stay a bug (500); seen end to
 * end in test/server/faults/redis-outage.test.ts. The connection errors are ioredis's own, from a
 * client configured as server/redis.ts configures it, pointed at a port nothing listens on.
 */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the command succeeded');
}

describe('redisUnavailable', () => {
  it('ioredis with no connection and no offline queue, and after it is closed: 503 with Retry-After', async () => {
    const client = new Redis({
      host: '127.0.0.1',
      port: await closedPort(),
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    const errors = [await rejection(client.get('key'))];
    client.disconnect();
    errors.push(await rejection(client.set('key', 'value')));
    for (const error of errors) {
      const problem = redisUnavailable(error);
      expect(problem?.code, error.message).toBe('SERVICE_UNAVAILABLE');
      expect(problem?.extra.headers?.['Retry-After']).toMatch(/^\d+$/);
      // Nothing of the client's message reaches the client of the API.
      expect(problem?.detail).not.toContain(error.message);
    }
  });

  it.each([
    ['a command past its timeout', new Error('Command timed out')],
    [
      'a command queued through too many reconnections',
      Object.assign(new Error('Reached the max retries per request limit (which is 2).'), { name: 'MaxRetriesPerRequestError' }),
    ],
    ['a pipeline cut by a closed connection', new Error('Command aborted due to connection close')],
    ['a server loading its data', new ReplyError('LOADING Redis is loading the dataset in memory')],
    ['a replica in the middle of a failover', new ReplyError("READONLY You can't write against a read only replica.")],
    ['wrapped in a cause', new Error('claiming the key failed', { cause: new Error('Command timed out') })],
  ])('%s: 503', (_what, error) => {
    expect(redisUnavailable(error)?.code).toBe('SERVICE_UNAVAILABLE');
  });

  it.each([
    ['a wrong type (a bug)', new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value')],
    ['a syntax error', new ReplyError('ERR syntax error')],
    ['a request aborted elsewhere', new DOMException('The operation was aborted', 'AbortError')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['not an error at all', 'Command timed out'],
  ])('%s: not an outage (stays a 500)', (_what, error) => {
    expect(redisUnavailable(error)).toBeUndefined();
  });
});
