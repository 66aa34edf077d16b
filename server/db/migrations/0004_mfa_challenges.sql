-- The second step of a sign-in with MFA: the challenge token's jti is the id. A challenge is spent
-- by its first right code and dies after a few wrong ones; failures count toward the account's limit.
CREATE TABLE mfa_challenges (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  device          text,
  failures        integer NOT NULL DEFAULT 0,
  created_at      timestamptz(3) NOT NULL DEFAULT now(),
  expires_at      timestamptz(3) NOT NULL,
  last_failed_at  timestamptz(3),
  used_at         timestamptz(3)
);
CREATE INDEX mfa_challenges_user_idx ON mfa_challenges (user_id, last_failed_at);
