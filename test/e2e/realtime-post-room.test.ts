import { expect, it } from 'vitest';
import { connected, next, realtimeServerForFile, signUp } from '../support/realtime';

/** Viewers of a post follow its comments and reactions live; a blocked viewer never gets the blocker's comments. */
const file = realtimeServerForFile();

it('post:{id} pushes new comments and reaction counts to its viewers, never a comment across a block', async () => {
  const [ana, ben, cleo, eve] = await Promise.all([
    signUp(file.server.url),
    signUp(file.server.url),
    signUp(file.server.url),
    signUp(file.server.url),
  ]);
  const post = await ana.api.posts.createPost({ body: { body: 'Milonga esta noche', visibility: 'public' } });
  const friendsOnly = await ana.api.posts.createPost({ body: { body: 'Solo amigos', visibility: 'friends' } });
  await cleo.api.social.blockUser({ params: { userId: ben.id } });
  const [benPhone, cleoPhone, evePhone] = [ben.device(), cleo.device(), eve.device()];
  await Promise.all([benPhone, cleoPhone, evePhone].map(connected));
  try {
    for (const phone of [benPhone, cleoPhone, evePhone]) await phone.join(`post:${post.id}`);
    // A post the user may not see has no room for them.
    await expect(evePhone.join(`post:${friendsOnly.id}`)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(evePhone.emit('room:members', { room: `post:${post.id}` })).rejects.toMatchObject({ code: 'FORBIDDEN' });

    const cleoGot: string[] = [];
    cleoPhone.on('post:comment', (comment) => cleoGot.push(comment.body));
    const eveHears = next(evePhone, 'post:comment');
    const benComment = await ben.api.posts.createComment({ params: { postId: post.id }, body: { body: 'Allí estaré' } });
    expect(await eveHears).toMatchObject({ id: benComment.id, body: 'Allí estaré', author: { id: ben.id }, myReaction: null });

    const cleoHears = next(cleoPhone, 'post:comment');
    await eve.api.posts.createComment({ params: { postId: post.id }, body: { body: 'Yo también' } });
    expect((await cleoHears).body).toBe('Yo también');
    // Ben's comment, pushed before Eve's, never reached Cleo, who blocked him.
    expect(cleoGot).toEqual(['Yo también']);

    const counts = next(benPhone, 'post:reactions');
    await eve.api.posts.reactToPost({ params: { postId: post.id }, body: { kind: 'tango' } });
    expect(await counts).toEqual({ postId: post.id, reactions: { like: 0, love: 0, tango: 1, laugh: 0, sad: 0 } });
  } finally {
    for (const phone of [benPhone, cleoPhone, evePhone]) phone.close();
  }
});
