-- Memories: a dancer's archive of tango moments, and the friends tagged in them.

CREATE TABLE memories (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title        text NOT NULL,
  body         text NOT NULL DEFAULT '',
  happened_on  date NOT NULL,
  city         text,
  place        text,
  event_id     uuid REFERENCES events (id) ON DELETE SET NULL,
  visibility   text NOT NULL CHECK (visibility IN ('public', 'friends', 'private')),
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  edited_at    timestamptz(3)
);
-- My memories, most recent day first; "on this day" reads the owner's range by month and day.
CREATE INDEX memories_owner_day_idx ON memories (owner_id, happened_on, id);
CREATE INDEX memories_owner_month_day_idx ON memories (owner_id, (extract(month FROM happened_on)), (extract(day FROM happened_on)));

CREATE TABLE memory_tags (
  memory_id   uuid NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (memory_id, user_id)
);
-- The memories a user is tagged in.
CREATE INDEX memory_tags_user_idx ON memory_tags (user_id, memory_id);

ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('new_follower', 'friend_request',
  'friend_accepted', 'group_invite', 'group_join_request', 'group_join_answered', 'event_rsvp', 'message', 'event_changed',
  'event_cancelled', 'post_mention', 'post_comment', 'comment_reply', 'post_reaction', 'memory_tag'));
ALTER TABLE notifications DROP CONSTRAINT notifications_target_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_target_type_check
  CHECK (target_type IN ('user', 'group', 'event', 'conversation', 'post', 'memory'));
