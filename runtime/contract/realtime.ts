import { z } from 'zod';
import type { RateLimit } from './endpoint';

/**
 * Real-time events as contracts, like endpoints: what a client may send (with the reply it gets,
 * its "ack") and what the server pushes. The generator turns them into an AsyncAPI 3.0 document
 * and a typed real-time client; the runtime validates every inbound payload against them.
 */
export interface ClientEventDefinition {
  /** Event name on the wire, `domain:verb`: `message:send`. */
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly payload: z.ZodType;
  /** `data` of a successful acknowledgement. */
  readonly ack: z.ZodType;
  /** Domain error codes the ack can carry; the runtime adds VALIDATION_FAILED and INTERNAL (and RATE_LIMITED with a limit). */
  readonly errors?: readonly string[];
  /**
   * Limits like an endpoint's; a limit sharing its `name` with an endpoint's shares its counter.
   * Without one, the event gets DEFAULT_EVENT_RATE_LIMIT: no client event goes unthrottled.
   */
  readonly rateLimit?: RateLimit | readonly RateLimit[];
}

export interface ServerEventDefinition {
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly payload: z.ZodType;
}

export type ClientEvent<D extends ClientEventDefinition = ClientEventDefinition> = D & {
  readonly kind: 'client-event';
  readonly rateLimit: RateLimit | readonly RateLimit[];
};
export type ServerEvent<D extends ServerEventDefinition = ServerEventDefinition> = D & { readonly kind: 'server-event' };

/**
 * The limit of a client event that states none, per user (all their devices together): far above
 * what an app sends, far below a flood. Unnamed, so each event counts on its own.
 */
export const DEFAULT_EVENT_RATE_LIMIT: RateLimit = { points: 120, windowSeconds: 60, key: 'user' };

export function clientEvent<const D extends ClientEventDefinition>(definition: D): ClientEvent<D> {
  return { ...definition, rateLimit: definition.rateLimit ?? DEFAULT_EVENT_RATE_LIMIT, kind: 'client-event' };
}

export function serverEvent<const D extends ServerEventDefinition>(definition: D): ServerEvent<D> {
  return { ...definition, kind: 'server-event' };
}

export function isClientEvent(value: unknown): value is ClientEvent {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'client-event';
}

export function isServerEvent(value: unknown): value is ServerEvent {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'server-event';
}

/** Every acknowledgement has this shape: the data, or a problem with a stable code. */
export type Ack<T> =
  | { ok: true; data: T }
  | { ok: false; error: { code: string; message: string; errors?: { path: string; code: string; message: string }[] } };

export const EVENT_NAME = /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/;

const Room = z
  .string()
  .regex(/^[a-z]+:[A-Za-z0-9-]{1,100}$/)
  .max(110)
  .meta({
    description: 'Room name, `kind:id`: user:{id}, conversation:{id}, group:{id}, event:{id}',
    example: 'conversation:0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d',
  });

/** Rooms are built into the runtime; contracts export these so they are documented and typed. */
export const joinRoom = clientEvent({
  name: 'room:join',
  summary: 'Join a room',
  description: 'Only where you may be: your own user room, conversations you are a member of, …',
  payload: z.object({ room: Room }),
  ack: z.object({ room: Room }),
  errors: ['FORBIDDEN'],
});

export const leaveRoom = clientEvent({
  name: 'room:leave',
  summary: 'Leave a room',
  payload: z.object({ room: Room }),
  ack: z.object({ room: Room }),
});

export const roomMembers = clientEvent({
  name: 'room:members',
  summary: 'Who is in a room',
  description:
    'The users with at least one device in the room, on any instance, of those whose presence you may see ' +
    '(yourself included). Rooms whose members are not to be listed answer FORBIDDEN.',
  payload: z.object({ room: Room }),
  ack: z.object({ room: Room, userIds: z.array(z.string().max(100)).max(10_000) }),
  errors: ['FORBIDDEN'],
});

/**
 * Sent when the socket's access token expires, just before the server closes the connection: the
 * client refreshes the token and connects again (the generated client does, and rejoins its rooms).
 */
export const tokenExpired = serverEvent({
  name: 'token:expired',
  summary: 'Your access token expired: the server closes this connection',
  description:
    'Sent at the token’s `exp`, right before the server disconnects the socket. Refresh the access token ' +
    'and connect again; the generated client does both by itself and joins its rooms again.',
  payload: z.object({ code: z.literal('TOKEN_EXPIRED'), message: z.string().max(200) }),
});

/** Events the runtime serves or sends itself; contracts export them so they are documented and typed. */
export const BUILT_IN_EVENTS: ReadonlySet<string> = new Set([joinRoom.name, leaveRoom.name, roomMembers.name, tokenExpired.name]);
