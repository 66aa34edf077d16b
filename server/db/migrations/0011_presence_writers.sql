-- Whether a user wrote in a conversation: the presence rule (server/services/presence.ts) shares
-- presence between two members of a conversation only once both wrote in it, and probes that for
-- each member by this index, one key lookup however long the conversation
-- (test/server/presence-plans.test.ts).
CREATE INDEX messages_conversation_sender_idx ON messages (conversation_id, sender_id);
