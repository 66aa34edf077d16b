import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { ApiClientError, createClient, type ApiClient, type ExportAuditLogItem, type GetEventErrorCode } from '../../generated/client';
import { serve, type Running } from '../../runtime/server';
import type { Database } from '../../server/db/database';
import { openServerDatabase } from '../support/database';
import { captureLog, createTestApp } from '../support/app';

/** The generated client against a real server on an ephemeral port. */
let database: Database;
let running: Running;
let api: ApiClient;
let anonymous: ApiClient;
let tokenForTests: () => Promise<string>;
let test: Awaited<ReturnType<typeof createTestApp>>;

const milonga = {
  title: 'Práctica La Viruta',
  kind: 'practica' as const,
  city: 'Buenos Aires',
  startsAt: '2026-12-05T23:00:00.000Z',
  endsAt: '2026-12-06T04:00:00.000Z',
};

beforeAll(async () => {
  database = await openServerDatabase();
  test = await createTestApp(database);
  running = await serve(test.app, { port: 0, host: '127.0.0.1', log: captureLog().log });
  const token = await test.token(randomUUID());
  tokenForTests = () => test.token(randomUUID());
  api = createClient({ baseUrl: running.url, tokens: { getAccessToken: () => token } });
  anonymous = createClient({ baseUrl: running.url });
});
afterAll(async () => {
  await running.shutdown();
  await database.close();
});

describe('generated client', () => {
  it('creates, reads, updates and deletes an event, unwrapping data', async () => {
    const created = await api.events.createEvent({ body: milonga });
    expectTypeOf(created.title).toEqualTypeOf<string>();
    expect(created).toMatchObject({ ...milonga, venue: null });

    expect(await anonymous.events.getEvent({ params: { eventId: created.id } })).toEqual(created);

    const updated = await api.events.updateEvent({ params: { eventId: created.id }, body: { venue: 'La Viruta' } });
    expect(updated.venue).toBe('La Viruta');

    expect(await api.events.deleteEvent({ params: { eventId: created.id } })).toBeUndefined();
    await expect(anonymous.events.getEvent({ params: { eventId: created.id } })).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('revalidates a cacheable GET with the ETag it holds: a 304 answers it, a change is read anew', async () => {
    const statuses: number[] = [];
    const recording: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      statuses.push(response.status);
      return response;
    };
    const token = await tokenForTests();
    const client = createClient({ baseUrl: running.url, fetch: recording, tokens: { getAccessToken: () => token } });
    const created = await client.events.createEvent({ body: milonga });
    statuses.length = 0;

    const first = await client.events.getEvent({ params: { eventId: created.id } });
    const again = await client.events.getEvent({ params: { eventId: created.id } });
    expect(again).toEqual(first);
    expect(statuses).toEqual([200, 304]);

    await client.events.updateEvent({ params: { eventId: created.id }, body: { venue: 'Salón Canning' } });
    expect((await client.events.getEvent({ params: { eventId: created.id } })).venue).toBe('Salón Canning');
    expect(statuses).toEqual([200, 304, 200, 200]);
  });

  it('iterates every item across pages with for await', async () => {
    const city = `Iter-${randomUUID().slice(0, 8)}`;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await api.events.createEvent({ body: { ...milonga, city } })).id);

    const seen: string[] = [];
    for await (const event of anonymous.events.listEvents.items({ query: { city, limit: 3 } })) seen.push(event.id);
    expect(seen).toEqual(ids);

    const sizes: number[] = [];
    for await (const page of anonymous.events.listEvents.pages({ query: { city, limit: 3 } })) sizes.push(page.data.length);
    expect(sizes).toEqual([3, 3, 1]);
  });

  it('rejects with one typed error class carrying status, code, request id and field errors', async () => {
    const error = await api.events.createEvent({ body: { ...milonga, endsAt: '2026-12-01T00:00:00.000Z' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiClientError);
    expect(api.events.createEvent.isError(error)).toBe(true);
    if (!api.events.createEvent.isError(error)) return;
    expect(error.status).toBe(400);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.problem?.errors?.[0]?.path).toBe('/body/endsAt');
  });

  it('says UNAUTHENTICATED when a signed-in operation is called without a token', async () => {
    await expect(anonymous.events.createEvent({ body: milonga })).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('types each operation error code as the union the contract declares', () => {
    // Signed in or not: a token it is sent may be refused (UNAUTHENTICATED, TOKEN_EXPIRED).
    expectTypeOf<GetEventErrorCode>().toEqualTypeOf<'VALIDATION_FAILED' | 'UNAUTHENTICATED' | 'TOKEN_EXPIRED' | 'NOT_FOUND' | 'INTERNAL'>();
    const check = (e: unknown) => {
      if (!api.events.getEvent.isError(e)) return;
      expectTypeOf(e.code).extract<'NOT_FOUND'>().toEqualTypeOf<'NOT_FOUND'>();
      // @ts-expect-error getEvent never answers USERNAME_TAKEN, so the comparison does not compile.
      return e.code === 'USERNAME_TAKEN';
    };
    expect(check(new Error('not an API error'))).toBeUndefined();
  });

  it('retries a create whose answer was lost, and the server stores it once (Idempotency-Key)', async () => {
    const city = `Lost-${randomUUID().slice(0, 8)}`;
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      // The first answer never reaches the client, as when a connection drops mid-response.
      if (++calls === 1) throw new TypeError('socket hang up');
      return response;
    };
    const token = await tokenForTests();
    const client = createClient({ baseUrl: running.url, fetch: flaky, tokens: { getAccessToken: () => token }, retry: { baseDelayMs: 1 } });
    const created = await client.events.createEvent({ body: { ...milonga, city }, idempotencyKey: randomUUID() });
    expect(calls).toBe(2);
    const stored = await anonymous.events.listEvents({ query: { city } });
    expect(stored.data.map((e) => e.id)).toEqual([created.id]);
  });

  it('reads health through the client', async () => {
    expect(await anonymous.health.getHealth()).toMatchObject({ status: 'ok', database: 'reachable' });
  });
});

describe('a stream answer', () => {
  it('is read item by item, typed, and can be left early (the audit log as NDJSON)', async () => {
    const admin = await test.services.userStore.create({
      username: `admin-${randomUUID().slice(0, 8)}`,
      displayName: 'Admin',
      passwordHash: 'not-a-real-hash',
      roles: ['user', 'admin'],
    });
    if (admin === 'taken') throw new Error('username collision');
    const targetId = randomUUID();
    for (const step of ['first', 'second', 'third']) {
      await test.services.admin.record({ actorId: admin.id, kind: 'role_granted', targetType: 'user', targetId, details: { step } });
      // A millisecond apart at least: entries of one millisecond are ordered by id.
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const token = await test.token(admin.id, ['user', 'admin']);
    const client = createClient({ baseUrl: running.url, tokens: { getAccessToken: () => token } });

    const steps: unknown[] = [];
    for await (const entry of await client.admin.exportAuditLog({ query: { targetId } })) {
      expectTypeOf(entry).toEqualTypeOf<ExportAuditLogItem>();
      expectTypeOf(entry.createdAt).toBeString();
      steps.push(entry.details.step);
    }
    // Latest first.
    expect(steps).toEqual(['third', 'second', 'first']);
    for await (const _ of await client.admin.exportAuditLog({ query: { targetId } })) break;
    // The caller's signal stops the reading too.
    const abort = new AbortController();
    const read: unknown[] = [];
    const stopped = (async () => {
      for await (const entry of await client.admin.exportAuditLog({ query: { targetId }, signal: abort.signal })) {
        read.push(entry);
        abort.abort();
      }
    })();
    await expect(stopped).rejects.toMatchObject({ code: 'ABORTED' });
    expect(read).toHaveLength(1);
    // A refusal is the usual typed error, before any item.
    await expect(api.admin.exportAuditLog()).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
  });
});
