import { ConfigError, type UnexpectedErrorHook } from '../runtime/server';
import type { Config } from './config';

/** Not a dependency of this project: a deployment that sets SENTRY_DSN installs it (`npm install @sentry/node`). */
const SENTRY_PACKAGE: string = '@sentry/node';

/** The part of @sentry/node used here. */
interface Sentry {
  init(options: Record<string, unknown>): unknown;
  captureException(error: unknown, hint: Record<string, unknown>): unknown;
}

/**
 * Where unexpected errors (500s, a real-time handler's crash, an uncaught exception) are sent
 * besides the log: Sentry when SENTRY_DSN is set, nowhere otherwise. Only what says where it
 * happened goes with the error (request id, route, event, user id); never a body, header or token
 * (`sendDefaultPii: false`). @sentry/node is loaded only then, so a deployment without it carries
 * none of its weight (about 90 MB with its dependencies).
 */
export async function errorReporter(
  config: Pick<Config, 'SENTRY_DSN' | 'NODE_ENV'>,
  load: () => Promise<unknown> = () => import(SENTRY_PACKAGE),
): Promise<UnexpectedErrorHook | undefined> {
  if (!config.SENTRY_DSN) return undefined;
  let sentry: Sentry;
  try {
    sentry = (await load()) as Sentry;
  } catch {
    throw new ConfigError('SENTRY_DSN is set, but @sentry/node is not installed: run `npm install @sentry/node` where the API is deployed');
  }
  sentry.init({ dsn: config.SENTRY_DSN, environment: config.NODE_ENV, sendDefaultPii: false, tracesSampleRate: 0 });
  return (error, { requestId, method, route, event, userId }) => {
    sentry.captureException(error, {
      tags: { ...(route ? { route } : {}), ...(method ? { method } : {}), ...(event ? { event } : {}) },
      extra: requestId ? { requestId } : {},
      ...(userId ? { user: { id: userId } } : {}),
    });
  };
}
