import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAccessLog } from '../../../runtime/server/access-log';
import { createLogger } from '../../../runtime/server/logger';

function capture(level = 'info') {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString('utf8'));
      done();
    },
  });
  return { raw, log: createLogger({ level, service: 'svc', destination }) };
}

const withoutTime = (line: string) => line.replace(/"time":"[^"]*"/, '"time":"…"');

describe('the access log line', () => {
  it('is the line pino writes for the same fields, byte for byte but the time', () => {
    const { raw, log } = capture();
    const fields = { reqId: 'r-1', method: 'POST', route: '/api/v1/events', status: 201, durationMs: 1.23456 };
    createAccessLog(log)({ ...fields, path: undefined });
    log.info({ ...fields, path: undefined, durationMs: 1.23 }, 'request');
    expect(raw).toHaveLength(2);
    expect(withoutTime(raw[0]!)).toBe(withoutTime(raw[1]!));
    expect(JSON.parse(raw[0]!)).toMatchObject({ level: 'info', service: 'svc', route: '/api/v1/events', durationMs: 1.23, msg: 'request' });
  });

  it('says which problem a refused request got, as pino would write the field', () => {
    const { raw, log } = capture();
    const fields = { reqId: 'r-5', method: 'POST', route: '/api/v1/events', status: 400, problem: 'VALIDATION_FAILED', durationMs: 2 };
    createAccessLog(log)({ ...fields, path: undefined });
    log.info(
      { reqId: 'r-5', method: 'POST', route: '/api/v1/events', status: 400, problem: 'VALIDATION_FAILED', durationMs: 2 },
      'request',
    );
    expect(withoutTime(raw[0]!)).toBe(withoutTime(raw[1]!));
    expect(JSON.parse(raw[0]!)).toMatchObject({ level: 'info', status: 400, problem: 'VALIDATION_FAILED' });
  });

  it('carries the trace id after the request id while tracing is on, as pino would write the field', () => {
    const { raw, log } = capture();
    const fields = {
      reqId: 'r-6',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      method: 'GET',
      route: '/api/v1/events',
      status: 200,
      durationMs: 3,
    };
    createAccessLog(log)({ ...fields, path: undefined });
    log.info(fields, 'request');
    expect(withoutTime(raw[0]!)).toBe(withoutTime(raw[1]!));
    expect(JSON.parse(raw[0]!)).toMatchObject({ reqId: 'r-6', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
  });

  it('names an unmatched path, escaped as JSON', () => {
    const { raw, log } = capture();
    const path = '/nowhere/"quoted"\\and\u2028more';
    createAccessLog(log)({ reqId: 'r-2', method: 'GET', route: undefined, path, status: 404, durationMs: 0.5 });
    log.info({ reqId: 'r-2', method: 'GET', route: 'unmatched', path, status: 404, durationMs: 0.5 }, 'request');
    expect(withoutTime(raw[0]!)).toBe(withoutTime(raw[1]!));
    expect(JSON.parse(raw[0]!).path).toBe(path);
  });

  it('follows the logger level, also when it changes later', () => {
    const { raw, log } = capture('warn');
    const write = createAccessLog(log);
    write({ reqId: 'r-3', method: 'GET', route: '/x', path: undefined, status: 200, durationMs: 1 });
    expect(raw).toEqual([]);
    log.level = 'info';
    write({ reqId: 'r-4', method: 'GET', route: '/x', path: undefined, status: 200, durationMs: 1 });
    expect(raw).toHaveLength(1);
  });
});
