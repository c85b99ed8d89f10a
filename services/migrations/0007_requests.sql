-- Requests already handled (a button press or a message), so a redelivered update after a crash
-- does not insert a banknote twice or create a second order.
CREATE TABLE handled_requests (
    user_id    INTEGER NOT NULL,
    key        TEXT NOT NULL,
    ref        TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
