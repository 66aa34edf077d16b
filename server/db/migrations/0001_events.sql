CREATE TABLE events (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organizer_id uuid NOT NULL,
  title        text NOT NULL,
  description  text NOT NULL DEFAULT '',
  kind         text NOT NULL,
  city         text NOT NULL,
  country      text,
  venue        text,
  starts_at    timestamptz(3) NOT NULL,
  ends_at      timestamptz(3) NOT NULL,
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  updated_at   timestamptz(3) NOT NULL,
  CONSTRAINT events_kind_check
    CHECK (kind IN ('milonga', 'practica', 'festival', 'marathon', 'encuentro', 'class', 'workshop'))
);

CREATE INDEX events_created_at_id_idx ON events (created_at, id);
CREATE INDEX events_city_lower_idx ON events (lower(city));
CREATE INDEX events_starts_at_idx ON events (starts_at);
