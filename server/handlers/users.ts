import { ExportRecordKind, ExportRecordKindV2, normalizeUsername } from '../../contracts/users';
import type { UsersHandlers } from '../../generated/server';
import { ApiError, unauthenticated } from '../../runtime/server';
import { verifyPassword } from '../auth/password-hash';
import type { Services } from '../services';
import { toMe, toUser } from '../services/user-views';

export const users: UsersHandlers<Services> = {
  async deleteMyAccount({ body }, ctx) {
    const me = await ctx.userStore.get(ctx.user.id);
    if (!me) throw unauthenticated();
    if (!(await verifyPassword(me.passwordHash, body.password))) throw new ApiError('INVALID_CREDENTIALS', 'The password is wrong');
    await ctx.accounts.delete(me.id);
    ctx.log.info({ security: 'account_deleted', userId: me.id, ip: ctx.client.ip }, 'security: account_deleted');
  },

  async exportMyData(_input, { accounts, user }) {
    return accounts.export(user.id, ExportRecordKind.options);
  },

  async exportMyDataV2(_input, { accounts, user }) {
    return accounts.export(user.id, ExportRecordKindV2.options);
  },

  async getMe(_input, { userStore, user }) {
    const me = await userStore.get(user.id);
    // A token can outlive its account by a few minutes.
    if (!me) throw unauthenticated();
    return toMe(me);
  },

  async updateMe({ body }, { userStore, media, presence, user }) {
    const avatar = body.avatarMediaId;
    const updated = await userStore.update(
      user.id,
      body,
      avatar ? (tx) => media.requireOwn(tx, user.id, [avatar], 'avatarMediaId', 'image') : undefined,
    );
    if (!updated) throw unauthenticated();
    if (updated.showPresenceChanged) await presence.sharingChanged(user.id, updated.user.showPresence);
    return toMe(updated.user);
  },

  async getUser({ params }, { userStore, social, user }) {
    const found = await userStore.findByIdOrUsername(params.user, normalizeUsername);
    // A block, either way, answers a signed-in caller exactly like a missing user.
    if (!found || (user && !(await social.visibleUser(user.id, found.id))))
      throw new ApiError('NOT_FOUND', 'No user with this id or username');
    const [counts, relationship] = await Promise.all([
      social.followCounts(user?.id ?? null, found.id),
      user ? social.relationship(user.id, found.id) : null,
    ]);
    return { ...toUser(found), ...counts, relationship };
  },

  async searchUsers({ query, page }, { userStore, user }) {
    const { items, next } = await userStore.search({
      q: query.q,
      city: query.city,
      viewerId: user.id,
      limit: page.limit,
      after: page.after,
    });
    return { items: items.map(toUser), next };
  },
};
