import type { SocialHandlers } from '../../generated/server';
import { ApiError } from '../../runtime/server';
import type { Services } from '../services';
import type { Connection, ConnectionPage } from '../services/social';
import { toUser } from '../services/user-views';

/** One answer for absent and hidden alike (see server/services/social.ts). */
const noSuchUser = () => new ApiError('NOT_FOUND', 'No user with this id');

function notSelf(callerId: string, userId: string) {
  if (callerId === userId) throw new ApiError('CANNOT_TARGET_SELF', 'You cannot do this to yourself');
}

const toConnection = (c: Connection) => ({ user: toUser(c.user), since: c.since.toISOString() });

function shown(page: ConnectionPage | 'hidden') {
  if (page === 'hidden') throw noSuchUser();
  return { items: page.items.map(toConnection), next: page.next };
}

export const social: SocialHandlers<Services> = {
  async followUser({ params }, { social, user }) {
    notSelf(user.id, params.userId);
    if ((await social.follow(user.id, params.userId)) === 'hidden') throw noSuchUser();
  },

  async unfollowUser({ params }, { social, user }) {
    notSelf(user.id, params.userId);
    await social.unfollow(user.id, params.userId);
  },

  async listFollowers({ params, page }, { social, user }) {
    return shown(await social.listFollowers(user.id, params.userId, page));
  },

  async listFollowing({ params, page }, { social, user }) {
    return shown(await social.listFollowing(user.id, params.userId, page));
  },

  async sendFriendRequest({ params }, { social, user }) {
    notSelf(user.id, params.userId);
    const outcome = await social.sendFriendRequest(user.id, params.userId);
    if (outcome === 'hidden') throw noSuchUser();
    return { status: outcome.status, since: outcome.since.toISOString() };
  },

  async cancelFriendRequest({ params }, { social, user }) {
    notSelf(user.id, params.userId);
    await social.cancelFriendRequest(user.id, params.userId);
  },

  async acceptFriendRequest({ params }, { social, user }) {
    notSelf(user.id, params.userId);
    const friendship = await social.acceptFriendRequest(user.id, params.userId);
    if (friendship === 'missing') throw new ApiError('NOT_FOUND', 'No friend request from this user');
    return toConnection(friendship);
  },

  async declineFriendRequest({ params }, { social, user }) {
    notSelf(user.id, params.userId);
    await social.declineFriendRequest(user.id, params.userId);
  },

  async listFriendRequests({ query, page }, { social, user }) {
    return shown(await social.listFriendRequests(user.id, query.direction, page));
  },

  async unfriend({ params }, { social, user }) {
    notSelf(user.id, params.userId);
    await social.unfriend(user.id, params.userId);
  },

  async listFriends({ params, page }, { social, user }) {
    return shown(await social.listFriends(user.id, params.userId, page));
  },

  async blockUser({ params }, { social, user }) {
    notSelf(user.id, params.userId);
    await social.block(user.id, params.userId);
  },

  async unblockUser({ params }, { social, user }) {
    notSelf(user.id, params.userId);
    await social.unblock(user.id, params.userId);
  },

  async listBlocks({ page }, { social, user }) {
    return shown(await social.listBlocks(user.id, page));
  },
};
