import { type Attributes, context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { activeTracer } from '../../runtime/server/tracing';

/**
 * A span for each query Drizzle sends, while tracing is on and the query is part of something
 * traced (a request, a socket event): background jobs add no traces of their own. The span holds
 * the statement's text but never its parameters. The text holds no value a client sent: Drizzle
 * sends every value as a parameter (`$1`), and the `sql.raw` fragments of the services are
 * identifiers and constants of the code. It is cut at MAX_TEXT characters all the same.
 */
export type Query = (text: unknown, params?: unknown, options?: unknown) => Promise<unknown>;

const MAX_TEXT = 2048;
/** The statement's first keyword: SELECT, INSERT, WITH, BEGIN… */
const FIRST_WORD = /^\s*([A-Za-z]+)/;

/** `query` with a span per call; `server` is what every span says of the database (its address, its name). */
export function tracedQuery(query: Query, server: Attributes): Query {
  return (text, params, options) => {
    const tracer = activeTracer();
    const parent = tracer && context.active();
    if (!tracer || !trace.getSpan(parent!)) return query(text, params, options);
    const statement = typeof text === 'string' ? text : String((text as { text?: unknown }).text ?? '');
    const operation = FIRST_WORD.exec(statement)?.[1]?.toUpperCase() ?? 'QUERY';
    const span = tracer.startSpan(
      operation,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system.name': 'postgresql',
          'db.operation.name': operation,
          'db.query.text': statement.length > MAX_TEXT ? `${statement.slice(0, MAX_TEXT)}…` : statement,
          ...server,
        },
      },
      parent,
    );
    return query(text, params, options).then(
      (result) => {
        span.end();
        return result;
      },
      (error: unknown) => {
        // The code (SQLSTATE), never the message: PostgreSQL quotes the offending value in it.
        const code = (error as { code?: unknown } | null)?.code;
        const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
        if (sqlState) span.setAttribute('db.response.status_code', sqlState);
        span.setAttribute('error.type', sqlState ?? (error instanceof Error ? error.constructor.name : 'Error'));
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        throw error;
      },
    );
  };
}
