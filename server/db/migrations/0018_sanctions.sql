-- What moderators decide beyond dismissing (0018): hidden content, suspensions, bans, appeals.

-- Hidden content is kept (for an appeal) but shown to its author only.
ALTER TABLE posts ADD COLUMN hidden_at timestamptz(3);
ALTER TABLE comments ADD COLUMN hidden_at timestamptz(3);
ALTER TABLE stories ADD COLUMN hidden_at timestamptz(3);
ALTER TABLE memories ADD COLUMN hidden_at timestamptz(3);
ALTER TABLE messages ADD COLUMN hidden_at timestamptz(3);
ALTER TABLE groups ADD COLUMN hidden_at timestamptz(3);

-- A suspension ends by itself at suspended_until; a ban does not end.
ALTER TABLE users ADD COLUMN suspended_until timestamptz(3);
ALTER TABLE users ADD COLUMN banned_at timestamptz(3);

-- Whom a decision is about (the author of the content, or the user reported), and the end of a
-- suspension.
ALTER TABLE moderation_actions ADD COLUMN subject_id uuid REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE moderation_actions ADD COLUMN until timestamptz(3);
ALTER TABLE moderation_actions ADD CONSTRAINT moderation_actions_action_check
  CHECK (action IN ('dismiss', 'hide', 'remove', 'warn', 'suspend', 'ban'));
ALTER TABLE moderation_actions ADD CONSTRAINT moderation_actions_until_check CHECK ((action = 'suspend') = (until IS NOT NULL));
-- The decisions about a user, latest first.
CREATE INDEX moderation_actions_subject_idx ON moderation_actions (subject_id, created_at DESC, id DESC);

-- append_only() (0016) now takes any number of columns an account's deletion may clear.
CREATE OR REPLACE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  new_row jsonb;
  old_row jsonb;
  cleared text;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    new_row := to_jsonb(NEW);
    old_row := to_jsonb(OLD);
    FOREACH cleared IN ARRAY TG_ARGV LOOP
      IF new_row ->> cleared IS NULL THEN
        new_row := new_row - cleared;
        old_row := old_row - cleared;
      END IF;
    END LOOP;
    IF new_row = old_row THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
DROP TRIGGER moderation_actions_append_only ON moderation_actions;
CREATE TRIGGER moderation_actions_append_only BEFORE UPDATE OR DELETE ON moderation_actions
  FOR EACH ROW EXECUTE FUNCTION append_only('moderator_id', 'subject_id');

-- One appeal per decision (hide or suspend), by the user it is about; a moderator other than the
-- one who decided answers it, once.
CREATE TABLE appeals (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  action_id     uuid NOT NULL UNIQUE REFERENCES moderation_actions (id),
  appellant_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  statement     text NOT NULL,
  status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'upheld', 'overturned')),
  decided_by    uuid REFERENCES users (id) ON DELETE SET NULL,
  decision      text,
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  decided_at    timestamptz(3),
  CHECK ((status = 'open') = (decided_at IS NULL))
);
-- The moderators' list of open appeals, oldest first.
CREATE INDEX appeals_open_idx ON appeals (created_at, id) WHERE status = 'open';
