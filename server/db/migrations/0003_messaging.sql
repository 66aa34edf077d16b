CREATE TABLE conversations (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind              text NOT NULL CHECK (kind IN ('direct', 'group')),
  title             text,
  -- The two member ids of a direct conversation, smaller first: one conversation per pair.
  direct_key        text UNIQUE,
  created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at        timestamptz(3) NOT NULL DEFAULT now(),
  -- The newest message's created_at, or created_at while there is none: the order of a member's list.
  last_activity_at  timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT conversations_direct_key_check CHECK ((kind = 'direct') = (direct_key IS NOT NULL)),
  CONSTRAINT conversations_title_check CHECK (kind = 'group' OR title IS NULL)
);
CREATE INDEX conversations_last_activity_idx ON conversations (last_activity_at, id);

-- The read marker is a position in the conversation's (created_at, id) order: the message and its created_at.
CREATE TABLE conversation_members (
  conversation_id       uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id               uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  joined_at             timestamptz(3) NOT NULL DEFAULT now(),
  last_read_message_id  uuid,
  last_read_created_at  timestamptz(3),
  read_at               timestamptz(3),
  PRIMARY KEY (conversation_id, user_id),
  CONSTRAINT conversation_members_marker_check
    CHECK ((last_read_message_id IS NULL) = (last_read_created_at IS NULL) AND (last_read_message_id IS NULL) = (read_at IS NULL))
);
CREATE INDEX conversation_members_user_idx ON conversation_members (user_id, conversation_id);

CREATE TABLE messages (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  conversation_id  uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  sender_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_key       text NOT NULL,
  body             text NOT NULL,
  -- Stamped while holding the conversation's row, at least 1 ms after the previous message:
  -- within a conversation, (created_at, id) order is the order of commits.
  created_at       timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX messages_sender_client_key_idx ON messages (sender_id, client_key);
CREATE INDEX messages_conversation_created_at_id_idx ON messages (conversation_id, created_at, id);

CREATE TABLE message_deliveries (
  message_id    uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  delivered_at  timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (message_id, user_id)
);
