import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { appOnOwnDatabase } from '../../support/app';
import { type Dancer, dancersOf } from '../../support/dancers';

/** What moderators decide beyond dismissing: hide, remove, warn, suspend, ban; and appeals. */

const { app, database } = appOnOwnDatabase();

const { dancer, dancers, as } = dancersOf(app);
const moderator = () => dancer(['user', 'moderator']);

/** Someone (who may see it) reports the target; the moderator decides. */
async function decide(mod: Dancer, targetType: string, targetId: string, decision: Record<string, unknown>, reporter?: Dancer) {
  await as(reporter ?? (await dancer())).post('/reports', { targetType, targetId, reason: 'harassment' });
  return as(mod).post(`/moderation/queue/${targetType}/${targetId}/resolve`, decision);
}

const password = 'una milonga larga en canning';
let nextAddress = 0;
/** A user with a password and a real session (so that revoking it means something). */
async function member() {
  const username = `dancer-${randomUUID().slice(0, 8)}`;
  const res = await request(app().app)
    .post('/api/v1/auth/register')
    .set('X-Forwarded-For', `10.60.0.${++nextAddress}`)
    .send({ username, password, displayName: 'Ana' });
  expect(res.status).toBe(201);
  return { id: res.body.data.user.id as string, username, token: res.body.data.accessToken as string };
}
const login = (username: string) =>
  request(app().app).post('/api/v1/auth/login').set('X-Forwarded-For', `10.61.0.${++nextAddress}`).send({ username, password });
const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((item) => item.id);

describe('hidden content', () => {
  it('leaves the feed, timelines, lists and search, and is 404 for others; its author sees it flagged', async () => {
    const [author, follower, friend] = await dancers(3);
    const mod = await moderator();
    await as(follower).put(`/users/${author.id}/follow`);
    await as(author).put(`/friend-requests/${friend.id}`);
    await as(friend).post(`/friend-requests/${author.id}/accept`);
    const post = (await as(author).post('/posts', { body: 'Compren zapatos', visibility: 'public' })).body.data;
    const kept = (await as(author).post('/posts', { body: 'Milonga hoy', visibility: 'public' })).body.data;
    const onKept = (await as(author).post(`/posts/${kept.id}/comments`, { body: 'Spam en comentario' })).body.data;
    const reply = (await as(friend).post(`/posts/${kept.id}/comments`, { body: '¿Qué?', parentId: onKept.id })).body.data;
    const story = (await as(author).post('/stories', { caption: 'Spam' })).body.data;
    const memory = (await as(author).post('/memories', { title: 'Spam', happenedOn: '2020-01-01', visibility: 'public' })).body.data;
    const name = `Spam ${randomUUID().slice(0, 6)}`;
    const group = (await as(author).post('/groups', { name, kind: 'community', visibility: 'public' })).body.data;
    await as(follower).put(`/groups/${group.id}/membership`);
    const inGroup = (await as(author).post('/posts', { body: 'En el grupo', visibility: 'group', groupId: group.id })).body.data;
    const groupEvent = (
      await as(author).post('/events', {
        title: 'Práctica del grupo',
        kind: 'practica',
        city: 'Rosario',
        startsAt: '2027-02-01T20:00:00.000Z',
        endsAt: '2027-02-01T23:00:00.000Z',
        groupId: group.id,
      })
    ).body.data;
    expect(ids(await as(follower).get('/feed'))).toContain(inGroup.id);
    const chat = (await as(author).post('/conversations', { kind: 'direct', memberIds: [friend.id] })).body.data;
    const message = (await as(author).post(`/conversations/${chat.id}/messages`, { clientKey: 'k1', body: 'Spam' })).body.data;
    expect((await as(friend).get('/stories')).body.data).toHaveLength(1);

    for (const [type, id] of [
      ['post', post.id],
      ['comment', onKept.id],
      ['story', story.id],
      ['memory', memory.id],
      ['group', group.id],
    ] as const) {
      const res = await decide(mod, type, id, { action: 'hide', reason: 'Advertising' }, follower);
      expect(res.status, `${type}: ${JSON.stringify(res.body)}`).toBe(201);
      expect(res.body.data).toMatchObject({ action: 'hide', subjectId: author.id, until: null });
    }
    // A message is reported by who received it.
    await as(friend).post('/reports', { targetType: 'message', targetId: message.id, reason: 'spam' });
    expect((await as(mod).post(`/moderation/queue/message/${message.id}/resolve`, { action: 'hide', reason: 'Spam' })).status).toBe(201);

    // Others: gone from lists, feed and search, and 404 by id.
    expect(ids(await as(follower).get('/feed'))).toEqual([kept.id]);
    expect(ids(await as(follower).get('/users/me/groups'))).toEqual([]);
    expect(ids(await as(null).get(`/users/${author.id}/posts`))).toEqual([kept.id]);
    expect((await as(follower).get(`/posts/${post.id}`)).status).toBe(404);
    expect((await as(null).get(`/posts/${post.id}`)).status).toBe(404);
    expect(ids(await as(follower).get(`/posts/${kept.id}/comments`))).toEqual([]);
    // Its replies go with a hidden comment, and it takes no more.
    expect(ids(await as(follower).get(`/posts/${kept.id}/comments`, { parentId: onKept.id }))).toEqual([]);
    expect(ids(await as(null).get(`/posts/${kept.id}/comments`, { parentId: onKept.id }))).toEqual([]);
    const answer = await as(follower).post(`/posts/${kept.id}/comments`, { body: 'Y?', parentId: onKept.id });
    expect(answer.body.errors).toEqual([expect.objectContaining({ path: '/body/parentId' })]);
    expect(ids(await as(author).get(`/posts/${kept.id}/comments`, { parentId: onKept.id }))).toEqual([reply.id]);
    expect((await as(follower).get(`/posts/${kept.id}`)).body.data.commentCount).toBe(0);
    expect((await as(null).get(`/posts/${kept.id}`)).body.data.commentCount).toBe(0);
    // What is in a hidden group goes with it, for its members too.
    expect((await as(follower).get(`/posts/${inGroup.id}`)).status).toBe(404);
    expect((await as(follower).get(`/events/${groupEvent.id}`)).status).toBe(404);
    // A hidden group is frozen: its conversation gone, no post into it, no invitation; a member may leave.
    const groupChat = (await as(author).get(`/groups/${group.id}`)).body.data.conversationId as string;
    expect((await as(follower).get(`/conversations/${groupChat}/messages`)).status).toBe(404);
    expect(ids(await as(follower).get('/conversations'))).not.toContain(groupChat);
    const intoHidden = await as(follower).post('/posts', { body: 'Hola', visibility: 'group', groupId: group.id });
    expect(intoHidden.body.errors).toEqual([expect.objectContaining({ path: '/body/groupId', code: 'unknown_group' })]);
    expect((await as(author).put(`/groups/${group.id}/invitations/${friend.id}`)).status).toBe(404);
    expect((await as(follower).delete(`/groups/${group.id}/membership`)).status).toBe(204);
    // Frozen for its author too: no message into the group's conversation, no event in the group,
    // no comment or reaction on the hidden post, no reply under the hidden comment.
    expect((await as(author).post(`/conversations/${groupChat}/messages`, { clientKey: 'k2', body: 'Hola' })).status).toBe(404);
    const frozenEvent = await as(author).post('/events', {
      title: 'Otra práctica',
      kind: 'practica',
      city: 'Rosario',
      startsAt: '2027-02-08T20:00:00.000Z',
      endsAt: '2027-02-08T23:00:00.000Z',
      groupId: group.id,
    });
    expect(frozenEvent.status).toBe(400);
    expect((await as(author).post(`/posts/${post.id}/comments`, { body: 'Sigo' })).status).toBe(404);
    expect((await as(author).put(`/posts/${post.id}/reaction`, { kind: 'love' })).status).toBe(404);
    const ownReply = await as(author).post(`/posts/${kept.id}/comments`, { body: 'Y?', parentId: onKept.id });
    expect(ownReply.body.errors).toEqual([expect.objectContaining({ path: '/body/parentId' })]);
    expect((await as(follower).put(`/comments/${reply.id}/reaction`, { kind: 'like' })).status).toBe(404);
    expect((await as(friend).get('/stories')).body.data).toEqual([]);
    expect((await as(friend).get(`/stories/${story.id}`)).status).toBe(404);
    expect((await as(follower).get(`/memories/${memory.id}`)).status).toBe(404);
    expect((await as(follower).get(`/groups/${group.id}`)).status).toBe(404);
    expect(ids(await as(follower).get('/groups', { q: name }))).toEqual([]);
    expect((await as(follower).put(`/groups/${group.id}/membership`)).status).toBe(404);
    expect(ids(await as(friend).get(`/conversations/${chat.id}/messages`))).toEqual([]);
    expect((await as(friend).get(`/conversations/${chat.id}`)).body.data.lastMessage).toBeNull();

    // The author: still there, flagged.
    expect((await as(author).get(`/posts/${post.id}`)).body.data).toMatchObject({ id: post.id, hidden: true });
    expect((await as(author).get(`/posts/${kept.id}`)).body.data).toMatchObject({ hidden: false, commentCount: 2 });
    expect((await as(author).get(`/posts/${inGroup.id}`)).status).toBe(200);
    expect((await as(author).get('/feed')).body.data.map((p: { id: string; hidden: boolean }) => [p.id, p.hidden])).toEqual([
      [inGroup.id, false],
      [kept.id, false],
      [post.id, true],
    ]);
    expect((await as(author).get(`/posts/${kept.id}/comments`)).body.data).toMatchObject([{ id: onKept.id, hidden: true }]);
    expect((await as(author).get(`/stories/${story.id}`)).body.data.hidden).toBe(true);
    expect((await as(author).get(`/memories/${memory.id}`)).body.data.hidden).toBe(true);
    expect((await as(author).get(`/groups/${group.id}`)).body.data.hidden).toBe(true);
    expect((await as(author).get(`/conversations/${chat.id}/messages`)).body.data).toMatchObject([{ id: message.id, hidden: true }]);

    // Every decision is in the audit log, by whom and about whom.
    const admin = await dancer(['user', 'admin']);
    const log = (await as(admin).get('/admin/audit', { actorId: mod.id, kind: 'moderation_decision' })).body.data;
    expect(log.map((entry: { targetId: string }) => entry.targetId).sort()).toEqual(
      [post.id, onKept.id, story.id, memory.id, group.id, message.id].sort(),
    );
    expect(log[0].details).toMatchObject({ action: 'hide', subjectId: author.id, reason: expect.any(String) });
  });

  it('is appealed once by its author; another moderator upholds or overturns it, and overturned it is back', async () => {
    const [author, reader] = await dancers(2);
    const [first, second] = [await moderator(), await moderator()];
    const post = (await as(author).post('/posts', { body: 'Foto de la milonga', visibility: 'public' })).body.data;
    const action = (await decide(first, 'post', post.id, { action: 'hide', reason: 'Photo without consent' })).body.data;

    const about = (await as(author).get('/moderation/decisions')).body.data;
    expect(about).toEqual([{ action: expect.objectContaining({ id: action.id, action: 'hide' }), appealable: true, appeal: null }]);
    expect(about[0].action).not.toHaveProperty('moderatorId');
    expect((await as(reader).post(`/moderation/decisions/${action.id}/appeal`, { statement: 'Mine' })).status).toBe(404);
    const appeal = await as(author).post(`/moderation/decisions/${action.id}/appeal`, { statement: 'Everyone agreed to it' });
    expect(appeal.status).toBe(201);
    const again = await as(author).post(`/moderation/decisions/${action.id}/appeal`, { statement: 'Please' });
    expect(again.body).toMatchObject({ status: 409, code: 'ALREADY_APPEALED' });

    expect((await as(first).get('/moderation/appeals')).body.data).toContainEqual({
      appeal: expect.objectContaining({ id: appeal.body.data.id, status: 'open' }),
      action: expect.objectContaining({ id: action.id, moderatorId: first.id }),
    });
    const own = await as(first).post(`/moderation/appeals/${appeal.body.data.id}/decision`, { outcome: 'upheld', reason: 'Still no' });
    expect(own.body).toMatchObject({ status: 409, code: 'CONFLICT_OF_INTEREST' });
    const overturned = await as(second).post(`/moderation/appeals/${appeal.body.data.id}/decision`, {
      outcome: 'overturned',
      reason: 'Consent was given',
    });
    expect(overturned.body.data).toMatchObject({ status: 'overturned', decision: 'Consent was given' });
    expect((await as(reader).get(`/posts/${post.id}`)).body.data.hidden).toBe(false);
    const twice = await as(second).post(`/moderation/appeals/${appeal.body.data.id}/decision`, { outcome: 'upheld', reason: 'No' });
    expect(twice.body).toMatchObject({ status: 409, code: 'ALREADY_DECIDED' });
    expect((await as(author).get('/moderation/decisions')).body.data[0]).toMatchObject({
      appealable: false,
      appeal: { status: 'overturned' },
    });
  });
});

describe('decisions', () => {
  it('remove deletes the content for everyone; warn tells the author; both resolve the reports with their outcome', async () => {
    const [author, reporter] = await dancers(2);
    const mod = await moderator();
    const post = (await as(author).post('/posts', { body: 'Insultos', visibility: 'public' })).body.data;
    await as(reporter).post('/reports', { targetType: 'post', targetId: post.id, reason: 'harassment' });
    expect((await as(mod).post(`/moderation/queue/post/${post.id}/resolve`, { action: 'remove', reason: 'Insults' })).status).toBe(201);
    expect((await as(author).get(`/posts/${post.id}`)).status).toBe(404);
    expect((await as(reporter).get('/reports')).body.data[0]).toMatchObject({ status: 'resolved', outcome: 'removed' });

    expect((await decide(mod, 'user', author.id, { action: 'warn', reason: 'Mind your words' })).status).toBe(201);
    expect(
      (await as(author).get('/moderation/decisions')).body.data.map((d: { action: { action: string; reason: string } }) => d.action),
    ).toEqual([
      expect.objectContaining({ action: 'warn', reason: 'Mind your words', targetType: 'user' }),
      expect.objectContaining({ action: 'remove', reason: 'Insults', targetType: 'post' }),
    ]);
  });

  it('refuses what does not fit: hiding a user, a suspension without days, days without one, staff, one’s own case', async () => {
    const [author] = await dancers(1);
    const mod = await moderator();
    const hideUser = await decide(mod, 'user', author.id, { action: 'hide', reason: 'x' });
    expect(hideUser.body.errors).toEqual([expect.objectContaining({ path: '/body/action', code: 'not_applicable' })]);
    const noDays = await as(mod).post(`/moderation/queue/user/${author.id}/resolve`, { action: 'suspend', reason: 'x' });
    expect(noDays.body.errors).toEqual([expect.objectContaining({ path: '/body/suspensionDays' })]);
    const daysOnBan = await as(mod).post(`/moderation/queue/user/${author.id}/resolve`, { action: 'ban', reason: 'x', suspensionDays: 3 });
    expect(daysOnBan.status).toBe(400);

    const other = await moderator();
    const staff = await decide(mod, 'user', other.id, { action: 'ban', reason: 'x' });
    expect(staff.body).toMatchObject({ status: 409, code: 'STAFF_ACCOUNT' });
    const mine = (await as(mod).post('/posts', { body: 'Mío', visibility: 'public' })).body.data;
    const ownCase = await decide(mod, 'post', mine.id, { action: 'dismiss', reason: 'Fine' });
    expect(ownCase.body).toMatchObject({ status: 409, code: 'CONFLICT_OF_INTEREST' });
  });
});

describe('suspension and ban', () => {
  it('a suspension signs the user out at once and refuses sign-in until it ends; an appeal by password; overturned, sign-in works', async () => {
    const ana = await member();
    const [first, second] = [await moderator(), await moderator()];
    expect((await as(ana).get('/users/me')).status).toBe(200);

    const suspended = await decide(first, 'user', ana.id, { action: 'suspend', reason: 'Harassment', suspensionDays: 7 });
    expect(suspended.status).toBe(201);
    const until = suspended.body.data.until as string;
    expect(new Date(until).getTime() - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect((await as(ana).get('/users/me')).status).toBe(401);
    // A shorter suspension never cuts a longer one short.
    const shorter = (await decide(await moderator(), 'user', ana.id, { action: 'suspend', reason: 'Spam', suspensionDays: 1 })).body.data;
    expect(new Date(shorter.until).getTime()).toBeLessThan(new Date(until).getTime());

    const refused = await login(ana.username);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'ACCOUNT_SUSPENDED', until });
    // The wrong password learns nothing of it.
    const guess = await request(app().app).post('/api/v1/auth/login').send({ username: ana.username, password: 'not the password at all' });
    expect(guess.body.code).toBe('INVALID_CREDENTIALS');

    // Each suspension in force is appealed once, the one ending last first.
    const appealWith = (pw: string) =>
      request(app().app)
        .post('/api/v1/moderation/suspension-appeals')
        .send({ username: ana.username, password: pw, statement: 'A misunderstanding' });
    expect((await appealWith('not the password at all')).body.code).toBe('INVALID_CREDENTIALS');
    const appeals = [(await appealWith(password)).body.data, (await appealWith(password)).body.data];
    expect(appeals.map((a) => a.actionId)).toEqual([suspended.body.data.id, shorter.id]);
    expect((await appealWith(password)).body.code).toBe('ALREADY_APPEALED');

    // Overturning the longer one leaves the shorter in force; overturning both lets her in.
    const overturn = (appealId: string) =>
      as(second).post(`/moderation/appeals/${appealId}/decision`, { outcome: 'overturned', reason: 'It was' });
    expect((await overturn(appeals[0].id)).status).toBe(200);
    expect((await login(ana.username)).body).toMatchObject({ code: 'ACCOUNT_SUSPENDED', until: shorter.until });
    expect((await overturn(appeals[1].id)).status).toBe(200);
    expect((await login(ana.username)).status).toBe(200);

    const admin = await dancer(['user', 'admin']);
    const kinds = (await as(admin).get('/admin/audit', { targetId: ana.id })).body.data.map((e: { kind: string }) => e.kind);
    expect(kinds).toEqual(['appeal_decision', 'appeal_decision', 'moderation_decision', 'moderation_decision']);
  });

  it('a sign-in racing a suspension never keeps a working token', async () => {
    const mod = await moderator();
    for (let round = 0; round < 4; round++) {
      const ana = await member();
      await as(await dancer()).post('/reports', { targetType: 'user', targetId: ana.id, reason: 'spam' });
      const [signIn, decided] = await Promise.all([
        login(ana.username),
        as(mod).post(`/moderation/queue/user/${ana.id}/resolve`, { action: 'suspend', reason: 'Spam', suspensionDays: 1 }),
      ]);
      expect(decided.status).toBe(201);
      if (signIn.status === 200) {
        const token = signIn.body.data.accessToken as string;
        expect((await request(app().app).get('/api/v1/users/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
      } else expect(signIn.body.code).toBe('ACCOUNT_SUSPENDED');
    }
  });

  it('ends by itself; a ban does not, and is not appealed', async () => {
    const ana = await member();
    const mod = await moderator();
    await decide(mod, 'user', ana.id, { action: 'suspend', reason: 'Spam', suspensionDays: 1 });
    expect((await login(ana.username)).body.code).toBe('ACCOUNT_SUSPENDED');
    await database().db.execute(sql`UPDATE users SET suspended_until = now() - interval '1 second' WHERE id = ${ana.id}`);
    const back = await login(ana.username);
    expect(back.status).toBe(200);
    const token = back.body.data.accessToken as string;
    expect((await request(app().app).get('/api/v1/users/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const over = await request(app().app)
      .post('/api/v1/moderation/suspension-appeals')
      .send({ username: ana.username, password, statement: 'Late' });
    expect(over.body.code).toBe('NOT_APPEALABLE');

    await decide(mod, 'user', ana.id, { action: 'ban', reason: 'Spam again' });
    expect((await request(app().app).get('/api/v1/users/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    expect((await login(ana.username)).body).toMatchObject({ status: 403, code: 'ACCOUNT_BANNED' });
    const banned = (await as({ ...ana, token: await app().token(ana.id) }).get('/moderation/decisions')).body.data;
    expect(banned[0]).toMatchObject({ action: { action: 'ban' }, appealable: false });
  });
});
