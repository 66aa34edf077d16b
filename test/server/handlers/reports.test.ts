import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { reportTargets } from '../../../server/db/schema';
import { appOnOwnDatabase } from '../../support/app';
import { type Dancer, dancersOf } from '../../support/dancers';

const { app, database } = appOnOwnDatabase();

const { dancer, dancers, as } = dancersOf(app);
const report = (who: Dancer, targetType: string, targetId: string, reason = 'spam', details?: string) =>
  as(who).post('/reports', { targetType, targetId, reason, ...(details ? { details } : {}) });
const snapshotOf = async (targetType: 'post' | 'comment' | 'story' | 'memory' | 'message' | 'group' | 'user', targetId: string) =>
  (await database().db.select().from(reportTargets).where(eq(reportTargets.targetId, targetId))).find((t) => t.targetType === targetType);

describe('reports', () => {
  it('keeps the content as it was when first reported, whatever is edited after', async () => {
    const [author, reporter, second] = await dancers(3);
    const post = (await as(author).post('/posts', { body: 'Compren mis zapatos, oferta', visibility: 'public' })).body.data;
    const created = await report(reporter, 'post', post.id, 'spam', 'The same ad every day');
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      targetType: 'post',
      targetId: post.id,
      reason: 'spam',
      details: 'The same ad every day',
      status: 'open',
      outcome: null,
      resolvedAt: null,
    });
    await as(author).patch(`/posts/${post.id}`, { body: 'Nada que ver aquí' });
    expect((await report(second, 'post', post.id, 'misinformation')).status).toBe(201);
    expect(await snapshotOf('post', post.id)).toMatchObject({
      authorId: author.id,
      snapshot: { body: 'Compren mis zapatos, oferta', visibility: 'public' },
    });
  });

  it('one open report per reporter and target, even sent twice at once', async () => {
    const [author, reporter] = await dancers(2);
    const answers = await Promise.all([report(reporter, 'user', author.id), report(reporter, 'user', author.id, 'impersonation')]);
    expect(answers.map((res) => res.status).sort()).toEqual([201, 409]);
    expect(answers.find((res) => res.status === 409)!.body).toMatchObject({ code: 'ALREADY_REPORTED' });
  });

  it('only what the reporter may see, and never their own', async () => {
    const [author, reporter, friend] = await dancers(3);
    await as(author).put(`/friend-requests/${friend.id}`);
    await as(friend).post(`/friend-requests/${author.id}/accept`);
    const forFriends = (await as(author).post('/posts', { body: 'Solo amigos', visibility: 'friends' })).body.data;
    expect((await report(reporter, 'post', forFriends.id)).status).toBe(404);
    expect((await report(friend, 'post', forFriends.id)).status).toBe(201);

    const mine = (await as(reporter).post('/posts', { body: 'Mío', visibility: 'public' })).body.data;
    const own = await report(reporter, 'post', mine.id);
    expect(own.status).toBe(400);
    expect(own.body.errors).toEqual([expect.objectContaining({ path: '/body/targetId', code: 'own_content' })]);
    expect((await report(reporter, 'user', reporter.id)).status).toBe(400);

    // Across a block, either way, it is as if it did not exist.
    expect((await as(author).put(`/blocks/${reporter.id}`)).status).toBe(204);
    expect((await report(reporter, 'user', author.id)).status).toBe(404);
    expect((await report(reporter, 'story', crypto.randomUUID())).status).toBe(404);
  });

  it('every kind of target: comment, story, memory, message, group', async () => {
    const [author, reporter] = await dancers(2);
    await as(reporter).put(`/users/${author.id}/follow`);
    const post = (await as(author).post('/posts', { body: 'Milonga hoy', visibility: 'public' })).body.data;
    const comment = (await as(author).post(`/posts/${post.id}/comments`, { body: 'Vengan todos' })).body.data;
    const story = (await as(author).post('/stories', { caption: 'En camino' })).body.data;
    const memory = (await as(author).post('/memories', { title: 'Canning', happenedOn: '2020-01-01', visibility: 'public' })).body.data;
    const group = (
      await as(author).post('/groups', { name: `Tango ${crypto.randomUUID().slice(0, 6)}`, kind: 'community', visibility: 'public' })
    ).body.data;
    const conversation = (await as(author).post('/conversations', { kind: 'direct', memberIds: [reporter.id] })).body.data;
    const message = (await as(author).post(`/conversations/${conversation.id}/messages`, { clientKey: 'k1', body: 'Hola' })).body.data;

    for (const [type, id] of [
      ['comment', comment.id],
      ['story', story.id],
      ['memory', memory.id],
      ['group', group.id],
      ['message', message.id],
    ] as const) {
      const res = await report(reporter, type, id, 'harassment');
      expect(res.status, `${type}: ${JSON.stringify(res.body)}`).toBe(201);
      expect((await snapshotOf(type, id))?.authorId, type).toBe(author.id);
    }
    expect((await snapshotOf('message', message.id))?.snapshot).toMatchObject({ body: 'Hola', conversationId: conversation.id });
    // A message of a conversation one is not in cannot be reported.
    const [outsider] = await dancers(1);
    expect((await report(outsider, 'message', message.id)).status).toBe(404);
  });

  it('the reporter lists and reads their own reports; nobody else reads them', async () => {
    const [author, reporter, other] = await dancers(3);
    const first = (await report(reporter, 'user', author.id)).body.data;
    const post = (await as(author).post('/posts', { body: 'Otro', visibility: 'public' })).body.data;
    const second = (await report(reporter, 'post', post.id, 'hate')).body.data;
    const mine = await as(reporter).get('/reports', { limit: 1 });
    expect(mine.body.data.map((r: { id: string }) => r.id)).toEqual([second.id]);
    expect(mine.body.page.hasMore).toBe(true);
    expect((await as(reporter).get('/reports', { status: 'resolved' })).body.data).toEqual([]);
    expect((await as(reporter).get(`/reports/${first.id}`)).body.data.id).toBe(first.id);
    expect((await as(other).get(`/reports/${first.id}`)).status).toBe(404);
  });
});

describe('the moderation queue', () => {
  const moderatorOf = () => dancer(['user', 'moderator']);

  it('is for moderators and admins only, with the same 403 for anyone else', async () => {
    const [someone] = await dancers(1);
    const refused = await as(someone).get('/moderation/queue');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'FORBIDDEN' });
    expect((await as(await dancer(['user', 'admin'])).get('/moderation/queue')).status).toBe(200);
  });

  it('lists each reported target once, with its snapshot and reasons; a claim keeps others off; a decision resolves every report', async () => {
    const [author, first, second] = await dancers(3);
    const [moderator, other] = [await moderatorOf(), await moderatorOf()];
    const post = (await as(author).post('/posts', { body: `Oferta ${crypto.randomUUID()}`, visibility: 'public' })).body.data;
    const reportA = (await report(first, 'post', post.id, 'spam')).body.data;
    await report(second, 'post', post.id, 'hate');

    const entryOf = async (who: Dancer, query: Record<string, string> = {}) => {
      const items: { targetId: string; openReports: number; reasons: string[]; snapshot: { body: string }; claimedBy: string | null }[] =
        [];
      let cursor: string | undefined;
      do {
        const res = await as(who).get('/moderation/queue', { ...query, limit: 100, ...(cursor ? { cursor } : {}) });
        items.push(...res.body.data);
        cursor = res.body.page.nextCursor ?? undefined;
      } while (cursor);
      return items.find((item) => item.targetId === post.id);
    };
    expect(await entryOf(moderator)).toMatchObject({
      openReports: 2,
      reasons: ['hate', 'spam'],
      snapshot: { body: post.body },
      claimedBy: null,
    });

    const target = `/moderation/queue/post/${post.id}`;
    expect((await as(moderator).put(`${target}/claim`)).status).toBe(204);
    expect((await as(moderator).put(`${target}/claim`)).status).toBe(204);
    expect((await as(other).put(`${target}/claim`)).body).toMatchObject({ code: 'ALREADY_CLAIMED' });
    expect(await entryOf(moderator, { unclaimed: 'true' })).toBeUndefined();
    expect((await as(other).post(`${target}/resolve`, { action: 'dismiss', reason: 'x' })).body).toMatchObject({ code: 'ALREADY_CLAIMED' });

    const decided = await as(moderator).post(`${target}/resolve`, { action: 'dismiss', reason: 'Selling shoes is allowed' });
    expect(decided.status).toBe(201);
    expect(decided.body.data).toMatchObject({
      moderatorId: moderator.id,
      action: 'dismiss',
      reportsResolved: 2,
      reason: 'Selling shoes is allowed',
    });
    expect(await entryOf(moderator)).toBeUndefined();
    expect((await as(first).get(`/reports/${reportA.id}`)).body.data).toMatchObject({ status: 'resolved', outcome: 'dismissed' });
    expect((await as(moderator).post(`${target}/resolve`, { action: 'dismiss', reason: 'again' })).status).toBe(404);
    // Resolved, it may be reported again, and comes back to the queue.
    expect((await report(first, 'post', post.id, 'spam')).status).toBe(201);
    expect(await entryOf(other)).toMatchObject({ openReports: 1, claimedBy: null });
  });
});

describe('what the review found', () => {
  it('a message hidden by a block in a group conversation cannot be reported', async () => {
    const [author, reporter, third] = await dancers(3);
    const conversation = (await as(author).post('/conversations', { kind: 'group', title: 'Práctica', memberIds: [reporter.id, third.id] }))
      .body.data;
    const message = (await as(author).post(`/conversations/${conversation.id}/messages`, { clientKey: 'k1', body: 'Hola' })).body.data;
    expect((await as(reporter).put(`/blocks/${author.id}`)).status).toBe(204);
    expect((await report(reporter, 'message', message.id)).status).toBe(404);
    expect((await report(third, 'message', message.id)).status).toBe(201);
  });

  it('a report after a decision keeps the content as it is then, not as it was in the first round', async () => {
    const [author, first, second] = await dancers(3);
    const moderator = await dancer(['user', 'moderator']);
    const post = (await as(author).post('/posts', { body: 'Nada raro', visibility: 'public' })).body.data;
    await report(first, 'post', post.id);
    await as(moderator).post(`/moderation/queue/post/${post.id}/resolve`, { action: 'dismiss', reason: 'Nothing wrong' });
    await as(author).patch(`/posts/${post.id}`, { body: 'Ahora sí, insultos' });
    await report(second, 'post', post.id, 'hate');
    expect(await snapshotOf('post', post.id)).toMatchObject({ snapshot: { body: 'Ahora sí, insultos' } });
    // The decision stays as it was taken.
    await expect(database().db.execute(sql`UPDATE moderation_actions SET reason = 'x' WHERE target_id = ${post.id}`)).rejects.toThrow();
    await expect(database().db.execute(sql`DELETE FROM moderation_actions WHERE target_id = ${post.id}`)).rejects.toThrow();
  });

  it('a claim of someone who is no longer a moderator does not lock the target', async () => {
    const [author, reporter] = await dancers(2);
    const admin = await dancer(['user', 'admin']);
    const [holder, other] = [await dancer(['user', 'moderator']), await dancer(['user', 'moderator'])];
    const post = (await as(author).post('/posts', { body: 'Spam', visibility: 'public' })).body.data;
    await report(reporter, 'post', post.id);
    const target = `/moderation/queue/post/${post.id}`;
    expect((await as(holder).put(`${target}/claim`)).status).toBe(204);
    expect((await as(other).put(`${target}/claim`)).status).toBe(409);
    expect((await as(admin).delete(`/admin/users/${holder.id}/roles/moderator`)).status).toBe(204);
    expect((await as(other).put(`${target}/claim`)).status).toBe(204);
    expect((await as(other).post(`${target}/resolve`, { action: 'dismiss', reason: 'Fine' })).status).toBe(201);
  });
});
