-- Telegram updates already handled: after a crash Telegram sends unconfirmed updates again.
CREATE TABLE handled_updates (
    key        TEXT PRIMARY KEY,                 -- update_id and a digest of its content
    handled_at INTEGER NOT NULL
);
CREATE INDEX handled_updates_by_time ON handled_updates(handled_at);
