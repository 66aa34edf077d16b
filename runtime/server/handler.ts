import type { Logger } from 'pino';
import type { Endpoint, EndpointDefinition, HandlerInput, HandlerResult } from '../contract';
import type { AuthUser } from './auth';

/** Names the handler context gives its own fields: a service may not take them. */
export const RESERVED_CONTEXT_KEYS = ['user', 'requestId', 'log', 'client', 'precondition'] as const;
export type ReservedContextKey = (typeof RESERVED_CONTEXT_KEYS)[number];

/** The app's services as handlers see them; one named like a context field is a type error. */
export type ServiceMap = object & { readonly [K in ReservedContextKey]?: never };

/** What every handler gets beside its input and the caller: the app's services, the request id, the log. */
export type BaseContext<S extends ServiceMap> = S & {
  requestId: string;
  /** Lines carry the request id. */
  log: Logger;
  /** Who is calling from where: the client address (behind trusted proxies) and user agent. */
  client: { readonly ip: string; readonly userAgent: string | undefined };
};

/** A handler's context: the caller is known (not null) when the contract needs a signed-in user. */
export type RequestContext<E extends EndpointDefinition, S extends ServiceMap> = BaseContext<S> & {
  user: E['auth'] extends 'public' | 'optional' ? AuthUser | null : AuthUser;
} & (E['ifMatch'] extends true
    ? {
        /**
         * Throws 412 `PRECONDITION_FAILED` when the request's `If-Match` does not name the ETag of
         * `current` (the resource as its GET answers it, read under the write's lock); no header passes.
         */
        precondition(current: HandlerResult<E>): void;
      }
    : unknown);

/** The type a handler of contract E must have; the generated interfaces are made of these. */
export type HandlerFor<E extends EndpointDefinition, S extends ServiceMap> = (
  input: HandlerInput<E>,
  ctx: RequestContext<E, S>,
) => Promise<HandlerResult<E>> | HandlerResult<E>;

/** Routes whose handler is missing: found when the app is built, not at the first request. */
export class MissingHandlersError extends Error {
  override name = 'MissingHandlersError';
  constructor(readonly operationIds: string[]) {
    super(
      `No handler for ${operationIds.length} operation(s): ${operationIds.join(', ')}. Implement them (npm run generate -- --scaffold writes stubs).`,
    );
  }
}

/** One operation as the generated router hands it to `createApp`. */
export interface RouteDefinition {
  endpoint: Endpoint;
  // Erased on purpose: the generated code checks each handler against its contract.
  handler: (input: never, ctx: never) => unknown;
}
