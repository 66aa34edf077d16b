-- Uploaded media (0014): a finished upload becomes a row here, its files on disk under the media
-- directory. Posts, memories, stories and avatars reference media; a medium nothing references a
-- day after its upload is deleted by a periodic job (the foreign keys keep a referenced one).

CREATE TABLE media (
  id              uuid PRIMARY KEY,
  owner_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind            text NOT NULL CHECK (kind IN ('image', 'video')),
  type            text NOT NULL,
  size_bytes      bigint NOT NULL CHECK (size_bytes > 0),
  width           integer,
  height          integer,
  file_name       text NOT NULL,
  thumbnail_name  text,
  created_at      timestamptz(3) NOT NULL DEFAULT now()
);
-- My uploads, latest first; the quota's sum.
CREATE INDEX media_owner_created_idx ON media (owner_id, created_at DESC, id DESC);
-- The clean-up job's scan.
CREATE INDEX media_created_idx ON media (created_at);

-- Unfinished uploads, by their declared size: they count against the quota until they end (the
-- clean-up job deletes what is left of them a day after creation, as tus deletes their bytes).
CREATE TABLE media_uploads (
  id          uuid PRIMARY KEY,
  owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  size_bytes  bigint NOT NULL CHECK (size_bytes >= 0),
  created_at  timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX media_uploads_owner_idx ON media_uploads (owner_id);
CREATE INDEX media_uploads_created_idx ON media_uploads (created_at);

CREATE TABLE post_media (
  post_id   uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  position  smallint NOT NULL,
  media_id  uuid NOT NULL REFERENCES media (id),
  PRIMARY KEY (post_id, position)
);
CREATE INDEX post_media_media_idx ON post_media (media_id);

CREATE TABLE memory_media (
  memory_id  uuid NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
  position   smallint NOT NULL,
  media_id   uuid NOT NULL REFERENCES media (id),
  PRIMARY KEY (memory_id, position)
);
CREATE INDEX memory_media_media_idx ON memory_media (media_id);

ALTER TABLE stories ADD COLUMN media_id uuid REFERENCES media (id);
CREATE INDEX stories_media_idx ON stories (media_id) WHERE media_id IS NOT NULL;

ALTER TABLE users ADD COLUMN avatar_media_id uuid REFERENCES media (id) ON DELETE SET NULL;
CREATE INDEX users_avatar_media_idx ON users (avatar_media_id) WHERE avatar_media_id IS NOT NULL;
