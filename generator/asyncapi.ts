import { z } from 'zod';
import {
  rateLimitsOf,
  type ApiDefinition,
  type ClientEvent,
  type EventEntry,
  type LimitKey,
  type ServerEvent,
} from '@contract-kit/runtime/contract';

/**
 * The AsyncAPI 3.0 document of the real-time events. One channel (the Socket.IO endpoint); each
 * client event is an operation the server receives, with its ack as the reply; each server event
 * an operation the server sends. Named schemas (`.meta({ id })`) become shared components. Each
 * client event's rate limit is stated in its description, as the OpenAPI document states an
 * endpoint's.
 */
export function buildAsyncApi(api: ApiDefinition, events: EventEntry[]): Record<string, unknown> | undefined {
  if (!api.realtime || events.length === 0) return undefined;
  const schemas: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const channelMessages: Record<string, unknown> = {};
  const message = (name: string, title: string, summary: string, schema: z.ZodType, io: 'input' | 'output') => {
    messages[name] = { name, title, summary, contentType: 'application/json', payload: jsonSchema(schema, io, schemas) };
    channelMessages[name] = { $ref: `#/components/messages/${name}` };
    return { $ref: `#/channels/realtime/messages/${name}` };
  };

  for (const { exportName, event } of events) {
    const id = messageId(event.name);
    if (event.kind === 'client-event') {
      const e = event as ClientEvent;
      const request = message(id, e.name, e.summary, e.payload, 'input');
      const reply = message(
        `${id}.ack`,
        `${e.name} ack`,
        `Acknowledgement of ${e.name}: { ok: true, data } or { ok: false, error }`,
        ackSchema(e),
        'output',
      );
      operations[exportName] = {
        action: 'receive',
        channel: { $ref: '#/channels/realtime' },
        summary: e.summary,
        description: [e.description ?? e.summary, ...rateLimitsOf(e).map(describeLimit)].join('\n\n'),
        messages: [request],
        reply: { channel: { $ref: '#/channels/realtime' }, messages: [reply] },
      };
    } else {
      const e = event as ServerEvent;
      operations[exportName] = {
        action: 'send',
        channel: { $ref: '#/channels/realtime' },
        summary: e.summary,
        ...(e.description ? { description: e.description } : {}),
        messages: [message(id, e.name, e.summary, e.payload, 'output')],
      };
    }
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: `${api.info.title} — real time`,
      version: api.info.version,
      description: api.realtime.description,
      license: { name: api.info.license.name },
    },
    defaultContentType: 'application/json',
    servers: {
      api: {
        host: 'localhost:3000',
        protocol: 'ws',
        pathname: api.realtime.path,
        description:
          'Socket.IO (Engine.IO v4, WebSocket transport); authenticate with `auth: { token: <access token> }`. ' +
          'A refused handshake’s `connect_error` carries `data: { code, message }`: `UNAUTHENTICATED`; ' +
          '`TOKEN_EXPIRED` (refresh the token, then connect again); `TOO_MANY_CONNECTIONS` (sockets are ' +
          'capped per user and per client address). A connection lasts as long as its access token: at ' +
          'the token’s `exp` the server sends `token:expired` and disconnects; connect again with a fresh token.',
      },
    },
    channels: { realtime: { address: api.realtime.path, messages: channelMessages } },
    operations,
    components: { messages, schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))) },
  };
}

function describeLimit(limit: {
  points: number;
  windowSeconds: number;
  key: LimitKey | readonly LimitKey[];
  failuresOnly?: boolean;
}): string {
  const names: Record<string, string> = { ip: 'client address', user: 'user' };
  const key = (typeof limit.key === 'string' ? [limit.key] : limit.key).map((part) => names[part] ?? `\`${part.slice(5)}\``).join(' and ');
  const what = limit.failuresOnly ? 'failed events' : 'events';
  return `Rate limit: ${limit.points} ${what} per ${limit.windowSeconds} s per ${key}${limit.failuresOnly ? '; a success resets the count' : ''}; over it, the ack is \`RATE_LIMITED\`.`;
}

/** The wire event name as a component key: `message:send` → `message.send`. */
function messageId(name: string): string {
  return name.replace(':', '.');
}

function ackSchema(event: ClientEvent): z.ZodType {
  return z.union([
    z.object({ ok: z.literal(true), data: event.ack }),
    z.object({
      ok: z.literal(false),
      error: z.object({
        code: z.enum([
          'VALIDATION_FAILED',
          'INTERNAL',
          ...(event.errors ?? []),
          ...(rateLimitsOf(event).length > 0 ? ['RATE_LIMITED'] : []),
        ] as [string, ...string[]]),
        message: z.string(),
        errors: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })).optional(),
      }),
    }),
  ]);
}

/** JSON Schema of a payload, with named schemas moved to components/schemas and referenced there. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output', shared: Record<string, unknown>): unknown {
  const {
    $defs,
    $schema: _dialect,
    ...root
  } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown> & {
    $defs?: Record<string, unknown>;
  };
  for (const [name, def] of Object.entries($defs ?? {})) shared[name] = rewriteRefs(def);
  return rewriteRefs(root);
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key,
      key === '$ref' && typeof child === 'string' ? child.replace('#/$defs/', '#/components/schemas/') : rewriteRefs(child),
    ]),
  );
}
