import { connect } from 'node:net';
import { describe, inject } from 'vitest';

/**
 * The PostgreSQL server and Redis the tests of those backends use. `npm test` runs them when they
 * are reachable and skips them, saying so, when the defaults are not; a URL set on purpose must work.
 */
export const services = {
  postgres: { label: 'PostgreSQL', variable: 'TEST_DATABASE_URL', fallback: 'postgres://postgres@127.0.0.1:5432/test' },
  redis: { label: 'Redis', variable: 'TEST_REDIS_URL', fallback: 'redis://127.0.0.1:6379' },
} as const;

export type Service = keyof typeof services;

export const serviceUrl = (service: Service): string => process.env[services[service].variable] || services[service].fallback;

/** Whether something answers on the service's host and port: a TCP connection within a few seconds. */
export function reachable(url: string, timeoutMs = 3000): Promise<string | null> {
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const defaultPort = url.startsWith('redis') ? 6379 : 5432;
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) || defaultPort, timeout: timeoutMs });
    const settle = (problem: string | null) => {
      socket.destroy();
      resolve(problem);
    };
    socket.once('connect', () => settle(null));
    socket.once('timeout', () => settle(`no answer within ${timeoutMs} ms`));
    socket.once('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
  });
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Files holding a new PGlite data directory and a migrated one (see test/support/global-setup.ts). */
    pgliteTemplates: { empty: string; migrated: string; emptyDir: string };
    /** A migrated PostgreSQL database new test databases are copied from; absent without PostgreSQL. */
    postgresTemplate: string | undefined;
    /** Names this run's PostgreSQL test databases (`test_<run>_…`), which its teardown drops. */
    testRun: string;
    /** Why each service's tests are skipped in this run; absent when it is reachable. */
    unavailable: Partial<Record<Service, string>>;
  }
}

/** Why tests needing these services are skipped in this run, or undefined when they all run. */
function skipReason(...needed: Service[]): string | undefined {
  const unavailable = inject('unavailable');
  const reasons = needed.flatMap((service) => (unavailable[service] ? [unavailable[service]] : []));
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

/** A suite of tests that need PostgreSQL and/or Redis; skipped, with the reason in its title, without them. */
export function describeWith(needed: Service[], title: string, suite: () => void): void {
  const reason = skipReason(...needed);
  describe.skipIf(reason !== undefined)(reason ? `${title} (skipped: ${reason})` : title, suite);
}
