import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';

/** What the runtime knows of a request from its first middleware on. */
export interface RequestState {
  id: string;
  startedAt: bigint;
  /** The contract path that matched (`/api/v1/events/{eventId}`), for logs and metrics. */
  route: string | undefined;
  /** Set when Express serves the request or a file is streamed: its log line is then written when the response closes. */
  viaExpress: boolean;
  /** The problem's code when the answer is one (`VALIDATION_FAILED`), for the access log. */
  problem: string | undefined;
  /** The contract request's span while tracing is on (a provider is registered); ended with the response. */
  span: Span | undefined;
}

const STATE = Symbol('contract-kit.requestState');
const WELL_FORMED_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function startRequest(req: IncomingMessage): RequestState {
  const given = req.headers['x-request-id'];
  const state: RequestState = {
    id: typeof given === 'string' && WELL_FORMED_ID.test(given) ? given : randomUUID(),
    startedAt: process.hrtime.bigint(),
    route: undefined,
    viaExpress: false,
    problem: undefined,
    span: undefined,
  };
  (req as unknown as Record<symbol, RequestState>)[STATE] = state;
  return state;
}

export function requestState(req: IncomingMessage): RequestState {
  return (req as unknown as Record<symbol, RequestState | undefined>)[STATE] ?? startRequest(req);
}

/** The path the client asked for, without the query (Express rewrites `req.url` inside mounted apps). */
export function requestPath(req: IncomingMessage): string {
  return ((req as { originalUrl?: string }).originalUrl ?? req.url ?? '/').split('?', 1)[0]!;
}

export function elapsedMs(state: RequestState): number {
  return Number(process.hrtime.bigint() - state.startedAt) / 1e6;
}
