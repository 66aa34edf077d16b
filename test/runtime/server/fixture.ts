/**
 * A small fixture API for the HTTP tests of the generic runtime: its own contracts (not the Mundo
 * Tango ones), handlers written here, and `createApp()` built with captured logs.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect } from 'vitest';
import type { z } from 'zod';
import type { Endpoint, PageKey } from '../../../runtime/contract';
import {
  domainErrors,
  type Item,
  getItem,
  deleteItem,
  createItem,
  listItems,
  whoAmI,
  adminStats,
  filterByTags,
  ping,
  limited,
  legacy,
  boom,
  broken,
  gone,
  unregistered,
  tenant,
  submitOnly,
  rawList,
  slow,
  issueSecret,
  tryCode,
} from './fixture-contracts';

import {
  ApiError,
  createApp,
  createLogger,
  createTokenSigner,
  type AppOptions,
  type AuthUser,
  type HandlerFor,
  type RouteDefinition,
} from '../../../runtime/server';

export const SECRET = new TextEncoder().encode('fixture-token-secret-of-at-least-32-bytes!');
export const CURSOR_SECRET = new TextEncoder().encode('fixture-cursor-secret-also-32-bytes-long!');
export const ISSUER = 'https://issuer.example.test';
export const AUDIENCE = 'fixture-api';
export const PROBLEM_BASE = 'https://example.test/problems';
export const ALLOWED_ORIGIN = 'https://app.example.test';
export const BODY_LIMIT = 1024;

export * from './fixture-contracts';

function route<E extends Endpoint>(e: E, handler: HandlerFor<E, object>): RouteDefinition {
  return { endpoint: e, handler };
}

/** Five rows in keyset order `(createdAt, id)`; `red` and `blue` tags for filters. */
const ROWS = [
  { id: 'a', tag: 'red', createdAt: '2026-01-01T00:00:00.000Z' },
  { id: 'b', tag: 'red', createdAt: '2026-01-02T00:00:00.000Z' },
  { id: 'c', tag: 'blue', createdAt: '2026-01-03T00:00:00.000Z' },
  { id: 'd', tag: 'red', createdAt: '2026-01-04T00:00:00.000Z' },
  { id: 'e', tag: 'red', createdAt: '2026-01-05T00:00:00.000Z' },
];

function keyAfter(row: (typeof ROWS)[number], after: PageKey | null): boolean {
  if (!after) return true;
  const t = Date.parse(row.createdAt);
  const a = after.createdAt.getTime();
  return t > a || (t === a && row.id > after.id);
}

export interface Probe {
  /** The last input and user each handler saw, by operationId. */
  inputs: Record<string, unknown>;
  /** How many times each handler ran, by operationId. */
  calls: Record<string, number>;
  users: Record<string, AuthUser | null>;
  /** Resolves the running /slow request; the handler signals `slowStarted` when it begins. */
  slowStarted: Promise<void>;
  slowDelayMs: number;
  slowFinishedAt: number | undefined;
}

export function createProbe(): Probe {
  return { inputs: {}, calls: {}, users: {}, slowStarted: Promise.resolve(), slowDelayMs: 300, slowFinishedAt: undefined };
}

export function fixtureRoutes(probe: Probe): RouteDefinition[] {
  let markSlowStarted: () => void = () => {};
  probe.slowStarted = new Promise<void>((resolve) => {
    markSlowStarted = resolve;
  });
  return [
    route(getItem, (input) => {
      probe.inputs.getItem = input;
      // Extra fields a data layer might hand back: the response schema must drop them.
      const row = {
        id: input.params.id * (input.query.scale ?? 1),
        title: `Item ${input.params.id}`,
        passwordHash: '$argon2id$v=19$secret',
        internalNote: 'x',
      };
      return row;
    }),
    route(deleteItem, (input) => {
      probe.inputs.deleteItem = input;
    }),
    route(createItem, (input) => {
      probe.inputs.createItem = input;
      probe.calls.createItem = (probe.calls.createItem ?? 0) + 1;
      return { id: 1, title: input.body.title };
    }),
    route(listItems, (input) => {
      probe.inputs.listItems = input;
      const rows = ROWS.filter((r) => (input.query.tag ? r.tag === input.query.tag : true)).filter((r) => keyAfter(r, input.page.after));
      const items = rows.slice(0, input.page.limit);
      const last = items[items.length - 1];
      const next = rows.length > items.length && last ? { createdAt: new Date(last.createdAt), id: last.id } : null;
      return { items, next };
    }),
    route(whoAmI, (_input, ctx) => {
      probe.users.whoAmI = ctx.user;
      return { id: ctx.user.id, roles: ctx.user.roles };
    }),
    route(adminStats, (_input, ctx) => {
      probe.users.adminStats = ctx.user;
      return { ok: true };
    }),
    route(filterByTags, ({ query }) => ({ tags: query.tags ?? [] })),
    route(ping, (_input, ctx) => {
      probe.users.ping = ctx.user;
      return { user: ctx.user?.id ?? null };
    }),
    route(limited, () => ({ ok: true })),
    route(legacy, () => ({ ok: true })),
    route(boom, () => {
      throw new Error('secret detail at /srv/app.ts');
    }),
    route(broken, () => ({ id: 'not-a-number', title: 42 }) as unknown as z.input<typeof Item>),
    route(gone, () => {
      throw new ApiError('ITEM_GONE', 'The item was archived');
    }),
    route(unregistered, () => {
      throw new ApiError('NOT_A_REGISTERED_CODE', 'internal detail that must not leak');
    }),
    route(tenant, (input) => ({ tenant: input.headers['x-tenant'] })),
    route(submitOnly, (input) => ({ n: input.body.n })),
    route(rawList, (input) => {
      probe.inputs.rawList = input;
      return { count: input.body.length };
    }),
    route(issueSecret, () => {
      probe.calls.issueSecret = (probe.calls.issueSecret ?? 0) + 1;
      return { secret: `secret-${probe.calls.issueSecret}` };
    }),
    route(tryCode, (input, ctx) => {
      probe.calls.tryCode = (probe.calls.tryCode ?? 0) + 1;
      if (input.body.code !== 'right') throw new ApiError('FORBIDDEN', 'Wrong code');
      return { sessionId: ctx.user.sessionId ?? null };
    }),
    route(slow, async () => {
      markSlowStarted();
      await new Promise((resolve) => setTimeout(resolve, probe.slowDelayMs));
      probe.slowFinishedAt = Date.now();
      return { done: true };
    }),
  ];
}

// ---- app -----------------------------------------------------------------------------------

/** Log lines the app wrote: parsed, and raw so tests can search the text for secrets. */
export function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { lines, raw, log: createLogger({ level: 'info', destination }) };
}

export function createFixture(overrides: Partial<AppOptions> = {}) {
  const probe = createProbe();
  const { lines, raw, log } = captureLog();
  const app = createApp({
    routes: fixtureRoutes(probe),
    services: {},
    api: { errors: domainErrors, problemBaseUrl: PROBLEM_BASE },
    openapi: { openapi: '3.1.0', info: { title: 't', version: '1' }, paths: {} },
    auth: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE },
    cursorSecret: CURSOR_SECRET,
    log,
    corsOrigins: [ALLOWED_ORIGIN],
    bodyLimitBytes: BODY_LIMIT,
    ...overrides,
  });
  const signer = createTokenSigner({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 900 });
  return {
    app,
    probe,
    log,
    logLines: lines,
    rawLog: raw,
    token: (sub = 'user-1', roles: string[] = ['user'], sid: string = randomUUID()) => signer.sign({ sub, roles, sid }),
    /** The access-log line of a request, once the response has closed on the server side. */
    accessLine: (reqId: string) => waitFor(() => lines.find((l) => l.msg === 'request' && l.reqId === reqId)),
  };
}

/** Polls until `get` returns something (the access log is written on the response's `close`). */
export async function waitFor<T>(get: () => T | undefined, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('waitFor: timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// ---- assertions ----------------------------------------------------------------------------

interface ResponseLike {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** Every non-2xx is an RFC 9457 problem with the standard members; returns the body. */
export function expectProblem(res: ResponseLike, status: number, code: string): Record<string, unknown> {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.body as Record<string, unknown>;
  expect(body).toMatchObject({
    type: `${PROBLEM_BASE}/${code.toLowerCase().replaceAll('_', '-')}`,
    title: expect.any(String),
    status,
    code,
    instance: expect.any(String),
    requestId: expect.any(String),
  });
  expect(body.requestId).toBe(res.headers['x-request-id']);
  expect(body).not.toHaveProperty('stack');
  return body;
}

export function errorPaths(body: Record<string, unknown>): string[] {
  return ((body.errors ?? []) as { path: string }[]).map((e) => e.path);
}

/** The app on an ephemeral port of 127.0.0.1 for a whole test file, for raw-socket requests. */
export function listenForFile(app: RequestListener): { port: number } {
  const listening = { port: 0 };
  let server: Server;
  beforeAll(async () => {
    server = createServer(app).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    listening.port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return listening;
}
