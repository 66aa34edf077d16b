-- Follows, friendships, friend requests and blocks. Every list reads one index range, newest
-- first: the leading column is the list's owner, then (created_at, other user) is its keyset order.

CREATE TABLE follows (
  follower_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  followee_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (follower_id, followee_id),
  CONSTRAINT follows_not_self CHECK (follower_id <> followee_id)
);
CREATE INDEX follows_followee_idx ON follows (followee_id, created_at, follower_id);
CREATE INDEX follows_follower_idx ON follows (follower_id, created_at, followee_id);

-- At most one pending request per pair, whichever way: two crossing requests meet on this index
-- and the second becomes a friendship instead of a second request.
CREATE TABLE friend_requests (
  requester_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  addressee_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (requester_id, addressee_id),
  CONSTRAINT friend_requests_not_self CHECK (requester_id <> addressee_id)
);
CREATE UNIQUE INDEX friend_requests_pair_idx ON friend_requests (least(requester_id, addressee_id), greatest(requester_id, addressee_id));
CREATE INDEX friend_requests_incoming_idx ON friend_requests (addressee_id, created_at, requester_id);
CREATE INDEX friend_requests_outgoing_idx ON friend_requests (requester_id, created_at, addressee_id);

-- A friendship is two mirrored rows, one per side, written and deleted together: each side's list
-- is then one range of one index.
CREATE TABLE friendships (
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  friend_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, friend_id),
  CONSTRAINT friendships_not_self CHECK (user_id <> friend_id)
);
CREATE INDEX friendships_user_idx ON friendships (user_id, created_at, friend_id);

CREATE TABLE blocks (
  blocker_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  blocked_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  -- Whether the blocker could see the blocked user when blocking (they had not blocked the blocker):
  -- only such blocks are listed to the blocker, so the list never depends on the other's blocks.
  listed      boolean NOT NULL,
  PRIMARY KEY (blocker_id, blocked_id),
  CONSTRAINT blocks_not_self CHECK (blocker_id <> blocked_id)
);
CREATE INDEX blocks_blocker_idx ON blocks (blocker_id, created_at, blocked_id);
-- "Did anyone block me?" reads this one, for the hiding rule.
CREATE INDEX blocks_blocked_idx ON blocks (blocked_id, blocker_id);
