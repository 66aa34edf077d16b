-- Reports to the moderators (0015). What was reported is kept as it was when first reported
-- (report_targets.snapshot), so an edit after the report cannot hide it from the moderators.

CREATE TABLE report_targets (
  target_type        text NOT NULL CHECK (target_type IN ('post', 'comment', 'story', 'memory', 'message', 'group', 'user')),
  target_id          uuid NOT NULL,
  -- Whose content it is (the user themself for a user; the owner for a group).
  author_id          uuid REFERENCES users (id) ON DELETE SET NULL,
  snapshot           jsonb NOT NULL,
  first_reported_at  timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (target_type, target_id)
);

CREATE TABLE reports (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  reporter_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  target_type  text NOT NULL,
  target_id    uuid NOT NULL,
  reason       text NOT NULL,
  details      text,
  status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  outcome      text CHECK (outcome IN ('dismissed', 'hidden', 'removed', 'warned', 'suspended', 'banned')),
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  resolved_at  timestamptz(3),
  FOREIGN KEY (target_type, target_id) REFERENCES report_targets (target_type, target_id),
  CHECK ((status = 'open') = (outcome IS NULL AND resolved_at IS NULL))
);
-- One open report per reporter and target.
CREATE UNIQUE INDEX reports_open_once_idx ON reports (reporter_id, target_type, target_id) WHERE status = 'open';
-- My reports, latest first.
CREATE INDEX reports_reporter_created_idx ON reports (reporter_id, created_at DESC, id DESC);
-- The moderation queue: open reports by target.
CREATE INDEX reports_open_target_idx ON reports (target_type, target_id) WHERE status = 'open';
