import type { StoriesHandlers } from '../../generated/server';
import type { Services } from '../services';
import type { StoryView } from '../services/stories';
import { toUser } from '../services/user-views';

function toStory(view: StoryView, viewerId: string) {
  const { story } = view;
  return {
    id: story.id,
    authorId: story.authorId,
    caption: story.caption,
    media: view.media,
    createdAt: story.createdAt.toISOString(),
    expiresAt: story.expiresAt.toISOString(),
    seen: view.seen,
    hidden: story.hiddenAt !== null,
    viewCount: story.authorId === viewerId ? story.viewCount : 0,
  };
}

export const stories: StoriesHandlers<Services> = {
  async createStory({ body }, { stories, user }) {
    return toStory(await stories.create(user.id, body), user.id);
  },

  async listStoryReels({ page }, { stories, user }) {
    const reels = await stories.reels(user.id, page);
    return {
      items: reels.items.map((reel) => ({
        author: toUser(reel.author),
        stories: reel.stories.map((story) => toStory(story, user.id)),
        allSeen: reel.stories.every((story) => story.seen),
      })),
      next: reels.next,
    };
  },

  async getStory({ params }, { stories, user }) {
    return toStory(await stories.get(user.id, params.storyId), user.id);
  },

  async markStorySeen({ params }, { stories, user }) {
    await stories.markSeen(user.id, params.storyId);
  },

  async listStoryViewers({ params, page }, { stories, user }) {
    const list = await stories.viewers(user.id, params.storyId, page);
    return { items: list.items.map((v) => ({ user: toUser(v.user), seenAt: v.seenAt.toISOString() })), next: list.next };
  },

  async deleteStory({ params }, { stories, user }) {
    await stories.remove(user.id, params.storyId);
  },
};
