-- Every update received from Telegram, stored before Telegram is told it arrived (the next
-- getUpdates offset): an update confirmed but not yet handled when the bot dies is handled on
-- the next start instead of being lost. handled_at also answers "was this handled already?"
-- for an update Telegram sends again, so it replaces handled_updates.
CREATE TABLE inbox (
    seq         INTEGER PRIMARY KEY,             -- arrival order
    key         TEXT NOT NULL UNIQUE,            -- update_id and a digest of its content
    update_id   INTEGER NOT NULL,
    payload     TEXT NOT NULL,                   -- the update as JSON
    received_at INTEGER NOT NULL,
    handled_at  INTEGER
);
CREATE INDEX inbox_unhandled ON inbox(seq) WHERE handled_at IS NULL;
CREATE INDEX inbox_by_handled ON inbox(handled_at) WHERE handled_at IS NOT NULL;

INSERT INTO inbox (key, update_id, payload, received_at, handled_at)
SELECT key, CAST(substr(key, 1, instr(key, ':') - 1) AS INTEGER), '', handled_at, handled_at
FROM handled_updates;

DROP TABLE handled_updates;
