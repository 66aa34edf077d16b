import { inArray, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import type { PresenceStore } from '../../runtime/realtime';
import type { AppDb } from '../db/database';
import { blocks, conversationMembers, conversations, friendships, messages, users } from '../db/schema';
import type { RealtimePort } from './realtime-port';

/**
 * Presence: who sees whether a user is online, and when they were last seen.
 *
 * The rule: a user's presence is seen by their accepted friends and by the people they talk with:
 * the other members of a conversation both of them have written in (each sent at least one message
 * there). Being put in a conversation is not enough (a stranger starting a direct conversation, or
 * naming someone in a group, learns nothing until both wrote), and a group's own conversation
 * (conversations.group_id set, which anyone joining a public group is in) never counts. Never
 * across a block (whoever blocked), and by nobody while the user has `showPresence` off; everyone
 * sees their own. To anyone else a user reads as offline and never seen, which is also how a user
 * who never connected reads, so an answer does not tell which rule hid someone.
 *
 * Friendship, the talk in a conversation and blocks all go both ways, so the people who may see a
 * user and the people that user may see are one set, their presence circle (`presenceCircle`, the
 * one query of the rule): a user's audience is their circle while they share their presence, and
 * of their circle they see those who share theirs. It is read at every push and query, so a new
 * friendship, a first answer in a conversation, or a block counts from the next one.
 */
export interface Presence {
  userId: string;
  status: 'online' | 'offline';
  /** When the last device left; null while online, when never seen, and when not visible. */
  lastSeenAt: string | null;
}

export interface PresenceService {
  /** Who may see the user's presence now: where a change of it goes. */
  audienceOf(userId: string): Promise<string[]>;
  /** Of `userIds`, those whose presence the viewer may see (the viewer, when among them, included). */
  visibleTo(viewerId: string, userIds: readonly string[]): Promise<string[]>;
  /** The users' presence as the viewer may see it, in the order asked. */
  query(viewerId: string, userIds: readonly string[]): Promise<Presence[]>;
  /** The user's first device came online or their last one left: `presence:update` to their audience. */
  changed(userId: string, status: 'online' | 'offline', at: Date): Promise<void>;
  /**
   * The user turned `showPresence` off or on: everyone in their circle is told at once, offline
   * and never seen when off, the current status when on.
   */
  sharingChanged(userId: string, shares: boolean): Promise<void>;
  /** Where real time counts devices; until it attaches one, nobody is online and nobody was seen. */
  attach(store: PresenceStore): void;
}

interface CircleMember {
  id: string;
  /** This member shares their presence, so the user sees it. */
  shares: boolean;
  /** The user shares their presence, so this member sees it. */
  userShares: boolean;
}

/**
 * The user's presence circle (the rule above), restricted to `among` when given, as one query:
 * friendships and conversation_members are read by their primary keys and
 * conversation_members_user_idx, each conversation by its key, whether each of the two wrote in it
 * by messages_conversation_sender_idx (0011_presence_writers.sql), and blocks probed by their
 * indexes per member (test/server/presence-plans.test.ts).
 */
export function presenceCircleQuery(userId: string, among?: readonly string[]): SQL {
  const only = (column: SQLWrapper) => (among ? sql`AND ${inArray(column, [...among])}` : sql``);
  return sql`
    SELECT circle.id, member.show_presence AS shares, self.show_presence AS "userShares"
    FROM (
      SELECT ${friendships.friendId} AS id FROM ${friendships}
        WHERE ${friendships.userId} = ${userId} ${only(friendships.friendId)}
      UNION
      SELECT other.user_id FROM ${conversationMembers} AS mine
        JOIN ${conversations} AS talk ON talk.id = mine.conversation_id AND talk.group_id IS NULL
        JOIN ${conversationMembers} AS other ON other.conversation_id = mine.conversation_id
        WHERE mine.user_id = ${userId} AND other.user_id <> ${userId} ${only(sql`other.user_id`)}
          AND EXISTS (SELECT 1 FROM ${messages} AS written
            WHERE written.conversation_id = mine.conversation_id AND written.sender_id = mine.user_id)
          AND EXISTS (SELECT 1 FROM ${messages} AS answered
            WHERE answered.conversation_id = other.conversation_id AND answered.sender_id = other.user_id)
    ) AS circle
    JOIN ${users} AS member ON member.id = circle.id
    JOIN ${users} AS self ON self.id = ${userId}
    WHERE NOT EXISTS (SELECT 1 FROM ${blocks}
      WHERE (${blocks.blockerId} = ${userId} AND ${blocks.blockedId} = circle.id)
        OR (${blocks.blockerId} = circle.id AND ${blocks.blockedId} = ${userId}))`;
}

async function presenceCircle(db: AppDb, userId: string, among?: readonly string[]): Promise<CircleMember[]> {
  if (among?.length === 0) return [];
  const { rows } = await db.execute<{ id: string; shares: boolean; userShares: boolean }>(presenceCircleQuery(userId, among));
  return rows.map((row) => ({ id: row.id, shares: row.shares, userShares: row.userShares }));
}

const nobodyOnline: Pick<PresenceStore, 'status'> = { status: async () => new Map() };

export function createPresenceService(deps: { db: AppDb; realtime: RealtimePort }): PresenceService {
  const { db, realtime } = deps;
  let store: Pick<PresenceStore, 'status'> = nobodyOnline;

  async function visibleTo(viewerId: string, userIds: readonly string[]): Promise<string[]> {
    const others = [...new Set(userIds)].filter((id) => id !== viewerId);
    const seen = new Set((await presenceCircle(db, viewerId, others)).filter((member) => member.shares).map((member) => member.id));
    if (userIds.includes(viewerId)) seen.add(viewerId);
    return [...seen];
  }

  async function audienceOf(userId: string): Promise<string[]> {
    return (await presenceCircle(db, userId)).filter((member) => member.userShares).map((member) => member.id);
  }

  const push = (userIds: readonly string[], presence: Presence) => realtime.toUsers(userIds, 'presence:update', presence);

  return {
    audienceOf,
    visibleTo,

    async query(viewerId, userIds) {
      const known = await store.status(await visibleTo(viewerId, userIds));
      return userIds.map((userId) => {
        const seen = known.get(userId);
        return seen?.online
          ? { userId, status: 'online', lastSeenAt: null }
          : { userId, status: 'offline', lastSeenAt: seen?.lastSeenAt?.toISOString() ?? null };
      });
    },

    async changed(userId, status, at) {
      push(await audienceOf(userId), { userId, status, lastSeenAt: status === 'offline' ? at.toISOString() : null });
    },

    async sharingChanged(userId, shares) {
      const circle = (await presenceCircle(db, userId)).map((member) => member.id);
      if (!shares) return push(circle, { userId, status: 'offline', lastSeenAt: null });
      const now = (await store.status([userId])).get(userId);
      push(circle, {
        userId,
        status: now?.online ? 'online' : 'offline',
        lastSeenAt: now?.online ? null : (now?.lastSeenAt?.toISOString() ?? null),
      });
    },

    attach(attached) {
      store = attached;
    },
  };
}
