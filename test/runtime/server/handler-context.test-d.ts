/**
 * Type-level checks, compiled by `npm run typecheck` (tsc): each `@ts-expect-error` fails the
 * build if the error it expects stops happening.
 */
import type { HandlerFor } from '../../../runtime/server';
import type { getItem } from './fixture-contracts';

/** Services of any other name are fine. */
export type WithServices = HandlerFor<typeof getItem, { db: { find(id: number): unknown }; clock: () => Date }>;

// @ts-expect-error a service named `user` would be shadowed by the caller on the handler context
export type ServiceNamedUser = HandlerFor<typeof getItem, { user: string }>;
// @ts-expect-error a service named `log` would be shadowed by the request log
export type ServiceNamedLog = HandlerFor<typeof getItem, { log: string }>;
// @ts-expect-error a service named `requestId` would be shadowed by the request id
export type ServiceNamedRequestId = HandlerFor<typeof getItem, { requestId: number }>;
