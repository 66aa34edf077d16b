-- One row per item a user sees. While unread, an item collects every further notification of its
-- kind about its target (the partial unique index below is what `notify` upserts on); once read,
-- the next one starts a new row. Target ids name users, groups, events or conversations, so they
-- carry no foreign key.
CREATE TABLE notifications (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('new_follower', 'friend_request', 'friend_accepted', 'group_invite',
                  'group_join_request', 'group_join_answered', 'event_rsvp', 'message', 'event_changed', 'event_cancelled')),
  target_type   text NOT NULL CHECK (target_type IN ('user', 'group', 'event', 'conversation')),
  target_id     uuid NOT NULL,
  -- The latest distinct actors, newest first, at most 3: what the item names.
  actor_ids     uuid[] NOT NULL CHECK (cardinality(actor_ids) BETWEEN 1 AND 3),
  -- Distinct actors (notification_actors holds them all) and notifications collapsed in.
  actor_count   integer NOT NULL DEFAULT 1 CHECK (actor_count >= 1),
  event_count   integer NOT NULL DEFAULT 1 CHECK (event_count >= 1),
  read_at       timestamptz(3),
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  -- The latest notification collapsed in: the order of the list.
  updated_at    timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX notifications_unread_item_idx ON notifications (user_id, kind, target_type, target_id) WHERE read_at IS NULL;
CREATE INDEX notifications_user_updated_idx ON notifications (user_id, updated_at, id);
CREATE INDEX notifications_user_unread_updated_idx ON notifications (user_id, updated_at, id) WHERE read_at IS NULL;

-- Every distinct actor of an item, so "Ana and 3 others" counts a person once however often they act.
CREATE TABLE notification_actors (
  notification_id  uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
  actor_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (notification_id, actor_id)
);

-- A muted member gets no `message` notifications from the conversation; its messages still arrive.
ALTER TABLE conversation_members ADD COLUMN muted boolean NOT NULL DEFAULT false;
