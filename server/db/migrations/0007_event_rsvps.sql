-- RSVPs and the counts shown on every event. The counts live on the event row, kept by a trigger,
-- so every way an RSVP changes (a user's RSVP, a cascade) keeps them right, and the capacity
-- check below holds whatever writes them. An RSVP takes the event row's lock (SELECT … FOR
-- UPDATE) before it reads going_count, so RSVPs to one event run one at a time.
ALTER TABLE events
  ADD COLUMN capacity          integer,
  ADD COLUMN going_count       integer NOT NULL DEFAULT 0,
  ADD COLUMN interested_count  integer NOT NULL DEFAULT 0,
  ADD CONSTRAINT events_capacity_check CHECK (capacity BETWEEN 1 AND 100000),
  ADD CONSTRAINT events_counts_check CHECK (going_count >= 0 AND interested_count >= 0),
  ADD CONSTRAINT events_going_within_capacity_check CHECK (capacity IS NULL OR going_count <= capacity);

-- "My events": the events a user organizes, newest first.
CREATE INDEX events_organizer_created_at_id_idx ON events (organizer_id, created_at, id);

CREATE TABLE event_rsvps (
  event_id      uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  status        text NOT NULL CHECK (status IN ('going', 'interested')),
  -- When the current status was chosen: the order of the attendee list, newest first.
  responded_at  timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, user_id)
);
CREATE INDEX event_rsvps_event_responded_idx ON event_rsvps (event_id, responded_at, user_id);
CREATE INDEX event_rsvps_event_status_responded_idx ON event_rsvps (event_id, status, responded_at, user_id);
CREATE INDEX event_rsvps_user_idx ON event_rsvps (user_id, event_id);

CREATE FUNCTION event_rsvps_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE events SET
      going_count = going_count - (OLD.status = 'going')::int,
      interested_count = interested_count - (OLD.status = 'interested')::int
    WHERE id = OLD.event_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE events SET
      going_count = going_count + (NEW.status = 'going')::int,
      interested_count = interested_count + (NEW.status = 'interested')::int
    WHERE id = NEW.event_id;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER event_rsvps_count
  AFTER INSERT OR DELETE OR UPDATE OF status ON event_rsvps
  FOR EACH ROW EXECUTE FUNCTION event_rsvps_count();
