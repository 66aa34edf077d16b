import { and, desc, eq, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { AppDb, Tx } from '../db/database';
import { before, toPage, type PageKey } from '../db/keyset';
import { blocks, follows, friendRequests, friendships, groupRequests, users } from '../db/schema';
import { forgetNotificationsBetween, type NotificationService, withNotifications } from './notifications';
import type { UserRecord } from './users';

/**
 * The social graph: follows, friendships, friend requests and blocks, and the one hiding rule.
 *
 * Hiding rule: a block, whichever way, makes each user absent for the other. Every read that names
 * a user (profile, lists of a user) answers `'hidden'` for them, which the API turns into the same
 * 404 as an unknown id; every list and count leaves out users hidden from the caller. Writes that
 * need the other user (follow, friend request, accept) answer `'hidden'` for them too; writes that
 * only remove something (unfollow, cancel, decline, unfriend, unblock) and block itself answer the
 * same for every id, existing or not, so no write can tell a block from a missing account either.
 *
 * Writes between two users take a transaction-scoped lock on the pair first, so a block and a
 * concurrent follow or friend request are serialized: whichever commits second sees the first.
 */

export interface Connection {
  user: UserRecord;
  since: Date;
}

export interface ConnectionPage {
  items: Connection[];
  next: PageKey | null;
}

export interface PageRequest {
  limit: number;
  after: PageKey | null;
}

export type FriendRequestOutcome = { status: 'pending' | 'friends'; since: Date };

export interface Relationship {
  following: boolean;
  followsYou: boolean;
  friendship: 'none' | 'friends' | 'requested' | 'requestedYou';
}

/** True when a block stands between `viewerId` and the user in `other`, whichever blocked whom. */
export function blockedEitherWay(viewerId: string, other: PgColumn): SQL {
  return sql`EXISTS (SELECT 1 FROM ${blocks} WHERE (${blocks.blockerId} = ${viewerId} AND ${blocks.blockedId} = ${other})
    OR (${blocks.blockerId} = ${other} AND ${blocks.blockedId} = ${viewerId}))`;
}

const pairKey = (a: string, b: string) => (a < b ? `social:${a}:${b}` : `social:${b}:${a}`);

/** Serializes writes between two users (a block, and whatever it must refuse or see), to the end of the transaction. */
export async function lockPair(tx: Tx, a: string, b: string) {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${pairKey(a, b)}, 0))`);
}

/**
 * The users with a block between them and the viewer, whichever blocked whom, each once: a
 * subquery for `IN (…)` or a join (its column is `other`), whom lists and counts leave out.
 */
export function blockPartners(viewerId: string): SQL {
  return sql`(SELECT ${blocks.blockedId} AS other FROM ${blocks} WHERE ${blocks.blockerId} = ${viewerId}
    UNION SELECT ${blocks.blockerId} FROM ${blocks} WHERE ${blocks.blockedId} = ${viewerId})`;
}

/** The user, unless absent or hidden from the viewer by a block. */
export async function visibleUser(db: AppDb | Tx, viewerId: string, userId: string): Promise<UserRecord | undefined> {
  const [found] = await db
    .select()
    .from(users)
    .where(and(eq(users.id, userId), sql`NOT ${blockedEitherWay(viewerId, users.id)}`));
  return found;
}

/**
 * `notifications` tells the other user (new follower, friend request, friendship accepted), in the
 * same transaction as what it tells, pushed live once that transaction has committed.
 */
export function createSocialService(db: AppDb, notifications?: NotificationService) {
  /** One newest-first page of users joined through `link`, whose (created_at, other user) is the keyset order. */
  async function page(
    link: { createdAt: PgColumn; other: PgColumn; table: typeof follows | typeof friendships | typeof friendRequests | typeof blocks },
    where: SQL,
    request: PageRequest,
  ): Promise<ConnectionPage> {
    const conditions = [where];
    if (request.after) conditions.push(before(link.createdAt, link.other, request.after));
    const rows = await db
      .select({ user: users, since: link.createdAt })
      .from(link.table)
      .innerJoin(users, eq(users.id, link.other))
      .where(and(...conditions))
      .orderBy(desc(link.createdAt), desc(link.other))
      .limit(request.limit + 1);
    const { items, next } = toPage(
      rows.map((row) => ({ createdAt: row.since, id: row.user.id, row })),
      request.limit,
    );
    return { items: items.map(({ row }) => row), next };
  }

  async function befriend(tx: Tx, a: string, b: string): Promise<Date> {
    const [row] = await tx
      .insert(friendships)
      .values([
        { userId: a, friendId: b },
        { userId: b, friendId: a },
      ])
      .onConflictDoNothing()
      .returning({ since: friendships.createdAt });
    return row?.since ?? (await friendsSince(tx, a, b))!;
  }

  async function friendsSince(tx: AppDb | Tx, a: string, b: string): Promise<Date | undefined> {
    const [row] = await tx
      .select({ since: friendships.createdAt })
      .from(friendships)
      .where(and(eq(friendships.userId, a), eq(friendships.friendId, b)));
    return row?.since;
  }

  const requestBetween = (a: string, b: string) =>
    or(
      and(eq(friendRequests.requesterId, a), eq(friendRequests.addresseeId, b)),
      and(eq(friendRequests.requesterId, b), eq(friendRequests.addresseeId, a)),
    );

  return {
    visibleUser: (viewerId: string, userId: string) => visibleUser(db, viewerId, userId),

    /**
     * Followers and followed of `userId`, counting only users the viewer may see: all of them (one
     * index-only range count) less those behind the viewer's blocks (a few primary-key probes),
     * rather than checking blocks for every follower. Signed out (`viewerId` null), nobody is hidden.
     */
    async followCounts(viewerId: string | null, userId: string): Promise<{ followerCount: number; followingCount: number }> {
      const partners =
        viewerId === null ? sql`(SELECT NULL::uuid AS other WHERE false) AS partners` : sql`${blockPartners(viewerId)} AS partners`;
      const { rows } = await db.execute<{ followers: number; hiddenFollowers: number; following: number; hiddenFollowing: number }>(sql`
        SELECT (SELECT count(*)::int FROM ${follows} WHERE ${follows.followeeId} = ${userId}) AS followers,
          (SELECT count(*)::int FROM ${partners} JOIN ${follows} ON ${follows.followerId} = partners.other
            AND ${follows.followeeId} = ${userId}) AS "hiddenFollowers",
          (SELECT count(*)::int FROM ${follows} WHERE ${follows.followerId} = ${userId}) AS following,
          (SELECT count(*)::int FROM ${partners} JOIN ${follows} ON ${follows.followeeId} = partners.other
            AND ${follows.followerId} = ${userId}) AS "hiddenFollowing"`);
      const counts = rows[0]!;
      return {
        followerCount: Number(counts.followers) - Number(counts.hiddenFollowers),
        followingCount: Number(counts.following) - Number(counts.hiddenFollowing),
      };
    },

    /** How the viewer and the user are connected (all false and 'none' for oneself). */
    async relationship(viewerId: string, userId: string): Promise<Relationship> {
      const follow = (from: string, to: string) =>
        sql`EXISTS (SELECT 1 FROM ${follows} WHERE ${follows.followerId} = ${from} AND ${follows.followeeId} = ${to})`;
      const asked = (from: string, to: string) =>
        sql`EXISTS (SELECT 1 FROM ${friendRequests} WHERE ${friendRequests.requesterId} = ${from} AND ${friendRequests.addresseeId} = ${to})`;
      const { rows } = await db.execute<{
        following: boolean;
        followsYou: boolean;
        friends: boolean;
        requested: boolean;
        requestedYou: boolean;
      }>(sql`
        SELECT ${follow(viewerId, userId)} AS following, ${follow(userId, viewerId)} AS "followsYou",
          EXISTS (SELECT 1 FROM ${friendships} WHERE ${friendships.userId} = ${viewerId} AND ${friendships.friendId} = ${userId}) AS friends,
          ${asked(viewerId, userId)} AS requested, ${asked(userId, viewerId)} AS "requestedYou"`);
      const r = rows[0]!;
      const friendship = r.friends ? 'friends' : r.requested ? 'requested' : r.requestedYou ? 'requestedYou' : 'none';
      return { following: r.following, followsYou: r.followsYou, friendship };
    },

    /** 'hidden' when the target does not exist or a block stands between them. */
    async follow(followerId: string, followeeId: string): Promise<'ok' | 'hidden'> {
      return withNotifications(db, notifications, async (tx, tell) => {
        await lockPair(tx, followerId, followeeId);
        if (!(await visibleUser(tx, followerId, followeeId))) return 'hidden';
        const added = await tx.insert(follows).values({ followerId, followeeId }).onConflictDoNothing().returning();
        if (added.length > 0) {
          await tell({ userId: followeeId, actorId: followerId, kind: 'new_follower', target: { type: 'user', id: followeeId } });
        }
        return 'ok';
      });
    },

    async unfollow(followerId: string, followeeId: string) {
      await db.delete(follows).where(and(eq(follows.followerId, followerId), eq(follows.followeeId, followeeId)));
    },

    async listFollowers(viewerId: string, userId: string, request: PageRequest): Promise<ConnectionPage | 'hidden'> {
      if (!(await visibleUser(db, viewerId, userId))) return 'hidden';
      const link = { table: follows, createdAt: follows.createdAt, other: follows.followerId };
      return page(link, and(eq(follows.followeeId, userId), sql`NOT ${blockedEitherWay(viewerId, follows.followerId)}`)!, request);
    },

    async listFollowing(viewerId: string, userId: string, request: PageRequest): Promise<ConnectionPage | 'hidden'> {
      if (!(await visibleUser(db, viewerId, userId))) return 'hidden';
      const link = { table: follows, createdAt: follows.createdAt, other: follows.followeeId };
      return page(link, and(eq(follows.followerId, userId), sql`NOT ${blockedEitherWay(viewerId, follows.followeeId)}`)!, request);
    },

    /**
     * A new or standing request, or the friendship: when the addressee had asked first, their
     * request becomes the friendship. The pair lock and friend_requests_pair_idx keep two crossing
     * requests from ever being two pending rows.
     */
    async sendFriendRequest(requesterId: string, addresseeId: string): Promise<FriendRequestOutcome | 'hidden'> {
      return withNotifications(db, notifications, async (tx, tell) => {
        await lockPair(tx, requesterId, addresseeId);
        if (!(await visibleUser(tx, requesterId, addresseeId))) return 'hidden';
        const friends = await friendsSince(tx, requesterId, addresseeId);
        if (friends) return { status: 'friends', since: friends };
        const theirs = await tx
          .delete(friendRequests)
          .where(and(eq(friendRequests.requesterId, addresseeId), eq(friendRequests.addresseeId, requesterId)))
          .returning();
        if (theirs.length > 0) {
          // Their standing request is accepted by this one: they hear so.
          const since = await befriend(tx, requesterId, addresseeId);
          await tell({ userId: addresseeId, actorId: requesterId, kind: 'friend_accepted', target: { type: 'user', id: addresseeId } });
          return { status: 'friends', since };
        }
        const [created] = await tx.insert(friendRequests).values({ requesterId, addresseeId }).onConflictDoNothing().returning();
        if (created)
          await tell({ userId: addresseeId, actorId: requesterId, kind: 'friend_request', target: { type: 'user', id: addresseeId } });
        const [mine] = created
          ? [created]
          : await tx
              .select()
              .from(friendRequests)
              .where(and(eq(friendRequests.requesterId, requesterId), eq(friendRequests.addresseeId, addresseeId)));
        return { status: 'pending', since: mine!.createdAt };
      });
    },

    async cancelFriendRequest(requesterId: string, addresseeId: string) {
      await db.delete(friendRequests).where(and(eq(friendRequests.requesterId, requesterId), eq(friendRequests.addresseeId, addresseeId)));
    },

    async declineFriendRequest(addresseeId: string, requesterId: string) {
      await db.delete(friendRequests).where(and(eq(friendRequests.requesterId, requesterId), eq(friendRequests.addresseeId, addresseeId)));
    },

    /** The friendship, made from the pending request or already made (a repeated accept); 'missing' otherwise. */
    async acceptFriendRequest(addresseeId: string, requesterId: string): Promise<Connection | 'missing'> {
      return withNotifications(db, notifications, async (tx, tell) => {
        await lockPair(tx, addresseeId, requesterId);
        const requester = await visibleUser(tx, addresseeId, requesterId);
        if (!requester) return 'missing';
        const accepted = await tx
          .delete(friendRequests)
          .where(and(eq(friendRequests.requesterId, requesterId), eq(friendRequests.addresseeId, addresseeId)))
          .returning();
        const since = accepted.length > 0 ? await befriend(tx, addresseeId, requesterId) : await friendsSince(tx, addresseeId, requesterId);
        if (accepted.length > 0) {
          await tell({ userId: requesterId, actorId: addresseeId, kind: 'friend_accepted', target: { type: 'user', id: requesterId } });
        }
        return since ? { user: requester, since } : 'missing';
      });
    },

    async unfriend(userId: string, friendId: string) {
      await db
        .delete(friendships)
        .where(
          or(
            and(eq(friendships.userId, userId), eq(friendships.friendId, friendId)),
            and(eq(friendships.userId, friendId), eq(friendships.friendId, userId)),
          ),
        );
    },

    async listFriends(viewerId: string, userId: string, request: PageRequest): Promise<ConnectionPage | 'hidden'> {
      if (!(await visibleUser(db, viewerId, userId))) return 'hidden';
      const link = { table: friendships, createdAt: friendships.createdAt, other: friendships.friendId };
      return page(link, and(eq(friendships.userId, userId), sql`NOT ${blockedEitherWay(viewerId, friendships.friendId)}`)!, request);
    },

    /** A block removes every request between the two, so these lists need no block filter. */
    async listFriendRequests(userId: string, direction: 'incoming' | 'outgoing', request: PageRequest): Promise<ConnectionPage> {
      return direction === 'incoming'
        ? page(
            { table: friendRequests, createdAt: friendRequests.createdAt, other: friendRequests.requesterId },
            eq(friendRequests.addresseeId, userId),
            request,
          )
        : page(
            { table: friendRequests, createdAt: friendRequests.createdAt, other: friendRequests.addresseeId },
            eq(friendRequests.requesterId, userId),
            request,
          );
    },

    /** Ends the friendship, requests and follows between the two, both ways, with the block, in one transaction. */
    async block(blockerId: string, blockedId: string) {
      await db.transaction(async (tx) => {
        await lockPair(tx, blockerId, blockedId);
        const [target] = await tx.select({ id: users.id }).from(users).where(eq(users.id, blockedId));
        // Blocking an unknown id is answered like any block, and there is nothing to store.
        if (!target) return;
        const [theirs] = await tx
          .select({ at: blocks.createdAt })
          .from(blocks)
          .where(and(eq(blocks.blockerId, blockedId), eq(blocks.blockedId, blockerId)));
        // A block of someone who had blocked the blocker works but is never listed: listing it would
        // show that an account the blocker could not see exists. A block keeps how it was first made.
        await tx.insert(blocks).values({ blockerId, blockedId, listed: !theirs }).onConflictDoNothing();
        await tx
          .delete(follows)
          .where(
            or(
              and(eq(follows.followerId, blockerId), eq(follows.followeeId, blockedId)),
              and(eq(follows.followerId, blockedId), eq(follows.followeeId, blockerId)),
            ),
          );
        await tx.delete(friendRequests).where(requestBetween(blockerId, blockedId));
        // Group invitations between the two lapse too: none may bring one into the other's group.
        await tx
          .delete(groupRequests)
          .where(
            and(
              eq(groupRequests.kind, 'invite'),
              or(
                and(eq(groupRequests.userId, blockedId), eq(groupRequests.invitedBy, blockerId)),
                and(eq(groupRequests.userId, blockerId), eq(groupRequests.invitedBy, blockedId)),
              ),
            ),
          );
        await tx
          .delete(friendships)
          .where(
            or(
              and(eq(friendships.userId, blockerId), eq(friendships.friendId, blockedId)),
              and(eq(friendships.userId, blockedId), eq(friendships.friendId, blockerId)),
            ),
          );
        await forgetNotificationsBetween(tx, blockerId, blockedId);
      });
    },

    async unblock(blockerId: string, blockedId: string) {
      await db.delete(blocks).where(and(eq(blocks.blockerId, blockerId), eq(blocks.blockedId, blockedId)));
    },

    /** Whom the user blocked while they could see them; what the other does later changes nothing here. */
    async listBlocks(blockerId: string, request: PageRequest): Promise<ConnectionPage> {
      const link = { table: blocks, createdAt: blocks.createdAt, other: blocks.blockedId };
      return page(link, and(eq(blocks.blockerId, blockerId), eq(blocks.listed, true))!, request);
    },
  };
}

export type SocialService = ReturnType<typeof createSocialService>;
