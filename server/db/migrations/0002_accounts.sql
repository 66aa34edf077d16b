CREATE TABLE users (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username       text NOT NULL UNIQUE,
  display_name   text NOT NULL,
  bio            text NOT NULL DEFAULT '',
  city           text,
  dance_role     text CHECK (dance_role IN ('leader', 'follower', 'both')),
  avatar_url     text,
  roles          text[] NOT NULL,
  password_hash  text NOT NULL,
  mfa_secret     text,
  mfa_enabled    boolean NOT NULL DEFAULT false,
  mfa_last_step  bigint,
  created_at     timestamptz(3) NOT NULL DEFAULT now(),
  updated_at     timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX users_created_at_id_idx ON users (created_at, id);
CREATE INDEX users_city_lower_idx ON users (lower(city));

CREATE TABLE sessions (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  device          text,
  ip              text,
  created_at      timestamptz(3) NOT NULL DEFAULT now(),
  last_used_at    timestamptz(3) NOT NULL DEFAULT now(),
  expires_at      timestamptz(3) NOT NULL,
  revoked_at      timestamptz(3),
  revoked_reason  text
);
CREATE INDEX sessions_user_idx ON sessions (user_id, created_at, id);

CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  token_hash  text NOT NULL UNIQUE,
  parent_id   uuid,
  status      text NOT NULL CHECK (status IN ('active', 'used', 'revoked')),
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  expires_at  timestamptz(3) NOT NULL,
  used_at     timestamptz(3)
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE recovery_codes (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash  text NOT NULL,
  used_at    timestamptz(3)
);
CREATE UNIQUE INDEX recovery_codes_user_code_idx ON recovery_codes (user_id, code_hash);
