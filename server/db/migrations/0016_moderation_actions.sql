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

CREATE FUNCTION moderation_actions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.moderator_id IS NULL AND OLD.moderator_id IS NOT NULL
     AND (to_jsonb(NEW) - 'moderator_id') = (to_jsonb(OLD) - 'moderator_id') THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'moderation_actions is append-only';
END;
$$;
CREATE TRIGGER moderation_actions_append_only BEFORE UPDATE OR DELETE ON moderation_actions
  FOR EACH ROW EXECUTE FUNCTION moderation_actions_append_only();
