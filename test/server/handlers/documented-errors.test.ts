import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import { createTestApp } from '../../support/app';
import { dancersOf } from '../../support/dancers';
import { openServerDatabase } from '../../support/database';

/**
 * Every operation of the groups, posts, memories, stories, media, moderation and admin tags that
 * documents 404 answers it, as a problem with code NOT_FOUND, for ids of nothing; every operation
 * that needs a role refuses a user without one with 403 FORBIDDEN: read from the generated spec, so
 * a new operation is covered without editing this file. A body is the contract's own example. (Bad
 * input and missing or bad tokens are the contract fuzzer's, for every operation; successes and
 * the other documented errors are in each domain's suite.)
 */
interface Operation {
  operationId: string;
  tags: string[];
  responses: Record<string, unknown>;
  'x-roles'?: string[];
  requestBody?: { content: { 'application/json': { schema: { $ref?: string } } } };
}
const spec = JSON.parse(readFileSync(new URL('../../../generated/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { example?: unknown }> };
};
const TAGS = ['groups', 'posts', 'memories', 'stories', 'media', 'moderation', 'admin'];
const operations = Object.entries(spec.paths).flatMap(([path, methods]) =>
  Object.entries(methods)
    // The tus operations of an upload speak their own protocol (test/server/handlers/media.test.ts).
    .filter(([, op]) => TAGS.includes(op.tags[0]!) && !(op as { 'x-tus-resumable'?: string })['x-tus-resumable'])
    .map(([method, op]) => {
      const ref = op.requestBody?.content['application/json']?.schema.$ref;
      const body = ref ? spec.components.schemas[ref.split('/').pop()!]!.example : undefined;
      return { method, path: path.replace(/^\/api\/v1/, ''), op: op.operationId, body, spec: op };
    }),
);
const documented = operations.filter((o) => o.spec.responses['404']);
const roleGated = Object.entries(spec.paths).flatMap(([path, methods]) =>
  Object.entries(methods)
    .filter(([, op]) => op['x-roles'])
    .map(([method, op]) => ({ method, path: path.replace(/^\/api\/v1/, ''), op: op.operationId, body: undefined, spec: op })),
);

/** A request to the operation with ids of nothing (and the first value of an enum parameter). */
function send(client: ReturnType<ReturnType<typeof dancersOf>['as']>, { method, path, body }: (typeof operations)[number]) {
  const url = path.replace(/\{([^}]+)\}/g, (_, name: string) => PARAM_VALUES[name] ?? randomUUID());
  const verb = method as 'get' | 'post' | 'put' | 'patch' | 'delete';
  return verb === 'get' || verb === 'delete' ? client[verb](url) : client[verb](url, (body ?? {}) as object);
}
const PARAM_VALUES: Record<string, string> = { targetType: 'post', role: 'moderator' };

let database: Database;
let test: Awaited<ReturnType<typeof createTestApp>>;
const { dancer, dancers, as } = dancersOf(() => test);

beforeAll(async () => {
  database = await openServerDatabase();
  test = await createTestApp(database);
});
afterAll(async () => {
  await test.close();
  await database.close();
});

describe('documented errors of the groups, posts, memories, stories, media, moderation and admin operations', () => {
  it('covers every operation of these tags that documents 404', () => {
    expect(documented.length).toBeGreaterThanOrEqual(43);
  });

  it.each(documented.map((d) => [d.op, d] as const))('%s answers 404 NOT_FOUND for ids of nothing', async (_, operation) => {
    // Every role, so that a role-gated operation gets as far as looking for what it names.
    const caller = await dancer(['user', 'moderator', 'admin']);
    const res = await send(as(caller), operation);
    expect(res.status, JSON.stringify(res.body)).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('NOT_FOUND');
  });

  it('covers every operation that needs a role', () => {
    expect(roleGated.map((o) => o.op).sort()).toEqual([
      'claimReportedTarget',
      'decideAppeal',
      'exportAuditLog',
      'getStatistics',
      'grantRole',
      'listAppeals',
      'listAuditLog',
      'listModerationQueue',
      'resolveReportedTarget',
      'revokeRole',
    ]);
  });

  it.each(roleGated.map((o) => [o.op, o] as const))('%s refuses a user without its role: 403 FORBIDDEN', async (_, operation) => {
    const [caller] = await dancers(1);
    const res = await send(as(caller), operation);
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
  });

  it('join requests are answered by the owner and admins only; a comment is edited by its author only', async () => {
    const [owner, member, asker, author, other] = await dancers(5);
    const group = (await as(owner).post('/groups', { name: 'Club', kind: 'city', visibility: 'private' })).body.data;
    await as(owner).put(`/groups/${group.id}/invitations/${member.id}`);
    await as(member).put(`/groups/${group.id}/membership`);
    await as(asker).put(`/groups/${group.id}/membership`);
    for (const action of ['approve', 'reject']) {
      const refused = await as(member).post(`/groups/${group.id}/join-requests/${asker.id}/${action}`);
      expect([refused.status, refused.body.code]).toEqual([403, 'FORBIDDEN']);
    }
    expect((await as(owner).get(`/groups/${group.id}/join-requests`)).body.data.map((r: { user: { id: string } }) => r.user.id)).toEqual([
      asker.id,
    ]);

    const post = (await as(author).post('/posts', { body: 'Hola', visibility: 'public' })).body.data;
    const comment = (await as(author).post(`/posts/${post.id}/comments`, { body: 'Mío' })).body.data;
    const refused = await as(other).patch(`/comments/${comment.id}`, { body: 'Ya no' });
    expect([refused.status, refused.body.code]).toEqual([403, 'FORBIDDEN']);
    expect((await as(other).get(`/posts/${post.id}/comments`)).body.data[0].body).toBe('Mío');
  });
});
