-- Daily statistics for the admins (0019). A job rolls them up from indexed ranges of creation times
-- (server/services/statistics.ts); a request reads the rollups only, never the tables they count.
CREATE TABLE daily_stats (
  metric  text NOT NULL,
  day     date NOT NULL,
  -- The city of events_by_city, the group of group_posts; '' for the others.
  key     text NOT NULL DEFAULT '',
  value   bigint NOT NULL,
  PRIMARY KEY (metric, day, key)
);
-- Days rolled up for good (before the day the job ran); the job redoes today and any day not here.
CREATE TABLE daily_stats_days (
  day          date PRIMARY KEY,
  computed_at  timestamptz(3) NOT NULL DEFAULT now()
);

-- The ranges the rollups read.
CREATE INDEX posts_created_idx ON posts (created_at);
CREATE INDEX messages_created_idx ON messages (created_at);
CREATE INDEX sessions_created_idx ON sessions (created_at);
CREATE INDEX refresh_tokens_created_idx ON refresh_tokens (created_at);
