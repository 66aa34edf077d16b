import type { Logger } from 'pino';

/** Where unexpected errors go besides the log (an error tracker); `context` says where each happened. */
export type UnexpectedErrorHook = (
  error: unknown,
  context: { requestId?: string; method?: string; route?: string; event?: string; userId?: string },
) => void;

/** Calls the hook, never letting it break the answer or the process. */
export function report(
  hook: UnexpectedErrorHook | undefined,
  log: Logger,
  error: unknown,
  context: Parameters<UnexpectedErrorHook>[1],
): void {
  if (!hook) return;
  try {
    hook(error, context);
  } catch (failure) {
    log.warn({ err: failure }, 'the error-reporting hook failed');
  }
}
