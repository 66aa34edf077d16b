import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { appOnOwnDatabase } from '../../support/app';
import { dancersOf } from '../../support/dancers';

const { app, database } = appOnOwnDatabase();

const { dancer, as } = dancersOf(app);

describe('roles', () => {
  it('an admin grants and revokes; it applies on the next request, with the same token; the audit log says who did what', async () => {
    const admin = await dancer(['user', 'admin']);
    const someone = await dancer();
    const queue = () => as(someone).get('/moderation/queue');
    expect((await queue()).status).toBe(403);

    expect((await as(admin).put(`/admin/users/${someone.id}/roles/moderator`)).status).toBe(204);
    expect((await as(admin).put(`/admin/users/${someone.id}/roles/moderator`)).status).toBe(204);
    // The token still says `user` only: the grant applies anyway.
    expect((await queue()).status).toBe(200);
    expect((await as(admin).delete(`/admin/users/${someone.id}/roles/moderator`)).status).toBe(204);
    expect((await queue()).status).toBe(403);

    const log = await as(admin).get('/admin/audit', { targetId: someone.id });
    expect(
      log.body.data.map((e: { kind: string; actorId: string; details: { role: string } }) => [e.kind, e.actorId, e.details.role]),
    ).toEqual([
      ['role_revoked', admin.id, 'moderator'],
      ['role_granted', admin.id, 'moderator'],
    ]);
    expect((await as(admin).get('/admin/audit', { targetId: someone.id, kind: 'role_granted' })).body.data).toHaveLength(1);
  });

  it('a revoked admin token stops working at once, and a moderator cannot make anyone an admin', async () => {
    const [admin, other] = [await dancer(['user', 'admin']), await dancer(['user', 'admin'])];
    const moderator = await dancer(['user', 'moderator']);
    for (const path of [`/admin/users/${moderator.id}/roles/admin`, `/admin/users/${moderator.id}/roles/moderator`]) {
      const refused = await as(moderator).put(path);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect((await as(moderator).get('/admin/audit')).status).toBe(403);
    expect((await as(admin).delete(`/admin/users/${other.id}/roles/admin`)).status).toBe(204);
    expect((await as(other).put(`/admin/users/${moderator.id}/roles/admin`)).status).toBe(403);
  });

  it('the last admin stays one, even when two admins demote each other at once', async () => {
    // Only these two are admins in this database.
    await database().db.execute(sql`UPDATE users SET roles = array_remove(roles, 'admin')`);
    const [first, second] = [await dancer(['user', 'admin']), await dancer(['user', 'admin'])];
    const answers = await Promise.all([
      as(first).delete(`/admin/users/${second.id}/roles/admin`),
      as(second).delete(`/admin/users/${first.id}/roles/admin`),
    ]);
    // One wins; the other is refused: as no admin any more (403), or as the last one's demoter (409).
    expect([
      [204, 403],
      [204, 409],
    ]).toContainEqual(answers.map((res) => res.status).sort());
    const { rows } = await database().db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM users WHERE 'admin' = ANY(roles)`);
    expect(rows[0]!.n).toBe(1);
    const [survivor] = (await database().db.execute<{ id: string }>(sql`SELECT id FROM users WHERE 'admin' = ANY(roles)`)).rows;
    const last = await as(survivor!.id === first.id ? first : second).delete(`/admin/users/${survivor!.id}/roles/admin`);
    expect(last.status).toBe(409);
    expect(last.body).toMatchObject({ code: 'LAST_ADMIN' });
  });

  it('the audit log cannot be changed, even by SQL', async () => {
    const admin = await dancer(['user', 'admin']);
    const someone = await dancer();
    await as(admin).put(`/admin/users/${someone.id}/roles/moderator`);
    await expect(database().db.execute(sql`UPDATE audit_log SET kind = 'role_revoked' WHERE target_id = ${someone.id}`)).rejects.toThrow();
    await expect(database().db.execute(sql`DELETE FROM audit_log WHERE target_id = ${someone.id}`)).rejects.toThrow();
  });
});

describe('the audit log export', () => {
  it('streams every entry the filters select as NDJSON, latest first, across its read batches', async () => {
    const admin = await dancer(['user', 'admin']);
    const targetId = crypto.randomUUID();
    await database().db.execute(sql`INSERT INTO audit_log (actor_id, kind, target_type, target_id, details, created_at)
      SELECT ${admin.id}, CASE WHEN i % 10 = 0 THEN 'role_revoked' ELSE 'role_granted' END, 'user', ${targetId},
        jsonb_build_object('i', i), now() - i * interval '1 second' FROM generate_series(1, 1100) i`);
    const res = await as(admin).get('/admin/audit/export', { targetId });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const lines = res.text.split('\n');
    expect(lines.pop()).toBe('');
    const entries = lines.map((line) => JSON.parse(line) as { details: { i: number }; kind: string; targetId: string });
    expect(entries.map((e) => e.details.i)).toEqual(Array.from({ length: 1100 }, (_, i) => i + 1));
    expect(entries[0]).toMatchObject({ actorId: admin.id, targetId, kind: 'role_granted', createdAt: expect.any(String) });
    const revoked = await as(admin).get('/admin/audit/export', { targetId, kind: 'role_revoked' });
    expect(revoked.text.trim().split('\n')).toHaveLength(110);
    expect((await as(await dancer(['user', 'moderator'])).get('/admin/audit/export')).status).toBe(403);
  });
});

describe('a revoked role, on operations open to every user', () => {
  it('no longer lets a former moderator delete someone else’s post, with the token that still says moderator', async () => {
    const admin = await dancer(['user', 'admin']);
    const author = await dancer();
    const moderator = await dancer(['user', 'moderator']);
    const post = (await as(author).post('/posts', { body: 'Spam spam', visibility: 'public' })).body.data;
    const other = (await as(author).post('/posts', { body: 'Más spam', visibility: 'public' })).body.data;
    expect((await as(moderator).delete(`/posts/${post.id}`)).status).toBe(204);
    expect((await as(admin).delete(`/admin/users/${moderator.id}/roles/moderator`)).status).toBe(204);
    expect((await as(moderator).delete(`/posts/${other.id}`)).status).toBe(403);
  });
});

describe('a granted role, on operations open to every user', () => {
  it('lets a new moderator delete someone else’s post with the token they had before', async () => {
    const admin = await dancer(['user', 'admin']);
    const [author, newcomer] = [await dancer(), await dancer()];
    const post = (await as(author).post('/posts', { body: 'Spam', visibility: 'public' })).body.data;
    expect((await as(newcomer).delete(`/posts/${post.id}`)).status).toBe(403);
    expect((await as(admin).put(`/admin/users/${newcomer.id}/roles/moderator`)).status).toBe(204);
    expect((await as(newcomer).delete(`/posts/${post.id}`)).status).toBe(204);
  });
});
