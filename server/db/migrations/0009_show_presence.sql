-- Whether a user shares their presence (online, last seen) at all. Who sees it when shared is one
-- query over friendships, conversation members and blocks (server/services/presence.ts), each read
-- through an index that exists already: friendships' and conversation_members' primary keys,
-- conversation_members_user_idx, and the blocks indexes.
ALTER TABLE users ADD COLUMN show_presence boolean NOT NULL DEFAULT true;
