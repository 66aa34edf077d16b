-- The moderation queue's claims, and what moderators did (0016). moderation_actions is written
-- once and never changed: the code has no update or delete of it.

ALTER TABLE report_targets ADD COLUMN claimed_by uuid REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE report_targets ADD COLUMN claimed_at timestamptz(3);

CREATE TABLE moderation_actions (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  moderator_id      uuid NOT NULL REFERENCES users (id),
  target_type       text NOT NULL,
  target_id         uuid NOT NULL,
  action            text NOT NULL,
  reason            text NOT NULL,
  reports_resolved  integer NOT NULL,
  created_at        timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX moderation_actions_target_idx ON moderation_actions (target_type, target_id, created_at);
