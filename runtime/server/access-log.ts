import pino, { type Logger } from 'pino';

/** One access-log line's fields: only what the runtime sets (no headers, bodies or queries). */
export interface AccessFields {
  reqId: string;
  /** The request span's trace id while tracing is on: the line and the trace find each other. */
  traceId?: string;
  method: string;
  /** The contract route, or undefined when none matched (the path is logged instead). */
  route: string | undefined;
  path: string | undefined;
  status: number;
  durationMs: number;
  /** The problem's code when the answer is one: a 4xx says why in the log too. */
  problem?: string;
}

/**
 * Writes the access line straight to the logger's destination, as the line pino would write for
 * `log.info({ reqId, traceId, method, route, path, status, durationMs, problem }, 'request')` (its level, time,
 * bindings and message key), without the per-call work pino does for lines of any shape: the
 * argument hooks, the serializers and redaction (none apply to these fields) and the object it
 * builds. A request's line was a third of the runtime's own cost per request.
 */
export function createAccessLog(log: Logger): (fields: AccessFields) => void {
  const { streamSym, chindingsSym, timeSym, messageKeySym } = pino.symbols;
  const target = log as unknown as Record<symbol, unknown>;
  const stream = target[streamSym] as { write(line: string): unknown };
  // As the logger writes its level: a name (see createLogger's formatter).
  const level = JSON.stringify('info');
  const time = target[timeSym] as () => string;
  // The logger's bindings (`,"service":"…"`), fixed when it was made.
  const bindings = target[chindingsSym] as string;
  const message = `,${JSON.stringify(target[messageKeySym] as string)}:"request"}\n`;
  const head = `{"level":${level}`;
  return (fields) => {
    if (!log.isLevelEnabled('info')) return;
    const where =
      fields.route === undefined ? `"route":"unmatched","path":${JSON.stringify(fields.path)}` : `"route":${JSON.stringify(fields.route)}`;
    const problem = fields.problem === undefined ? '' : `,"problem":${JSON.stringify(fields.problem)}`;
    // A valid trace id (traceIdOf checks it): 32 hex digits, nothing to escape.
    const traceId = fields.traceId === undefined ? '' : `,"traceId":"${fields.traceId}"`;
    stream.write(
      `${head}${time()}${bindings},"reqId":${JSON.stringify(fields.reqId)}${traceId},"method":${JSON.stringify(fields.method)},${where},"status":${fields.status}${problem},"durationMs":${Math.round(fields.durationMs * 100) / 100}${message}`,
    );
  };
}
