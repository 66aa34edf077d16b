import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import { describeOnServerBackend } from '../../support/database';
import { connected, startRealtimeServer, storedUser } from '../../support/realtime';

/**
 * Blocks in messaging, over HTTP and the socket: a block (whoever made it) refuses new
 * conversations between the two as if the other did not exist, and makes their direct conversation
 * read-only for both while it stays readable; group conversations stay writable for everyone (where
 * each no longer sees the other: test/server/handlers/group-conversation-blocks.test.ts).
 */
describeOnServerBackend('messaging across a block', (backend) => {
  let database: Database;
  let server: Awaited<ReturnType<typeof startRealtimeServer>>;
  beforeAll(async () => {
    database = await backend.open();
    server = await startRealtimeServer(database);
  });
  afterAll(async () => {
    await server.stop();
    await database.close();
  });

  type User = Awaited<ReturnType<typeof storedUser>> & { token: string };
  const user = async (): Promise<User> => {
    const made = await storedUser(server);
    return { ...made, token: await server.token(made.id) };
  };
  const as = (who: User) => ({
    get: (path: string) => request(server.app).get(`/api/v1${path}`).set('Authorization', `Bearer ${who.token}`),
    post: (path: string, body: object) => request(server.app).post(`/api/v1${path}`).set('Authorization', `Bearer ${who.token}`).send(body),
    put: (path: string) => request(server.app).put(`/api/v1${path}`).set('Authorization', `Bearer ${who.token}`),
    delete: (path: string) => request(server.app).delete(`/api/v1${path}`).set('Authorization', `Bearer ${who.token}`),
  });
  const block = async (blocker: User, blocked: User) => expect((await as(blocker).put(`/blocks/${blocked.id}`)).status).toBeLessThan(300);
  const say = (who: User, conversationId: string, body: string, clientKey = randomUUID()) =>
    as(who).post(`/conversations/${conversationId}/messages`, { clientKey, body });
  /** A problem without what differs between any two requests. */
  const problem = (body: Record<string, unknown>) => {
    const { requestId: _requestId, ...rest } = body;
    return rest;
  };

  it('createConversation naming someone across a block answers exactly as for an unknown id, whoever blocked, and stores nothing', async () => {
    const [ana, ben, cai] = [await user(), await user(), await user()];
    await block(ana, ben);
    const unknown = randomUUID();
    const cases: [User, object, object][] = [
      [ana, { kind: 'direct', memberIds: [ben.id] }, { kind: 'direct', memberIds: [unknown] }],
      [ben, { kind: 'direct', memberIds: [ana.id] }, { kind: 'direct', memberIds: [unknown] }],
      [
        ana,
        { kind: 'group', title: 'Práctica', memberIds: [cai.id, ben.id] },
        { kind: 'group', title: 'Práctica', memberIds: [cai.id, unknown] },
      ],
      [
        ben,
        { kind: 'group', title: 'Práctica', memberIds: [ana.id, cai.id] },
        { kind: 'group', title: 'Práctica', memberIds: [unknown, cai.id] },
      ],
    ];
    for (const [caller, acrossBlock, withUnknown] of cases) {
      const [blocked, missing] = [
        await as(caller).post('/conversations', acrossBlock),
        await as(caller).post('/conversations', withUnknown),
      ];
      expect(blocked.status, JSON.stringify(acrossBlock)).toBe(400);
      expect(blocked.headers['content-type']).toBe(missing.headers['content-type']);
      expect(problem(blocked.body)).toEqual(problem(missing.body));
      expect(blocked.body).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ code: 'unknown_user', message: 'No user with this id' }],
      });
    }
    for (const who of [ana, ben, cai]) expect((await as(who).get('/conversations')).body.data).toEqual([]);
  });

  it('their existing direct conversation becomes read-only for both, over REST and the socket, and stays readable', async () => {
    const [ana, ben] = [await user(), await user()];
    const created = await as(ana).post('/conversations', { kind: 'direct', memberIds: [ben.id] });
    const conversationId = created.body.data.id as string;
    const firstKey = randomUUID();
    const hola = (await say(ana, conversationId, 'Hola', firstKey)).body.data;
    const [anaPhone, benPhone] = [ana.device(), ben.device()];
    await Promise.all([anaPhone, benPhone].map(connected));
    const arrived: unknown[] = [];
    for (const phone of [anaPhone, benPhone]) phone.on('message:new', (message) => arrived.push(message));

    await block(ben, ana);
    for (const who of [ana, ben]) {
      const refused = await say(who, conversationId, 'Sigo aquí');
      expect(refused.status).toBe(409);
      expect(refused.headers['content-type']).toBe('application/problem+json');
      expect(refused.body).toMatchObject({ status: 409, code: 'CONVERSATION_READ_ONLY' });
    }
    // A resend of what was stored before the block is refused the same way.
    expect((await say(ana, conversationId, 'Hola', firstKey)).body.code).toBe('CONVERSATION_READ_ONLY');
    for (const phone of [anaPhone, benPhone]) {
      await expect(phone.emit('message:send', { conversationId, clientKey: randomUUID(), body: 'Por el socket' })).rejects.toMatchObject({
        code: 'CONVERSATION_READ_ONLY',
      });
    }

    for (const who of [ana, ben]) {
      const read = await as(who).get(`/conversations/${conversationId}`);
      expect([read.status, read.body.data.readOnly, read.body.data.lastMessage]).toEqual([200, true, hola]);
      expect((await as(who).get('/conversations')).body.data).toEqual([read.body.data]);
      const messages = await as(who).get(`/conversations/${conversationId}/messages`);
      expect([messages.status, messages.body.data]).toEqual([200, [hola]]);
    }
    const marked = await as(ben).post(`/conversations/${conversationId}/read`, { messageId: hola.id });
    expect([marked.status, marked.body.data.messageId]).toEqual([200, hola.id]);
    // Starting it again is refused as for someone who does not exist, from either side.
    for (const [who, other] of [
      [ana, ben],
      [ben, ana],
    ] as const) {
      const again = await as(who).post('/conversations', { kind: 'direct', memberIds: [other.id] });
      expect([again.status, again.body.errors]).toEqual([
        400,
        [{ path: '/body/memberIds/0', code: 'unknown_user', message: 'No user with this id' }],
      ]);
    }
    expect(arrived).toEqual([]);

    // Unblocked, it is an ordinary conversation again.
    expect((await as(ben).delete(`/blocks/${ana.id}`)).status).toBeLessThan(300);
    expect((await as(ana).get(`/conversations/${conversationId}`)).body.data.readOnly).toBe(false);
    expect((await say(ana, conversationId, 'Otra vez')).status).toBe(201);
    expect((await benPhone.emit('message:send', { conversationId, clientKey: randomUUID(), body: 'Hola de nuevo' })).body).toBe(
      'Hola de nuevo',
    );
    [anaPhone, benPhone].forEach((phone) => phone.close());
  });

  it('a group conversation stays writable for everyone across a block between two of its members', async () => {
    const [ana, ben, cai] = [await user(), await user(), await user()];
    const created = await as(ana).post('/conversations', { kind: 'group', title: 'Milonga', memberIds: [ben.id, cai.id] });
    const conversationId = created.body.data.id as string;
    await block(ana, ben);
    for (const who of [ana, ben, cai]) {
      expect((await say(who, conversationId, `Soy ${who.id}`)).status).toBe(201);
      expect((await as(who).get(`/conversations/${conversationId}`)).body.data).toMatchObject({ readOnly: false });
    }
    const benPhone = ben.device();
    await connected(benPhone);
    expect((await benPhone.emit('message:send', { conversationId, clientKey: randomUUID(), body: 'Por el socket' })).conversationId).toBe(
      conversationId,
    );
    // Each of the two no longer sees the other's messages there (test/server/handlers/group-conversation-blocks.test.ts).
    const listed = async (who: User) =>
      (await as(who).get(`/conversations/${conversationId}/messages`)).body.data as { senderId: string }[];
    expect((await listed(ana)).map((m) => m.senderId).sort()).toEqual([ana.id, cai.id].sort());
    expect(await listed(ben)).toHaveLength(3);
    expect(await listed(cai)).toHaveLength(4);
    benPhone.close();
  });
});

describe('the contract', () => {
  it('documents CONVERSATION_READ_ONLY on sendMessage and message:send, and readOnly on every Conversation', async () => {
    const { openapi, asyncapi } = await import('../../../generated/server');
    type Spec = {
      paths: Record<string, Record<string, { responses: Record<string, { $ref: string }> }>>;
      components: {
        responses: Record<string, { content: Record<string, { examples: Record<string, unknown> }> }>;
        schemas: Record<string, { required: string[] }>;
      };
    };
    const spec = openapi as unknown as Spec;
    const conflict = spec.paths['/api/v1/conversations/{conversationId}/messages']!.post!.responses['409']!.$ref.split('/').at(-1)!;
    expect(Object.keys(spec.components.responses[conflict]!.content['application/problem+json']!.examples)).toContain(
      'CONVERSATION_READ_ONLY',
    );
    expect(spec.components.schemas.Conversation!.required).toContain('readOnly');
    const sendEvent = JSON.stringify(asyncapi).match(/"message:send".*?"enum":\[([^\]]*)\]/s)?.[1] ?? '';
    expect(sendEvent).toContain('"CONVERSATION_READ_ONLY"');
  });
});
