import { normalizeUsername } from '../../contracts/users';
import type { UsersHandlers } from '../../generated/server';
import { ApiError, unauthenticated } from '../../runtime/server';
import type { Services } from '../services';
import { toMe, toUser } from './user-views';

export const users: UsersHandlers<Services> = {
  async getMe(_input, { userStore, user }) {
    const me = await userStore.get(user.id);
    // A token can outlive its account by a few minutes.
    if (!me) throw unauthenticated();
    return toMe(me);
  },

  async updateMe({ body }, { userStore, user }) {
    const updated = await userStore.update(user.id, body);
    if (!updated) throw unauthenticated();
    return toMe(updated);
  },

  async getUser({ params }, { userStore }) {
    const found = await userStore.findByIdOrUsername(params.user, normalizeUsername);
    if (!found) throw new ApiError('NOT_FOUND', 'No user with this id or username');
    return toUser(found);
  },

  async searchUsers({ query, page }, { userStore }) {
    const { items, next } = await userStore.search({ q: query.q, city: query.city, limit: page.limit, after: page.after });
    return { items: items.map(toUser), next };
  },
};
