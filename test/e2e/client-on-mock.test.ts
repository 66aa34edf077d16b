import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api as contracts } from '../../contracts';
import { AuthSession } from '../../contracts/auth';
import { Event, getEvent } from '../../contracts/events';
import { createClient, type ApiClient } from '../../generated/client';
import { createRoutes, openapi, type Handlers } from '../../generated/server';
import { errorCodes } from '../../runtime/contract';
import { createApp, type Running } from '../../runtime/server';
import { ConfigSchema } from '../../server/config';
import { createMundoMock, startMock } from '../../server/mock';
import { captureLog } from '../support/app';

/**
 * The generated client against `npm run mock` (server/mock.ts) on an ephemeral port: the front-end
 * flow as far as a mock without state can honour it. Nothing is stored, so what the assertions
 * hold to is what the mock promises: valid shapes, statuses, a token it accepts, the runtime's own
 * problems, `Prefer: code=…`, and the same answers for the same seed and request.
 */
const config = ConfigSchema.parse({ NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0' });
const mockConfig = { MOCK_SEED: 'e2e', MOCK_ROLES: [] };
const { lines, log } = captureLog();
let running: Running;
let anonymous: ApiClient;

const milonga = {
  title: 'Práctica La Viruta',
  kind: 'practica' as const,
  city: 'Buenos Aires',
  startsAt: '2026-12-05T23:00:00.000Z',
  endsAt: '2026-12-06T04:00:00.000Z',
};
const eventId = '0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d';

beforeAll(async () => {
  running = await startMock(config, mockConfig, { log });
  anonymous = createClient({ baseUrl: running.url, retry: false });
});
afterAll(() => running.shutdown());

async function signedIn(): Promise<ApiClient> {
  const session = await anonymous.auth.register({ body: { username: 'ana.milonguera', password: 'abrazo-1234', displayName: 'Ana' } });
  return createClient({ baseUrl: running.url, retry: false, tokens: { getAccessToken: () => session.accessToken } });
}

describe('the generated client on the mock server', () => {
  it('says in one log line where it listens and that it is a mock', () => {
    const line = lines.find((l) => String(l.msg).includes('MOCK listening'));
    expect(line).toMatchObject({ url: running.url, seed: 'e2e' });
    expect(line?.msg).toContain('nothing is stored');
  });

  it('registers and logs in with access tokens the mock accepts, then creates, lists and gets events', async () => {
    const registered = await anonymous.auth.register({ body: { username: 'ana.milonguera', password: 'abrazo-1234', displayName: 'Ana' } });
    expect(AuthSession.safeParse(registered).success).toBe(true);
    expect(registered.expiresIn).toBe(15 * 60);
    const loggedIn = await anonymous.auth.login({ body: { username: 'ana.milonguera', password: 'abrazo-1234' } });
    expect(loggedIn.status).toBe('authenticated');
    if (loggedIn.status !== 'authenticated') return;
    const claims = JSON.parse(Buffer.from(loggedIn.accessToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: config.JWT_ISSUER, aud: config.JWT_AUDIENCE, roles: [] });

    const api = createClient({ baseUrl: running.url, retry: false, tokens: { getAccessToken: () => loggedIn.accessToken } });
    const created = await api.events.createEvent({ body: milonga });
    expect(Event.safeParse(created).success).toBe(true);
    await expect(anonymous.events.createEvent({ body: milonga })).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });

    const sizes: number[] = [];
    for await (const page of api.events.listEvents.pages({ query: { city: 'Buenos Aires', limit: 5 } })) {
      sizes.push(page.data.length);
      for (const event of page.data) expect(Event.safeParse(event).success).toBe(true);
    }
    expect(sizes).toEqual([5, 5, 3]);
    let items = 0;
    for await (const _event of anonymous.events.listEvents.items({ query: { limit: 2 } })) items++;
    expect(items).toBe(5);

    const event = await anonymous.events.getEvent({ params: { eventId } });
    expect(Event.safeParse(event).success).toBe(true);
    expect(await anonymous.events.getEvent({ params: { eventId } })).toEqual(event);
  });

  it("answers the contract's own example where it has one", async () => {
    const api = await signedIn();
    expect(await api.social.sendFriendRequest({ params: { userId: eventId } })).toEqual({
      status: 'pending',
      since: '2026-12-01T20:00:00.000Z',
    });
  });

  it('refuses an invalid request with the same problem+json as the real runtime', async () => {
    const api = await signedIn();
    const invalid = { ...milonga, endsAt: '2026-12-01T00:00:00.000Z' };
    const error = await api.events.createEvent({ body: invalid }).catch((e: unknown) => e);
    expect(api.events.createEvent.isError(error)).toBe(true);
    if (!api.events.createEvent.isError(error)) return;
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(error.problem?.errors?.[0]?.path).toBe('/body/endsAt');

    // The runtime with the real routes (validation runs before any handler, so none is needed).
    const failing = new Proxy({}, { get: () => new Proxy({}, { get: () => () => Promise.reject(new Error('not reached')) }) });
    const real = createApp({
      routes: createRoutes(failing as Handlers<object>),
      services: {},
      api: contracts,
      openapi,
      auth: { secret: new Uint8Array(32), issuer: 'i', audience: 'a' },
      cursorSecret: new Uint8Array(32),
      log,
      corsOrigins: [],
    });
    const mock = createMundoMock(config, mockConfig, log);
    const invalidQuery = '/api/v1/events?limit=0&kind=tango';
    const fromReal = await request(real).get(invalidQuery).set('X-Request-Id', 'same-id');
    const fromMock = await request(mock).get(invalidQuery).set('X-Request-Id', 'same-id');
    expect(fromMock.status).toBe(400);
    expect(fromMock.headers['content-type']).toBe('application/problem+json');
    expect(fromMock.body).toEqual(fromReal.body);
    expect(fromMock.body.errors.map((e: { path: string }) => e.path)).toEqual(['/query/kind', '/query/limit']);
  });

  it('answers the documented problem a Prefer: code=… selects, and a 400 for a code the operation does not document', async () => {
    const error = await anonymous.events.getEvent({ params: { eventId }, headers: { Prefer: 'code=NOT_FOUND' } }).catch((e: unknown) => e);
    expect(anonymous.events.getEvent.isError(error)).toBe(true);
    expect(error).toMatchObject({ status: 404, code: 'NOT_FOUND', problem: { type: 'https://mundotango.life/problems/not-found' } });

    const api = await signedIn();
    await expect(
      api.events.rsvpToEvent({ params: { eventId }, body: { status: 'going' }, headers: { Prefer: 'code=EVENT_FULL' } }),
    ).rejects.toMatchObject({
      status: 409,
      code: 'EVENT_FULL',
    });

    const undocumented = await anonymous.events
      .getEvent({ params: { eventId }, headers: { Prefer: 'code=EVENT_FULL' } })
      .catch((e: unknown) => e);
    expect(undocumented).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((undocumented as { problem: { detail: string } }).problem.detail).toBe(
      `Prefer: code=EVENT_FULL is not a code getEvent answers with; it documents ${errorCodes(getEvent).join(', ')}`,
    );
    expect(errorCodes(getEvent)).toContain('NOT_FOUND');
  });

  it('gives the same answers for the same seed, and others for another seed', async () => {
    const again = createMundoMock(config, mockConfig, log);
    const other = createMundoMock(config, { ...mockConfig, MOCK_SEED: 'another' }, log);
    const path = `/api/v1/events/${eventId}`;
    const [fromServer, fromAgain, fromOther] = await Promise.all([
      anonymous.events.getEvent({ params: { eventId } }),
      request(again).get(path),
      request(other).get(path),
    ]);
    expect(fromAgain.body.data).toEqual(fromServer);
    expect(fromOther.body.data).not.toEqual(fromServer);
  });

  it('answers a file with 501 naming the operation', async () => {
    const error = await anonymous.media.downloadMedia({ params: { mediaId: eventId } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 501, code: 'NOT_IMPLEMENTED' });
    expect((error as { problem: { detail: string } }).problem.detail).toContain('downloadMedia');
  });
});

it('refuses to start in production: its tokens can be signed by anyone who knows the seed', async () => {
  await expect(startMock({ ...config, NODE_ENV: 'production' }, mockConfig, { log })).rejects.toThrow(/not for production/);
});
