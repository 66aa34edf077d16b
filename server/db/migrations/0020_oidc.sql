-- Sign-in with an OpenID Connect provider (0020).

-- A person's account at a provider, linked to one of ours: the provider's issuer and its stable id
-- for the person (`sub`) name it, so one provider account opens one of ours only; one of ours may
-- have several. The email is kept only when the provider said it is verified, and no account is
-- ever found by it.
CREATE TABLE oidc_identities (
  issuer        text NOT NULL,
  subject       text NOT NULL,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email         text,
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  last_used_at  timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_identities_user_idx ON oidc_identities (user_id);

-- A sign-in started and not finished: what its callback must match. The state is the key the
-- callback brings back; the flow token, what the app that started it holds (never in the browser).
-- Both kept as SHA-256 only. Finishing deletes the row, so it is used once, and it is worth nothing
-- after expires_at. link_user_id: started by that signed-in user, to link.
CREATE TABLE oidc_flows (
  state_hash       text PRIMARY KEY,
  flow_token_hash  text NOT NULL,
  nonce            text NOT NULL,
  code_verifier    text NOT NULL,
  link_user_id     uuid REFERENCES users (id) ON DELETE CASCADE,
  created_at       timestamptz(3) NOT NULL DEFAULT now(),
  expires_at       timestamptz(3) NOT NULL
);
-- Starting a sign-in deletes the expired ones.
CREATE INDEX oidc_flows_expires_idx ON oidc_flows (expires_at);
