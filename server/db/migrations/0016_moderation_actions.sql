-- The moderation queue's claims, and what moderators did (0016). moderation_actions is written
-- once and never changed: the code has no update or delete of it, and a trigger refuses both
-- (but the moderator_id -> NULL of an account's deletion).

ALTER TABLE report_targets ADD COLUMN claimed_by uuid REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE report_targets ADD COLUMN claimed_at timestamptz(3);

CREATE TABLE moderation_actions (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  moderator_id      uuid REFERENCES users (id) ON DELETE SET NULL,
  target_type       text NOT NULL,
  target_id         uuid NOT NULL,
  action            text NOT NULL,
  reason            text NOT NULL,
  reports_resolved  integer NOT NULL,
  created_at        timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX moderation_actions_target_idx ON moderation_actions (target_type, target_id, created_at);

-- Refuses every update and delete of a row, but one that only clears the column named by the
-- trigger's argument (the ON DELETE SET NULL of an account's deletion). Shared by the append-only
-- tables (audit_log, 0017, too).
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  cleared text := TG_ARGV[0];
BEGIN
  IF TG_OP = 'UPDATE' AND to_jsonb(NEW) ->> cleared IS NULL AND to_jsonb(OLD) ->> cleared IS NOT NULL
     AND (to_jsonb(NEW) - cleared) = (to_jsonb(OLD) - cleared) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER moderation_actions_append_only BEFORE UPDATE OR DELETE ON moderation_actions
  FOR EACH ROW EXECUTE FUNCTION append_only('moderator_id');
