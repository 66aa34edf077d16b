-- The audit log (0017): administrative and security events, written once. The code has no
-- update or delete of it; a trigger refuses both, whoever asks.

CREATE TABLE audit_log (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  actor_id     uuid REFERENCES users (id) ON DELETE SET NULL,
  kind         text NOT NULL,
  target_type  text NOT NULL,
  target_id    uuid NOT NULL,
  details      jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at DESC, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, created_at DESC, id DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target_id, created_at DESC, id DESC);

-- An account's deletion clears actor_id (ON DELETE SET NULL): the one change allowed (0016's append_only).
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION append_only('actor_id');
