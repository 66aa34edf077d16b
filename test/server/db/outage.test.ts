import { describe, expect, it } from 'vitest';
import { databaseUnavailable } from '../../../server/db/outage';

/** Which errors are an outage (503 with Retry-After) and which stay a 500: seen end to end in test/server/faults/. */
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
/** As Drizzle throws them: its own error (quoting the query and its parameters), the driver's as the cause. */
const wrapped = (cause: Error, params = '') => new Error(`Failed query: select $1\nparams: ${params}`, { cause });

const unreached: [string, unknown][] = [
  ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
  ['a server starting up (57P03)', withCode('the database system is starting up', '57P03')],
  ['no connection slot left (53300)', withCode('sorry, too many clients already', '53300')],
  ['a connection it could not make (08001)', withCode('could not connect', '08001')],
  ['no free pooled connection in time', new Error('timeout exceeded when trying to connect')],
];
const lost: [string, unknown][] = [
  ['a reset connection, wrapped by Drizzle', wrapped(withCode('read ECONNRESET', 'ECONNRESET'))],
  ['a server shutting down (57P01)', withCode('terminating connection due to administrator command', '57P01')],
  ['a connection failure (08006)', withCode('connection failure', '08006')],
  ['a query whose answer never came, wrapped', wrapped(new Error('Query read timeout'))],
  ['a connection gone mid-query', new Error('Connection terminated unexpectedly')],
];

describe('databaseUnavailable', () => {
  it.each(unreached)('%s: 503 with Retry-After, for reads and writes alike (nothing reached the database)', (_what, error) => {
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) {
      const problem = databaseUnavailable(error, method);
      expect(problem?.code).toBe('SERVICE_UNAVAILABLE');
      expect(problem?.extra.headers?.['Retry-After']).toMatch(/^\d+$/);
      expect(problem?.detail).not.toContain((error as Error).message);
    }
  });

  it.each(lost)('%s: 503 for a read; a write stays a 500 (it may have been committed: no retry)', (_what, error) => {
    expect(databaseUnavailable(error, 'GET')?.code).toBe('SERVICE_UNAVAILABLE');
    expect(databaseUnavailable(error, 'HEAD')?.code).toBe('SERVICE_UNAVAILABLE');
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) expect(databaseUnavailable(error, method)).toBeUndefined();
  });

  it.each([
    ['a unique violation (23505)', wrapped(withCode('duplicate key value violates unique constraint', '23505'))],
    ['a syntax error (42601)', withCode('syntax error at or near "SELEC"', '42601')],
    ['a protocol violation (08P01): a driver bug', withCode('bind message has 65536 parameter formats', '08P01')],
    // The words a user can put in a query's text or parameters decide nothing.
    [
      'bad input quoting the words of an outage (22P02)',
      wrapped(withCode('invalid input syntax for type uuid: "Connection terminated unexpectedly"', '22P02')),
    ],
    [
      'a wrapper whose parameters hold the words, over a division by zero',
      wrapped(withCode('division by zero', '22012'), 'timeout exceeded when trying to connect'),
    ],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['not an error at all', 'ECONNREFUSED'],
  ])('%s: not an outage (stays a 500)', (_what, error) => {
    expect(databaseUnavailable(error, 'GET')).toBeUndefined();
  });
});
