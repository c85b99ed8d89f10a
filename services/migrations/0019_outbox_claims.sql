-- Several bot processes may share one database: a message is claimed with a lease before it is
-- sent, so only one of them sends it; a process that dies mid-send lets the lease run out and
-- another sends it. Telegram's pacing (one message a second to a chat, ~25 a second in all)
-- is kept in the database too, so it holds across processes.
ALTER TABLE outbox ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN slot_ms INTEGER NOT NULL DEFAULT 0; -- when it may go, ms since epoch
CREATE INDEX outbox_chat_slots ON outbox(chat_id, slot_ms);
CREATE TABLE outbox_pace (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    next_slot_ms INTEGER NOT NULL
);
INSERT INTO outbox_pace (id, next_slot_ms) VALUES (1, 0);
