import { describe, expect, it } from 'vitest';
import { databaseUnavailable } from '../../../server/db/outage';

/** Which errors are an outage (503 with Retry-After) and which stay a bug (500): seen end to end in test/server/faults/. */
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
/** As Drizzle throws them: its own error, the driver's as the cause. */
const wrapped = (cause: Error) => new Error('Failed query: select 1', { cause });

describe('databaseUnavailable', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset connection, wrapped by Drizzle', wrapped(withCode('read ECONNRESET', 'ECONNRESET'))],
    ['a server shutting down (57P01)', withCode('terminating connection due to administrator command', '57P01')],
    ['a server starting up (57P03)', withCode('the database system is starting up', '57P03')],
    ['no connection slot left (53300)', withCode('sorry, too many clients already', '53300')],
    ['a connection exception (08006)', withCode('connection failure', '08006')],
    ['no free pooled connection in time', new Error('timeout exceeded when trying to connect')],
    ['a query past its timeout, wrapped', wrapped(new Error('Query read timeout'))],
    ['a connection gone mid-query', new Error('Connection terminated unexpectedly')],
  ])('%s: 503 with Retry-After', (_what, error) => {
    const problem = databaseUnavailable(error);
    expect(problem?.code).toBe('SERVICE_UNAVAILABLE');
    expect(problem?.extra.headers?.['Retry-After']).toMatch(/^\d+$/);
    // Nothing of the driver's message reaches the client.
    expect(problem?.detail).not.toContain(error.message);
  });

  it.each([
    ['a unique violation (23505)', wrapped(withCode('duplicate key value violates unique constraint', '23505'))],
    ['a syntax error (42601)', withCode('syntax error at or near "SELEC"', '42601')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['not an error at all', 'ECONNREFUSED'],
  ])('%s: not an outage (stays a 500)', (_what, error) => {
    expect(databaseUnavailable(error)).toBeUndefined();
  });
});
