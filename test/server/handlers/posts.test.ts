import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import { createTestApp } from '../../support/app';
import { type Dancer, dancersOf } from '../../support/dancers';
import { describeOnServerBackend } from '../../support/database';

interface Post {
  id: string;
  body: string;
  mentions: { userId: string; username: string }[];
  hashtags: string[];
  reactions: Record<string, number>;
  myReaction: string | null;
  commentCount: number;
  editedAt: string | null;
}

describeOnServerBackend('posts API', (backend) => {
  let database: Database;
  let test: Awaited<ReturnType<typeof createTestApp>>;

  beforeAll(async () => {
    database = await backend.open();
    test = await createTestApp(database);
  });
  afterAll(async () => {
    await test.close();
    await database.close();
  });

  const { dancer, dancers, as } = dancersOf(() => test);

  async function post(author: Dancer, body: object = {}): Promise<Post> {
    const res = await as(author).post('/posts', { body: 'Una tanda de valses', visibility: 'public', ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.data;
  }
  const befriend = async (a: Dancer, b: Dancer) => {
    await as(a).put(`/friend-requests/${b.id}`);
    await as(b).post(`/friend-requests/${a.id}/accept`);
  };
  const kindsOf = async (who: Dancer, postId: string) =>
    ((await as(who).get('/notifications')).body.data as { kind: string; target: { id: string }; actorCount: number }[])
      .filter((n) => n.target.id === postId)
      .map((n) => `${n.kind}×${n.actorCount}`);
  /** Every post id of a list, page after page, `limit` at a time. */
  async function all(who: Dancer | null, path: string, limit = 100): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await as(who).get(path, { limit, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      ids.push(...res.body.data.map((p: { id: string }) => p.id));
      cursor = res.body.page.nextCursor;
    } while (cursor);
    return ids;
  }

  describe('posts', () => {
    it('parses mentions and hashtags, and tells the mentioned who may see the post', async () => {
      const [ana, ben, cleo] = await dancers(3);
      const created = await post(ana, {
        body: `Gracias @${ben.username.toUpperCase()} y @${cleo.username}. por la #Milonga #vals #milonga, @nobody-here y ana@example.com #1`,
        city: 'Rosario',
      });
      expect(created.mentions).toEqual([
        { userId: ben.id, username: ben.username },
        { userId: cleo.id, username: cleo.username },
      ]);
      expect(created.hashtags).toEqual(['milonga', 'vals']);
      expect(created).toMatchObject({
        reactions: { like: 0, love: 0, tango: 0, laugh: 0, sad: 0 },
        myReaction: null,
        commentCount: 0,
        editedAt: null,
      });
      expect(await kindsOf(ben, created.id)).toEqual(['post_mention×1']);

      // A friends-only post tells only the mentioned who are friends.
      await befriend(ana, cleo);
      const close = await post(ana, { body: `@${ben.username} @${cleo.username} solo amigos`, visibility: 'friends' });
      expect(await kindsOf(ben, close.id)).toEqual([]);
      expect(await kindsOf(cleo, close.id)).toEqual(['post_mention×1']);

      // Signed out, a public post reads the same.
      expect((await as(null).get(`/posts/${created.id}`)).body.data).toMatchObject({ id: created.id, mentions: created.mentions });
    });

    it('friends-only and group posts are 404 to anyone else, and a block hides posts both ways', async () => {
      const [ana, friend, stranger, member] = await dancers(4);
      await befriend(ana, friend);
      const group = (await as(ana).post('/groups', { name: 'Práctica', kind: 'community', visibility: 'private' })).body.data;
      await as(ana).put(`/groups/${group.id}/invitations/${member.id}`);
      await as(member).put(`/groups/${group.id}/membership`);
      const open = await post(ana);
      const close = await post(ana, { visibility: 'friends' });
      const inGroup = await post(ana, { visibility: 'group', groupId: group.id });
      const status = async (who: Dancer | null, id: string) => (await as(who).get(`/posts/${id}`)).status;

      expect([await status(friend, close.id), await status(stranger, close.id), await status(null, close.id)]).toEqual([200, 404, 404]);
      expect([await status(member, inGroup.id), await status(friend, inGroup.id), await status(null, inGroup.id)]).toEqual([200, 404, 404]);
      expect(await all(friend, `/users/${ana.id}/posts`)).toEqual([close.id, open.id]);
      expect(await all(stranger, `/users/${ana.id}/posts`)).toEqual([open.id]);
      expect(await all(member, `/users/${ana.id}/posts`)).toEqual([inGroup.id, open.id]);

      await as(stranger).put(`/blocks/${ana.id}`);
      const missing = await as(stranger).get(`/posts/${randomUUID()}`);
      const blocked = await as(stranger).get(`/posts/${open.id}`);
      expect([blocked.status, blocked.body.detail]).toEqual([missing.status, missing.body.detail]);
      expect((await as(ana).get(`/posts/${(await post(stranger)).id}`)).status).toBe(404);
      expect((await as(stranger).get(`/users/${ana.id}/posts`)).status).toBe(404);
      expect((await as(stranger).put(`/posts/${open.id}/reaction`, { kind: 'like' })).status).toBe(404);
      expect((await as(stranger).post(`/posts/${open.id}/comments`, { body: 'hola' })).status).toBe(404);
    });

    it('group posts need membership; unknown groups and hidden events are field errors', async () => {
      const [ana, eve] = await dancers(2);
      const group = (await as(ana).post('/groups', { name: 'Orquesta', kind: 'orchestra', visibility: 'public' })).body.data;
      expect((await as(eve).post('/posts', { body: 'x', visibility: 'group', groupId: group.id })).status).toBe(403);
      const unknown = await as(eve).post('/posts', { body: 'x', visibility: 'group', groupId: randomUUID() });
      expect([unknown.status, unknown.body.errors[0].path]).toEqual([400, '/body/groupId']);
      const mismatch = await as(eve).post('/posts', { body: 'x', visibility: 'public', groupId: group.id });
      expect([mismatch.status, mismatch.body.errors[0].path]).toEqual([400, '/body/groupId']);
      const privateGroup = (await as(ana).post('/groups', { name: 'Secreta', kind: 'community', visibility: 'private' })).body.data;
      const hour = 3_600_000;
      const event = (
        await as(ana).post('/events', {
          title: 'Práctica privada',
          kind: 'practica',
          city: 'Berlin',
          groupId: privateGroup.id,
          startsAt: new Date(Date.now() + hour).toISOString(),
          endsAt: new Date(Date.now() + 2 * hour).toISOString(),
        })
      ).body.data;
      const hidden = await as(eve).post('/posts', { body: 'x', visibility: 'public', eventId: event.id });
      expect([hidden.status, hidden.body.errors[0].path]).toEqual([400, '/body/eventId']);
      expect((await as(ana).post('/posts', { body: 'x', visibility: 'public', eventId: event.id })).status).toBe(201);
    });

    it('the author edits (editedAt, new mentions told); author, group admins and moderators delete', async () => {
      const [ana, ben, cleo, admin] = await dancers(4);
      const moderator = await dancer(['user', 'moderator']);
      const first = await post(ana, { body: 'Primera versión' });
      expect((await as(ben).patch(`/posts/${first.id}`, { body: 'Mía' })).status).toBe(403);
      const edited = await as(ana).patch(`/posts/${first.id}`, { body: `Con @${cleo.username} #tango` });
      expect(edited.status).toBe(200);
      expect(edited.body.data).toMatchObject({ body: `Con @${cleo.username} #tango`, hashtags: ['tango'] });
      expect(edited.body.data.editedAt).toEqual(expect.any(String));
      expect(await kindsOf(cleo, first.id)).toEqual(['post_mention×1']);

      expect((await as(ben).delete(`/posts/${first.id}`)).status).toBe(403);
      expect((await as(moderator).delete(`/posts/${first.id}`)).status).toBe(204);
      expect((await as(ana).get(`/posts/${first.id}`)).status).toBe(404);

      const group = (await as(admin).post('/groups', { name: 'Club', kind: 'city', visibility: 'public' })).body.data;
      await as(ana).put(`/groups/${group.id}/membership`);
      const inGroup = await post(ana, { visibility: 'group', groupId: group.id });
      expect((await as(admin).delete(`/posts/${inGroup.id}`)).status).toBe(204);
      const own = await post(ana);
      expect((await as(ana).delete(`/posts/${own.id}`)).status).toBe(204);
    });
  });

  describe('comments and reactions', () => {
    it('comments and one level of replies: counted, listed oldest first, notified', async () => {
      const [ana, ben, cleo] = await dancers(3);
      const { id } = await post(ana);
      const first = (await as(ben).post(`/posts/${id}/comments`, { body: '¡Hermoso!' })).body.data;
      const reply = await as(cleo).post(`/posts/${id}/comments`, { body: 'Sí', parentId: first.id });
      expect(reply.status).toBe(201);
      expect(reply.body.data).toMatchObject({ parentId: first.id, postId: id });
      const nested = await as(ana).post(`/posts/${id}/comments`, { body: 'no', parentId: reply.body.data.id });
      expect([nested.status, nested.body.errors[0].path]).toEqual([400, '/body/parentId']);
      const second = (await as(cleo).post(`/posts/${id}/comments`, { body: 'Otra' })).body.data;

      expect((await as(null).get(`/posts/${id}`)).body.data.commentCount).toBe(3);
      expect(await all(null, `/posts/${id}/comments`, 1)).toEqual([first.id, second.id]);
      const replies = (await as(ana).get(`/posts/${id}/comments`, { parentId: first.id })).body.data;
      expect(replies.map((c: { id: string }) => c.id)).toEqual([reply.body.data.id]);
      expect((await as(ana).get(`/posts/${id}/comments`)).body.data[0].replyCount).toBe(1);
      expect(await kindsOf(ana, id)).toEqual(['post_comment×2']);
      expect(await kindsOf(ben, id)).toEqual(['comment_reply×1']);

      // The post's author deletes a comment, and its replies go with it; others may not.
      expect((await as(cleo).delete(`/comments/${first.id}`)).status).toBe(403);
      expect((await as(ana).delete(`/comments/${first.id}`)).status).toBe(204);
      expect((await as(null).get(`/posts/${id}`)).body.data.commentCount).toBe(1);
      expect((await as(cleo).patch(`/comments/${second.id}`, { body: 'Editado' })).body.data).toMatchObject({ body: 'Editado' });
    });

    it('a comment of someone across a block is left out for the other, and cannot be answered', async () => {
      const [ana, ben, troll] = await dancers(3);
      const { id } = await post(ana);
      const bad = (await as(troll).post(`/posts/${id}/comments`, { body: 'meh' })).body.data;
      await as(troll).put(`/posts/${id}/reaction`, { kind: 'laugh' });
      await as(ana).put(`/posts/${id}/reaction`, { kind: 'laugh' });
      await as(ben).put(`/blocks/${troll.id}`);
      expect((await as(ben).get(`/posts/${id}/comments`)).body.data).toEqual([]);
      // Counts agree with what each may see: the troll's comment and reaction count for Ana, not for Ben.
      expect((await as(ben).get(`/posts/${id}`)).body.data).toMatchObject({ commentCount: 0, reactions: { laugh: 1 } });
      expect((await as(ana).get(`/posts/${id}`)).body.data).toMatchObject({ commentCount: 1, reactions: { laugh: 2 } });
      expect((await as(ben).put(`/posts/${id}/reaction`, { kind: 'laugh' })).body.data).toMatchObject({ laugh: 2 });
      expect((await as(ana).get(`/posts/${id}/comments`)).body.data.map((c: { id: string }) => c.id)).toEqual([bad.id]);
      expect((await as(ben).post(`/posts/${id}/comments`, { body: 'x', parentId: bad.id })).status).toBe(400);
      expect((await as(ben).put(`/comments/${bad.id}/reaction`, { kind: 'sad' })).status).toBe(404);
    });

    it('one reaction per person: changing moves the count, removing takes it back; the author hears once per person', async () => {
      const [ana, ben, cleo] = await dancers(3);
      const { id } = await post(ana);
      expect((await as(ben).put(`/posts/${id}/reaction`, { kind: 'like' })).body.data).toMatchObject({ like: 1 });
      expect((await as(ben).put(`/posts/${id}/reaction`, { kind: 'tango' })).body.data).toMatchObject({ like: 0, tango: 1 });
      await Promise.all([
        as(cleo).put(`/posts/${id}/reaction`, { kind: 'tango' }),
        as(cleo).put(`/posts/${id}/reaction`, { kind: 'tango' }),
      ]);
      expect((await as(ben).get(`/posts/${id}`)).body.data).toMatchObject({ reactions: { tango: 2, like: 0 }, myReaction: 'tango' });
      const who = (await as(ana).get(`/posts/${id}/reactions`, { kind: 'tango' })).body.data;
      expect(who.map((r: { user: { id: string } }) => r.user.id).sort()).toEqual([ben.id, cleo.id].sort());
      expect(await kindsOf(ana, id)).toEqual(['post_reaction×2']);
      expect((await as(ben).delete(`/posts/${id}/reaction`)).body.data).toMatchObject({ tango: 1 });
      expect((await as(ben).delete(`/posts/${id}/reaction`)).body.data).toMatchObject({ tango: 1 });

      const comment = (await as(ben).post(`/posts/${id}/comments`, { body: 'Bravo' })).body.data;
      expect((await as(cleo).put(`/comments/${comment.id}/reaction`, { kind: 'love' })).body.data).toMatchObject({ love: 1 });
      expect((await as(cleo).put(`/comments/${comment.id}/reaction`, { kind: 'love' })).body.data).toMatchObject({ love: 1 });
      expect((await as(cleo).delete(`/comments/${comment.id}/reaction`)).body.data).toMatchObject({ love: 0 });
    });
  });

  describe('feed', () => {
    it('holds what I follow, my friends, my groups and me, and nothing I may not see', async () => {
      const [me, followed, friend, stranger] = await dancers(4);
      const blocked = await dancer();
      await as(me).put(`/users/${followed.id}/follow`);
      await as(me).put(`/users/${blocked.id}/follow`);
      await befriend(me, friend);
      const group = (await as(stranger).post('/groups', { name: 'Grupo', kind: 'community', visibility: 'public' })).body.data;
      await as(me).put(`/groups/${group.id}/membership`);

      const expected = [
        (await post(followed)).id,
        (await post(friend, { visibility: 'friends' })).id,
        (await post(stranger, { visibility: 'group', groupId: group.id })).id,
        (await post(me, { visibility: 'friends' })).id,
      ];
      await post(followed, { visibility: 'friends' }); // followed, not a friend: not mine to see
      await post(stranger); // not followed
      const hidden = await post(blocked);
      await as(blocked).put(`/blocks/${me.id}`);
      expect(await all(me, '/feed')).toEqual([...expected].reverse());
      expect(await all(me, '/feed')).not.toContain(hidden.id);
    });

    it('with more sources than a page, each page holds the newest posts of all of them', async () => {
      const me = await dancer();
      const authors = await Promise.all(Array.from({ length: 6 }, () => dancer()));
      for (const author of authors) await as(me).put(`/users/${author.id}/follow`);
      // Uneven: one author posts in bursts, so a page may come from one source or from several.
      const order = [0, 0, 0, 1, 2, 3, 0, 4, 5, 5, 5, 1, 2, 0];
      const made: string[] = [];
      for (const i of order) made.push((await post(authors[i]!, { body: `De ${i}` })).id);
      expect(await all(me, '/feed', 2)).toEqual([...made].reverse());
      expect(await all(me, '/feed', 3)).toEqual([...made].reverse());
    });

    it('pages newest first with no repeat and no skip while posts arrive', async () => {
      const [me, a, b] = await dancers(3);
      await as(me).put(`/users/${a.id}/follow`);
      await as(me).put(`/users/${b.id}/follow`);
      const before: string[] = [];
      for (let i = 0; i < 9; i++) before.push((await post(i % 2 ? a : b, { body: `Post ${i}` })).id);

      const seen: string[] = [];
      let cursor: string | null = null;
      let arrived = 0;
      do {
        const res = await as(me).get('/feed', { limit: 4, ...(cursor ? { cursor } : {}) });
        seen.push(...res.body.data.map((p: { id: string }) => p.id));
        cursor = res.body.page.nextCursor;
        // New posts while paging, from both sources at once: they belong on a new first page.
        await Promise.all([post(a, { body: `New ${arrived++}` }), post(b, { body: `New ${arrived++}` })]);
      } while (cursor);
      expect(seen).toEqual([...before].reverse());
    });
  });

  it('writes send their rate limit policy and need a signed-in user', async () => {
    const ana = await dancer();
    const { id } = await post(ana);
    expect((await as(ana).patch(`/posts/${id}`, { city: 'Lima' })).headers['ratelimit-policy']).toMatch(/"post-writes";q=600;w=3600/);
    expect((await as(null).post('/posts', { body: 'x', visibility: 'public' })).status).toBe(401);
    expect((await as(null).get('/feed')).status).toBe(401);
  });
});
