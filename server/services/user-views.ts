import type { UserRecord } from './users';

/** What of a user leaves the API: the public profile, and the fuller view of oneself. */
export function toUser(user: UserRecord) {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    bio: user.bio,
    city: user.city,
    danceRole: user.danceRole,
    avatarUrl: user.avatarUrl,
    avatarMediaId: user.avatarMediaId,
    createdAt: user.createdAt.toISOString(),
  };
}

export function toMe(user: UserRecord) {
  return {
    ...toUser(user),
    roles: user.roles,
    mfaEnabled: user.mfaEnabled,
    showPresence: user.showPresence,
    updatedAt: user.updatedAt.toISOString(),
  };
}
