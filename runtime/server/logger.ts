import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * JSON-lines logs through pino. Nothing that could hold a secret is logged by the runtime
 * (no headers, bodies or query strings); the redaction below guards what handlers add, and errors
 * go through `serializeError`, which keeps what explains a failure and drops what a query carried.
 */
export function createLogger(options: {
  level: string;
  /** Names the service on every line (`service`), for logs gathered from several. */
  service?: string;
  destination?: DestinationStream;
  /**
   * `json` (the default): one JSON object per line, for log tools. `pretty`: one readable line per
   * entry (time, level, message, then the fields), for a person at a terminal.
   */
  format?: 'json' | 'pretty';
}): Logger {
  return pino(
    {
      level: options.level,
      base: options.service ? { service: options.service } : {},
      timestamp: pino.stdTimeFunctions.isoTime,
      // `"level":"warn"`, not 40: read by people and by log tools alike.
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['password', '*.password', 'token', '*.token', 'refreshToken', '*.refreshToken', 'authorization', '*.authorization'],
        censor: '[redacted]',
      },
      serializers: { err: serializeError, error: serializeError },
      hooks: {
        // `log.error(err)` and `log.error({ err })` make the error's own message the line's `msg`;
        // it must be the cleaned one.
        logMethod(args, method) {
          const [first, second] = args as unknown[];
          if (typeof second !== 'string') {
            const error = first instanceof Error ? first : (first as { err?: unknown } | null)?.err;
            if (isErrorLike(error)) {
              const rest = args.slice(1) as unknown[];
              return method.apply(this, [first, cleanMessage(error), ...rest] as unknown as Parameters<typeof method>);
            }
          }
          return method.apply(this, args);
        },
        // The last guard: a query's parameters pasted into some text (a driver's message copied
        // into a log line by hand) never reach the output.
        streamWrite: (line) => (line.includes('params: ') ? line.replace(PARAMS_IN_JSON, '$1[redacted]') : line),
      },
    },
    // Lines gathered into writes of 4 KiB or more (one write per request was a tenth of the access
    // log's cost under load), and written at least every 250 ms when traffic is light; pino flushes
    // what is left when the process exits.
    options.destination ??
      (options.format === 'pretty'
        ? pretty({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' })
        : pino.destination({ sync: false, minLength: 4096, periodicFlush: 250 })),
  );
}

/** Keys whose values are the data a failed operation carried: query parameters, commands' arguments, bodies. */
const DROPPED_KEYS = new Set([
  'params',
  'parameters',
  'values',
  'binds',
  'bindings',
  'args',
  'arguments',
  'queryOptions',
  'body',
  'data',
  'headers',
  'config',
  'request',
  'response',
  'row',
  'rows',
]);

/** Keys that name a secret, whatever shape their value has. */
const SECRET_KEY = /pass(word|phrase)?|secret|token|hash|authorization|cookie|credential|api[-_]?key|private[-_]?key|signature|otp|mfa/i;

/** Fields the serializer writes itself. */
const OWN_KEYS = new Set(['type', 'message', 'stack', 'cause', 'errors', 'name']);

const MAX_DEPTH = 4;
const MAX_ITEMS = 20;

/** `\nparams: …` inside a JSON string (up to its closing quote or the next stack frame). */
const PARAMS_IN_JSON = /(\\nparams: )(?:[^"\\]|\\(?!n {4}at )[\s\S])*/g;

type ErrorLike = { message: string; stack?: unknown; name?: unknown; constructor?: unknown } & Record<string, unknown>;

function isErrorLike(value: unknown): value is ErrorLike {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/**
 * An error as a log field: type, message, stack, the fields that say what went wrong (a database
 * error's code, constraint, table, …) and its causes, each cleaned the same way. Query parameters
 * (`params`, `parameters`, a query object's `values`), commands' arguments and fields named like
 * secrets are dropped wherever they sit; a driver's message or stack that quotes the parameters
 * (Drizzle's "Failed query: … params: …") and a row a constraint quotes in `detail` are cut.
 */
export function serializeError(error: unknown): unknown {
  return isErrorLike(error) ? serializeErrorLike(error, new Set(), 0) : error;
}

function serializeErrorLike(error: ErrorLike, seen: Set<unknown>, depth: number): Record<string, unknown> {
  seen.add(error);
  const out: Record<string, unknown> = {
    type: typeof error.constructor === 'function' && error.constructor.name !== 'Object' ? error.constructor.name : (error.name ?? 'Error'),
  };
  const message = cleanMessage(error);
  out.message = message;
  if (typeof error.stack === 'string') out.stack = cleanText(error.stack.replace(error.message, message), error);
  for (const key of Object.keys(error)) {
    if (OWN_KEYS.has(key) || DROPPED_KEYS.has(key) || SECRET_KEY.test(key)) continue;
    const value = key === 'detail' && typeof error[key] === 'string' ? cleanDetail(error[key]) : clean(error[key], seen, depth + 1, key);
    if (value !== undefined) out[key] = value;
  }
  if (Array.isArray(error.errors)) out.errors = clean(error.errors, seen, depth + 1, 'errors');
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && depth < MAX_DEPTH)
    out.cause = isErrorLike(cause)
      ? seen.has(cause)
        ? '[circular]'
        : serializeErrorLike(cause, seen, depth + 1)
      : clean(cause, seen, depth + 1, 'cause');
  return out;
}

function clean(value: unknown, seen: Set<unknown>, depth: number, key: string): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
  if (seen.has(value)) return '[circular]';
  if (depth > MAX_DEPTH) return '[…]';
  if (isErrorLike(value)) return serializeErrorLike(value, seen, depth);
  if (value instanceof Date) return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${(value as ArrayBuffer).byteLength} bytes]`;
  seen.add(value);
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((item) => clean(item, seen, depth + 1, key));
  // A query given as an object (`{ text, values }`, `{ sql, params }`): the statement only.
  if (key === 'query') {
    const text = (value as { text?: unknown; sql?: unknown }).text ?? (value as { sql?: unknown }).sql;
    return typeof text === 'string' ? { text } : undefined;
  }
  const out: Record<string, unknown> = {};
  for (const [name, inner] of Object.entries(value)) {
    if (DROPPED_KEYS.has(name) || SECRET_KEY.test(name)) continue;
    const cleaned = clean(inner, seen, depth + 1, name);
    if (cleaned !== undefined) out[name] = cleaned;
  }
  return out;
}

/** The error's message without the parameters a driver pasted into it. */
function cleanMessage(error: ErrorLike): string {
  let message = cleanText(error.message, error);
  // PostgreSQL quotes the offending input at the end of a type error: `invalid input syntax for type uuid: "…"`.
  if (typeof error.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code) && error.severity !== undefined) {
    message = message.replace(/: ".*"$/s, ': "[redacted]"');
  }
  return message;
}

function cleanText(text: string, error: ErrorLike): string {
  const params = (error as { params?: unknown }).params;
  // Drizzle: `Failed query: <sql>\nparams: <params joined by commas>`; cut exactly what it pasted.
  if (params !== undefined && params !== null) {
    const pasted = `\nparams: ${String(params)}`;
    if (pasted.length > '\nparams: '.length) text = text.split(pasted).join('\nparams: [redacted]');
  }
  return text.replace(/^(params: )(?!\[redacted\]$).*$/gm, '$1[redacted]');
}

/** A constraint's `detail` names the columns; the values it quotes (a whole row, a key) go. */
function cleanDetail(detail: string): string {
  return detail
    .replace(/^Failing row contains \(.*\)\.?$/s, 'Failing row contains (…).')
    .replace(/(Key \([^)]*\))=\(.*?\)(?= already exists| is not present| is still referenced| conflicts with|\.?$)/gs, '$1=(…)')
    .replace(/(conflicts with existing key \([^)]*\))=\(.*\)/s, '$1=(…)');
}
