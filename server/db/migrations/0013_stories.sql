-- Stories: gone 24 hours after posting. Expiry is the database's clock on both sides (expires_at is
-- written by the database and every read compares it with the database's now()), so no instance's
-- clock decides whether a story is still served. A periodic job deletes expired rows.

CREATE TABLE stories (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  author_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  caption     text NOT NULL,
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  expires_at  timestamptz(3) NOT NULL DEFAULT now() + interval '24 hours',
  view_count  integer NOT NULL DEFAULT 0 CHECK (view_count >= 0)
);
-- An author's live stories; the clean-up job's scan.
CREATE INDEX stories_author_expires_idx ON stories (author_id, expires_at);
CREATE INDEX stories_expires_idx ON stories (expires_at);

CREATE TABLE story_views (
  story_id   uuid NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
  viewer_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  seen_at    timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (story_id, viewer_id)
);
CREATE INDEX story_views_story_seen_idx ON story_views (story_id, seen_at, viewer_id);

CREATE FUNCTION story_views_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE stories SET view_count = view_count + 1 WHERE id = NEW.story_id;
  RETURN NULL;
END;
$$;
CREATE TRIGGER story_views_count AFTER INSERT ON story_views FOR EACH ROW EXECUTE FUNCTION story_views_count();
