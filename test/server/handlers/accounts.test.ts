import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { appOnOwnDatabase } from '../../support/app';
import { dancersOf } from '../../support/dancers';

/** An account's self-service: exporting what is stored about it, and deleting it. */

const { app, database } = appOnOwnDatabase();

const { dancer, as } = dancersOf(app);
const password = 'una milonga larga en canning';
let nextAddress = 0;
async function member() {
  const username = `dancer-${randomUUID().slice(0, 8)}`;
  const res = await request(app().app)
    .post('/api/v1/auth/register')
    .set('X-Forwarded-For', `10.62.0.${++nextAddress}`)
    .send({ username, password, displayName: 'Ana' });
  expect(res.status).toBe(201);
  return { id: res.body.data.user.id as string, username, token: res.body.data.accessToken as string };
}
const count = async (query: ReturnType<typeof sql>) => (await database().db.execute<{ n: number }>(query)).rows[0]!.n;

describe('exportMyData', () => {
  it('streams every kind of record about me as NDJSON, the profile first, with no secret and no moderator named', async () => {
    const ana = await member();
    const [friend] = [await dancer()];
    const mod = await dancer(['user', 'moderator']);
    await as(ana).put(`/users/${friend.id}/follow`);
    const post = (await as(ana).post('/posts', { body: 'Milonga hoy', visibility: 'public' })).body.data;
    await as(ana).post(`/posts/${post.id}/comments`, { body: 'Vengan' });
    await as(ana).post('/memories', { title: 'Canning', happenedOn: '2020-01-01', visibility: 'public' });
    // More posts than one read batch.
    await database().db.execute(
      sql`INSERT INTO posts (author_id, body, visibility) SELECT ${ana.id}, 'p' || i, 'public' FROM generate_series(1, 520) i`,
    );
    await as(friend).post('/reports', { targetType: 'user', targetId: ana.id, reason: 'spam' });
    await as(mod).post(`/moderation/queue/user/${ana.id}/resolve`, { action: 'warn', reason: 'Less ads' });

    const res = await as(ana).get('/users/me/export');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const records = res.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; record: Record<string, unknown> });
    expect(records[0]).toMatchObject({ kind: 'profile', record: { id: ana.id, username: ana.username } });
    expect(records[0]!.record).not.toHaveProperty('password_hash');
    expect(records[0]!.record).not.toHaveProperty('mfa_secret');
    const of = (kind: string) => records.filter((r) => r.kind === kind).map((r) => r.record);
    expect(of('post')).toHaveLength(521);
    expect(new Set(of('post').map((p) => p.id)).size).toBe(521);
    expect(of('comment')).toHaveLength(1);
    expect(of('memory')).toHaveLength(1);
    expect(of('following')).toEqual([expect.objectContaining({ follower_id: ana.id, followee_id: friend.id })]);
    expect(of('session')).toHaveLength(1);
    expect(of('decision_about_me')).toEqual([expect.objectContaining({ action: 'warn', reason: 'Less ads' })]);
    expect(of('decision_about_me')[0]).not.toHaveProperty('moderator_id');
    expect(res.text).not.toContain('$argon2');
    // Someone else's data is not in it.
    expect(of('post').every((p) => p.author_id === ana.id)).toBe(true);
  });
});

describe('exportMyDataV2', () => {
  it('has the provider accounts linked to mine too; version 1 (deprecated, with its sunset) leaves them out', async () => {
    const ana = await member();
    const other = await member();
    await database().db.execute(sql`
      INSERT INTO oidc_identities (issuer, subject, user_id, email) VALUES
        ('https://accounts.example.org', ${`ana-${ana.id}`}, ${ana.id}, 'ana@example.org'),
        ('https://accounts.example.org', ${`other-${other.id}`}, ${other.id}, NULL)`);
    const exported = async (version: number) => {
      const res = await request(app().app).get(`/api/v${version}/users/me/export`).set('Authorization', `Bearer ${ana.token}`);
      expect(res.status).toBe(200);
      const records = res.text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { kind: string; record: Record<string, unknown> });
      return { res, records };
    };
    const v2 = await exported(2);
    expect(v2.records[0]).toMatchObject({ kind: 'profile', record: { id: ana.id } });
    expect(v2.records.filter((r) => r.kind === 'oidc_identity')).toEqual([
      {
        kind: 'oidc_identity',
        record: expect.objectContaining({ issuer: 'https://accounts.example.org', subject: `ana-${ana.id}`, email: 'ana@example.org' }),
      },
    ]);
    expect(v2.res.headers).not.toHaveProperty('deprecation');

    const v1 = await exported(1);
    expect(v1.records.map((r) => r.kind)).toEqual(v2.records.map((r) => r.kind).filter((kind) => kind !== 'oidc_identity'));
    // RFC 9745 and RFC 8594: since 2026-12-04, gone on 2027-06-04.
    expect(v1.res.headers.deprecation).toBe(`@${Date.parse('2026-12-04T00:00:00Z') / 1000}`);
    expect(v1.res.headers.sunset).toBe(new Date('2027-06-04T00:00:00Z').toUTCString());
  });
});

describe('both', () => {
  it('need a signed-in user, and a deletion needs its password field', async () => {
    expect((await as(null).get('/users/me/export')).status).toBe(401);
    expect((await request(app().app).get('/api/v2/users/me/export')).status).toBe(401);
    expect((await as(null).post('/users/me/deletion', { password })).status).toBe(401);
    const ana = await member();
    const missing = await as(ana).post('/users/me/deletion', {});
    expect(missing.body).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      errors: [expect.objectContaining({ path: '/body/password' })],
    });
    expect((await as(ana).get('/users/me')).status).toBe(200);
  });
});

describe('deleteMyAccount', () => {
  it('the last admin cannot go', async () => {
    const ana = await member();
    await database().db.execute(sql`UPDATE users SET roles = array_remove(roles, 'admin')`);
    await database().db.execute(sql`UPDATE users SET roles = ARRAY['user', 'admin'] WHERE id = ${ana.id}`);
    const refused = await as(ana).post('/users/me/deletion', { password });
    expect(refused.body).toMatchObject({ status: 409, code: 'LAST_ADMIN' });
    expect((await as(ana).get('/users/me')).status).toBe(200);
  });

  it('an owner deleting while the heir leaves leaves one owner or no group, and no 500', async () => {
    for (let round = 0; round < 3; round++) {
      const ana = await member();
      const [heir, other] = [await dancer(), await dancer()];
      const group = (await as(ana).post('/groups', { name: `Par ${randomUUID().slice(0, 6)}`, kind: 'community', visibility: 'public' }))
        .body.data;
      await as(heir).put(`/groups/${group.id}/membership`);
      await as(other).put(`/groups/${group.id}/membership`);
      await as(ana).put(`/groups/${group.id}/members/${heir.id}/role`, { role: 'admin' });
      const [deleted, left] = await Promise.all([
        as(ana).post('/users/me/deletion', { password }),
        as(heir).delete(`/groups/${group.id}/membership`),
      ]);
      expect(deleted.status).toBe(204);
      // Left first, or refused as the owner it had become.
      expect([204, 409]).toContain(left.status);
      const owners = await count(sql`SELECT count(*)::int AS n FROM group_members WHERE group_id = ${group.id} AND role = 'owner'`);
      expect(owners).toBe(1);
    }
  });

  it('needs the password; then signs out at once and removes the account and what is its alone', async () => {
    const ana = await member();
    const [admin, other] = [await dancer(), await dancer()];
    const post = (await as(ana).post('/posts', { body: 'Adiós', visibility: 'public' })).body.data;
    const kept = (await as(ana).post('/groups', { name: `Club ${randomUUID().slice(0, 6)}`, kind: 'community', visibility: 'public' })).body
      .data;
    const alone = (await as(ana).post('/groups', { name: `Solo ${randomUUID().slice(0, 6)}`, kind: 'community', visibility: 'public' }))
      .body.data;
    await as(other).put(`/groups/${kept.id}/membership`);
    await as(admin).put(`/groups/${kept.id}/membership`);
    const heirless = (await as(ana).post('/groups', { name: `Sin ${randomUUID().slice(0, 6)}`, kind: 'community', visibility: 'public' }))
      .body.data;
    await as(ana).put(`/groups/${kept.id}/members/${admin.id}/role`, { role: 'admin' });
    const event = (
      await as(ana).post('/events', {
        title: 'Mi milonga',
        kind: 'milonga',
        city: 'Rosario',
        startsAt: '2027-01-10T22:00:00.000Z',
        endsAt: '2027-01-11T03:00:00.000Z',
      })
    ).body.data;

    // Reported content, kept for the moderators as it was.
    await as(other).post('/reports', { targetType: 'post', targetId: post.id, reason: 'spam' });
    // A banned member who joined first never inherits a group.
    const banned = await dancer();
    await as(banned).put(`/groups/${heirless.id}/membership`);
    await database().db.execute(sql`UPDATE users SET banned_at = now() WHERE id = ${banned.id}`);

    const wrong = await as(ana).post('/users/me/deletion', { password: 'not the password at all' });
    expect(wrong.body).toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS' });
    expect((await as(ana).get('/users/me')).status).toBe(200);

    expect((await as(ana).post('/users/me/deletion', { password })).status).toBe(204);
    expect((await as(ana).get('/users/me')).status).toBe(401);
    const login = await request(app().app).post('/api/v1/auth/login').send({ username: ana.username, password });
    expect(login.body.code).toBe('INVALID_CREDENTIALS');

    expect((await as(other).get(`/posts/${post.id}`)).status).toBe(404);
    expect((await as(other).get(`/events/${event.id}`)).status).toBe(404);
    expect((await as(other).get(`/groups/${alone.id}`)).status).toBe(404);
    // The group with an admin passes to them.
    const members = (await as(other).get(`/groups/${kept.id}/members`)).body.data as { user: { id: string }; role: string }[];
    expect(members.map((m) => [m.user.id, m.role]).sort()).toEqual(
      [
        [admin.id, 'owner'],
        [other.id, 'member'],
      ].sort(),
    );
    expect(await count(sql`SELECT count(*)::int AS n FROM groups WHERE id = ${heirless.id}`)).toBe(0);
    expect(await count(sql`SELECT count(*)::int AS n FROM users WHERE id = ${ana.id}`)).toBe(0);
    const { rows: kept_ } = await database().db.execute<{ snapshot: unknown }>(
      sql`SELECT snapshot FROM report_targets WHERE target_id = ${post.id}`,
    );
    expect(kept_).toEqual([{ snapshot: { removed: 'with the account' } }]);
    expect(await count(sql`SELECT count(*)::int AS n FROM sessions WHERE user_id = ${ana.id}`)).toBe(0);

    const auditor = await dancer(['user', 'admin']);
    expect((await as(auditor).get('/admin/audit', { targetId: ana.id })).body.data).toEqual([
      expect.objectContaining({ kind: 'account_deleted', actorId: null, targetType: 'user', details: {} }),
    ]);
  });
});
