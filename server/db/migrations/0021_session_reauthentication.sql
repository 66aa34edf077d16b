-- When the person last proved themselves to the provider again in a session's sign-in (0021): a
-- sign-in with the provider started signed in, which makes the provider ask them to sign in again
-- (`prompt=login`). An account without a password sets its first one within 10 minutes of it; a
-- token of an older session, stolen or not, cannot.
ALTER TABLE sessions ADD COLUMN reauthenticated_at timestamptz(3);
