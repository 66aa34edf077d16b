import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../runtime/server';
import { ConfigSchema, logFormat, metricsOnApiPort, s3Location } from '../../server/config';

/** The configuration of `npm start`: every bad value stops the process with a message naming it. */
const load = (env: Record<string, string>) => loadConfig(ConfigSchema, env);
const refusal = (env: Record<string, string>) => {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
};

describe('TRUST_PROXY', () => {
  it("accepts a hop count or the proxies' addresses: IPs, CIDR ranges and the named ranges", () => {
    expect(load({}).TRUST_PROXY).toBeUndefined();
    expect(load({ TRUST_PROXY: '' }).TRUST_PROXY).toBeUndefined();
    expect(load({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(load({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(load({ TRUST_PROXY: 'loopback' }).TRUST_PROXY).toEqual(['loopback']);
    expect(load({ TRUST_PROXY: 'loopback, linklocal,uniquelocal' }).TRUST_PROXY).toEqual(['loopback', 'linklocal', 'uniquelocal']);
    expect(load({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.20, fd00::/8, ::1' }).TRUST_PROXY).toEqual([
      '10.0.0.0/8',
      '192.168.1.20',
      'fd00::/8',
      '::1',
    ]);
  });

  it('refuses "true" (any X-Forwarded-For would be believed), naming the variable and what to give instead', () => {
    const message = refusal({ TRUST_PROXY: 'true' });
    expect(message).toContain('TRUST_PROXY: "true" is not accepted');
    expect(message).toContain('hop count');
    expect(message).toContain('loopback');
    for (const value of ['TRUE', 'false', 'yes', '*', 'all'])
      expect(refusal({ TRUST_PROXY: value })).toContain(`TRUST_PROXY: "${value}" is not accepted`);
  });

  it('refuses an entry that is no address, range or named range', () => {
    expect(refusal({ TRUST_PROXY: 'loopback, 10.0.0.300' })).toContain('TRUST_PROXY: "10.0.0.300" is neither an IP address');
    expect(refusal({ TRUST_PROXY: 'localhost' })).toContain('TRUST_PROXY: "localhost"');
    expect(refusal({ TRUST_PROXY: '10.0.0.0/40' })).toContain('TRUST_PROXY: "10.0.0.0/40"');
    expect(refusal({ TRUST_PROXY: 'loopback,,10.0.0.1' })).toContain('TRUST_PROXY: "loopback,,10.0.0.1" has an empty entry');
  });
});

describe('metrics', () => {
  it('are served on the API port only behind a token, and never there when they have a port of their own', () => {
    const token = 'a'.repeat(32);
    expect(metricsOnApiPort(load({}))).toBe('off');
    expect(metricsOnApiPort(load({ METRICS_TOKEN: token }))).toEqual({ token });
    expect(metricsOnApiPort(load({ METRICS_PORT: '9464' }))).toBe('off');
    expect(metricsOnApiPort(load({ METRICS_PORT: '9464', METRICS_TOKEN: token }))).toBe('off');
    expect(load({ METRICS_PORT: '' }).METRICS_PORT).toBeUndefined();
  });

  it('refuses a short token, a bad port, and the API port', () => {
    expect(refusal({ METRICS_TOKEN: 'short' })).toContain('METRICS_TOKEN: must be at least 32 characters');
    expect(refusal({ METRICS_PORT: 'ninety' })).toMatch(/METRICS_PORT: .*number/i);
    expect(refusal({ METRICS_PORT: '3000' })).toContain('METRICS_PORT: must differ from PORT');
  });
});

describe('REDIS_PREFIX', () => {
  it('defaults to mt: and takes another', () => {
    expect(load({}).REDIS_PREFIX).toBe('mt:');
    expect(load({ REDIS_PREFIX: 'mt-staging:' }).REDIS_PREFIX).toBe('mt-staging:');
  });

  it('refuses an empty, spaced or overlong prefix', () => {
    for (const value of ['', 'with space:', 'x'.repeat(65)])
      expect(refusal({ REDIS_PREFIX: value })).toContain('REDIS_PREFIX: must be 1 to 64 printable ASCII characters');
  });
});

describe('HTTP timeouts and the connection cap', () => {
  it('have defaults a real client never meets, and can be changed', () => {
    expect(load({})).toMatchObject({
      HTTP_HEADERS_TIMEOUT_MS: 10_000,
      HTTP_REQUEST_TIMEOUT_MS: 30_000,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 5_000,
      HTTP_MAX_CONNECTIONS_PER_ADDRESS: 256,
    });
    expect(load({ HTTP_REQUEST_TIMEOUT_MS: '120000', HTTP_MAX_CONNECTIONS_PER_ADDRESS: '0' })).toMatchObject({
      HTTP_REQUEST_TIMEOUT_MS: 120_000,
      HTTP_MAX_CONNECTIONS_PER_ADDRESS: 0,
    });
  });

  it('refuses a header timeout longer than the request timeout, and values below a second', () => {
    expect(refusal({ HTTP_HEADERS_TIMEOUT_MS: '40000' })).toContain(
      'HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (30000)',
    );
    expect(refusal({ HTTP_REQUEST_TIMEOUT_MS: '10' })).toContain('HTTP_REQUEST_TIMEOUT_MS');
  });
});

describe('S3 storage', () => {
  it('is off without S3_BUCKET; on, path-style by default with an endpoint, keys given in pairs', () => {
    expect(s3Location(load({}))).toBeUndefined();
    expect(s3Location(load({ S3_BUCKET: 'mundo-media' }))).toEqual({ bucket: 'mundo-media', region: 'us-east-1', forcePathStyle: false });
    expect(
      s3Location(
        load({ S3_BUCKET: 'mundo-media', S3_ENDPOINT: 'http://minio:9000', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' }),
      ),
    ).toEqual({
      bucket: 'mundo-media',
      region: 'us-east-1',
      endpoint: 'http://minio:9000',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      forcePathStyle: true,
    });
    expect(refusal({ S3_BUCKET: 'mundo-media', S3_ACCESS_KEY_ID: 'id' })).toContain('S3_SECRET_ACCESS_KEY');
    expect(refusal({ S3_BUCKET: 'Mundo_Media' })).toContain('S3_BUCKET');
  });
});

describe('LOG_FORMAT', () => {
  it('is readable lines for a developer at a terminal, JSON wherever logs are collected, or what LOG_FORMAT says', () => {
    expect(logFormat(load({ NODE_ENV: 'development' }), true)).toBe('pretty');
    expect(logFormat(load({ NODE_ENV: 'development' }), false)).toBe('json');
    expect(logFormat(load({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }), true)).toBe('json');
    expect(logFormat(load({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), LOG_FORMAT: 'pretty' }), false)).toBe('pretty');
    expect(logFormat(load({ NODE_ENV: 'development', LOG_FORMAT: 'json' }), true)).toBe('json');
    expect(refusal({ LOG_FORMAT: 'xml' })).toMatch(/LOG_FORMAT/);
  });
});

describe('DB_QUERY_TIMEOUT_MS', () => {
  it('is 10 s by default, 0 turns it off (for PgBouncer), and a value between is refused', () => {
    expect(load({}).DB_QUERY_TIMEOUT_MS).toBe(10_000);
    expect(load({ DB_QUERY_TIMEOUT_MS: '0' }).DB_QUERY_TIMEOUT_MS).toBe(0);
    expect(refusal({ DB_QUERY_TIMEOUT_MS: '50' })).toMatch(/DB_QUERY_TIMEOUT_MS: must be 0 \(no timeout\) or at least 100/);
  });
});
