-- Posts, comments (one level of replies) and reactions, with their counts kept by triggers, and
-- the notifications they make.

CREATE TABLE posts (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  author_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  body            text NOT NULL,
  -- The users the body mentions (resolved when written) and its hashtags, in order of first use.
  mention_ids     uuid[] NOT NULL DEFAULT '{}',
  hashtags        text[] NOT NULL DEFAULT '{}',
  visibility      text NOT NULL CHECK (visibility IN ('public', 'friends', 'group')),
  group_id        uuid REFERENCES groups (id) ON DELETE CASCADE,
  event_id        uuid REFERENCES events (id) ON DELETE SET NULL,
  city            text,
  comment_count   integer NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
  like_count      integer NOT NULL DEFAULT 0,
  love_count      integer NOT NULL DEFAULT 0,
  tango_count     integer NOT NULL DEFAULT 0,
  laugh_count     integer NOT NULL DEFAULT 0,
  sad_count       integer NOT NULL DEFAULT 0,
  -- The insert's own clock (clock_timestamp()), not its transaction's start: the feed's order.
  created_at      timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
  edited_at       timestamptz(3),
  CONSTRAINT posts_group_check CHECK ((visibility = 'group') = (group_id IS NOT NULL))
);
-- A timeline, and the feed's per-author reads: one range per author, newest first.
CREATE INDEX posts_author_created_idx ON posts (author_id, created_at, id);
-- A group's posts, and the feed's per-group reads.
CREATE INDEX posts_group_created_idx ON posts (group_id, created_at, id) WHERE group_id IS NOT NULL;

CREATE TABLE comments (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  post_id      uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  -- A reply names a top-level comment of the same post (checked by the service); replies go with it.
  parent_id    uuid REFERENCES comments (id) ON DELETE CASCADE,
  author_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  body         text NOT NULL,
  reply_count  integer NOT NULL DEFAULT 0 CHECK (reply_count >= 0),
  like_count   integer NOT NULL DEFAULT 0,
  love_count   integer NOT NULL DEFAULT 0,
  tango_count  integer NOT NULL DEFAULT 0,
  laugh_count  integer NOT NULL DEFAULT 0,
  sad_count    integer NOT NULL DEFAULT 0,
  created_at   timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
  edited_at    timestamptz(3)
);
-- A post's comments, and a comment's replies, oldest first.
CREATE INDEX comments_post_created_idx ON comments (post_id, created_at, id) WHERE parent_id IS NULL;
CREATE INDEX comments_parent_created_idx ON comments (parent_id, created_at, id) WHERE parent_id IS NOT NULL;

CREATE TABLE post_reactions (
  post_id     uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('like', 'love', 'tango', 'laugh', 'sad')),
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (post_id, user_id)
);
CREATE INDEX post_reactions_post_created_idx ON post_reactions (post_id, created_at, user_id);

CREATE TABLE comment_reactions (
  comment_id  uuid NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('like', 'love', 'tango', 'laugh', 'sad')),
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (comment_id, user_id)
);

-- One function for both tables: TG_ARGV[0] names the counted table, TG_ARGV[1] its key column.
CREATE FUNCTION reactions_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    EXECUTE format('UPDATE %I SET %I = %I - 1 WHERE id = $1', TG_ARGV[0], OLD.kind || '_count', OLD.kind || '_count')
      USING (to_jsonb(OLD) ->> TG_ARGV[1])::uuid;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    EXECUTE format('UPDATE %I SET %I = %I + 1 WHERE id = $1', TG_ARGV[0], NEW.kind || '_count', NEW.kind || '_count')
      USING (to_jsonb(NEW) ->> TG_ARGV[1])::uuid;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER post_reactions_count AFTER INSERT OR DELETE OR UPDATE OF kind ON post_reactions
  FOR EACH ROW EXECUTE FUNCTION reactions_count('posts', 'post_id');
CREATE TRIGGER comment_reactions_count AFTER INSERT OR DELETE OR UPDATE OF kind ON comment_reactions
  FOR EACH ROW EXECUTE FUNCTION reactions_count('comments', 'comment_id');

CREATE FUNCTION comments_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE posts SET comment_count = comment_count + 1 WHERE id = NEW.post_id;
    IF NEW.parent_id IS NOT NULL THEN
      UPDATE comments SET reply_count = reply_count + 1 WHERE id = NEW.parent_id;
    END IF;
  ELSE
    UPDATE posts SET comment_count = comment_count - 1 WHERE id = OLD.post_id;
    IF OLD.parent_id IS NOT NULL THEN
      UPDATE comments SET reply_count = reply_count - 1 WHERE id = OLD.parent_id;
    END IF;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER comments_count AFTER INSERT OR DELETE ON comments FOR EACH ROW EXECUTE FUNCTION comments_count();

-- Notifications about posts and comments.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('new_follower', 'friend_request',
  'friend_accepted', 'group_invite', 'group_join_request', 'group_join_answered', 'event_rsvp', 'message', 'event_changed',
  'event_cancelled', 'post_mention', 'post_comment', 'comment_reply', 'post_reaction'));
ALTER TABLE notifications DROP CONSTRAINT notifications_target_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_target_type_check
  CHECK (target_type IN ('user', 'group', 'event', 'conversation', 'post'));
