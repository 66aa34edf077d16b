import type { PostsHandlers } from '../../generated/server';
import { ApiError } from '../../runtime/server';
import type { Services } from '../services';
import { countsOf, type PostView, toWireComment } from '../services/posts';
import { toUser } from '../services/user-views';

function toPost(view: PostView) {
  const { post } = view;
  return {
    id: post.id,
    author: toUser(view.author),
    body: post.body,
    mentions: view.mentions,
    hashtags: post.hashtags,
    visibility: post.visibility,
    groupId: post.groupId,
    eventId: post.eventId,
    city: post.city,
    media: view.media,
    reactions: countsOf(post),
    myReaction: view.myReaction,
    commentCount: post.commentCount,
    hidden: post.hiddenAt !== null,
    createdAt: post.createdAt.toISOString(),
    editedAt: post.editedAt?.toISOString() ?? null,
  };
}

export const posts: PostsHandlers<Services> = {
  async createPost({ body }, { posts, user }) {
    return toPost(await posts.create(user.id, body));
  },

  async getPost({ params }, { posts, user }) {
    return toPost(await posts.get(user?.id ?? null, params.postId));
  },

  async updatePost({ params, body }, { posts, user, precondition }) {
    return toPost(await posts.update(user.id, params.postId, body, (seen) => precondition(toPost(seen))));
  },

  async deletePost({ params }, { posts, user }) {
    await posts.remove(user, params.postId);
  },

  async listUserPosts({ params, page: request }, { posts, user }) {
    const timeline = await posts.timeline(user?.id ?? null, params.userId, request);
    if (timeline === 'hidden') throw new ApiError('NOT_FOUND', 'No user with this id');
    return { items: timeline.items.map(toPost), next: timeline.next };
  },

  async getFeed({ page: request }, { posts, user }) {
    const feed = await posts.feed(user.id, request);
    return { items: feed.items.map(toPost), next: feed.next };
  },

  async listComments({ params, query, page: request }, { posts, user }) {
    const list = await posts.comments(user?.id ?? null, params.postId, query.parentId, request);
    return { items: list.items.map(toWireComment), next: list.next };
  },

  async createComment({ params, body }, { posts, user }) {
    return toWireComment(await posts.comment(user.id, params.postId, body));
  },

  async updateComment({ params, body }, { posts, user }) {
    return toWireComment(await posts.updateComment(user.id, params.commentId, body.body));
  },

  async deleteComment({ params }, { posts, user }) {
    await posts.removeComment(user, params.commentId);
  },

  async reactToPost({ params, body }, { posts, user }) {
    return posts.reactToPost(user.id, params.postId, body.kind);
  },

  async removePostReaction({ params }, { posts, user }) {
    return posts.reactToPost(user.id, params.postId, null);
  },

  async listPostReactions({ params, query, page: request }, { posts, user }) {
    const list = await posts.reactions(user?.id ?? null, params.postId, query.kind, request);
    return {
      items: list.items.map((reaction) => ({
        user: toUser(reaction.user),
        kind: reaction.kind,
        reactedAt: reaction.reactedAt.toISOString(),
      })),
      next: list.next,
    };
  },

  async reactToComment({ params, body }, { posts, user }) {
    return posts.reactToComment(user.id, params.commentId, body.kind);
  },

  async removeCommentReaction({ params }, { posts, user }) {
    return posts.reactToComment(user.id, params.commentId, null);
  },
};
