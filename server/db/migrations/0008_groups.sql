-- Groups (tango communities, schools, orchestras, city groups), their members with roles, pending
-- join requests and invitations, the group's conversation, and events that belong to a group.

CREATE TABLE groups (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text NOT NULL,
  description   text NOT NULL DEFAULT '',
  kind          text NOT NULL CHECK (kind IN ('community', 'school', 'orchestra', 'city')),
  city          text,
  visibility    text NOT NULL CHECK (visibility IN ('public', 'private')),
  -- Kept by a trigger on group_members: never written by the app.
  member_count  integer NOT NULL DEFAULT 0 CHECK (member_count >= 0),
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  updated_at    timestamptz(3) NOT NULL DEFAULT now()
);
-- The group list, newest first, whole or by city.
CREATE INDEX groups_created_idx ON groups (created_at, id);
CREATE INDEX groups_city_created_idx ON groups (lower(city), created_at, id);

CREATE TABLE group_members (
  group_id   uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at  timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, user_id)
);
-- One owner per group, whatever two requests do at once.
CREATE UNIQUE INDEX group_members_owner_idx ON group_members (group_id) WHERE role = 'owner';
CREATE INDEX group_members_group_joined_idx ON group_members (group_id, joined_at, user_id);
CREATE INDEX group_members_user_joined_idx ON group_members (user_id, joined_at, group_id);

-- A pending join request (asked by the user, waiting for an admin) or invitation (made by a member,
-- waiting for the user): at most one per group and user.
CREATE TABLE group_requests (
  group_id    uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('join', 'invite')),
  invited_by  uuid REFERENCES users (id) ON DELETE CASCADE,
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, user_id),
  CONSTRAINT group_requests_inviter_check CHECK ((kind = 'invite') = (invited_by IS NOT NULL))
);
CREATE INDEX group_requests_group_idx ON group_requests (group_id, kind, created_at, user_id);
CREATE INDEX group_requests_user_idx ON group_requests (user_id, kind, created_at, group_id);

CREATE FUNCTION group_members_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    UPDATE groups SET member_count = member_count - 1 WHERE id = OLD.group_id;
  ELSE
    UPDATE groups SET member_count = member_count + 1 WHERE id = NEW.group_id;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER group_members_count
  AFTER INSERT OR DELETE ON group_members
  FOR EACH ROW EXECUTE FUNCTION group_members_count();

-- A group's conversation: its members are the group's, added and removed with them.
ALTER TABLE conversations ADD COLUMN group_id uuid UNIQUE REFERENCES groups (id) ON DELETE CASCADE;

-- An event may belong to a group: only the group's admins create it there, and a private group's
-- events are seen by its members only. It goes with its group.
ALTER TABLE events ADD COLUMN group_id uuid REFERENCES groups (id) ON DELETE CASCADE;
CREATE INDEX events_group_created_idx ON events (group_id, created_at, id) WHERE group_id IS NOT NULL;
