-- People the bot has talked to: the language to write to them in when they did not just ask.
CREATE TABLE people (
    user_id    INTEGER PRIMARY KEY,
    locale     TEXT NOT NULL DEFAULT 'ru',
    first_name TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);

-- Durable side effects: messages written in the same transaction as the change they announce,
-- delivered by a background worker with retries.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    chat_id         INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL DEFAULT '{}',
    dedupe_key      TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'blocked', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

-- A visit to a cash terminal or a mobile shop: what was put in, before it becomes a receipt.
CREATE TABLE cash_sessions (
    id             INTEGER PRIMARY KEY,
    point          TEXT NOT NULL,                 -- terminal or shop id, e.g. 'T-0417'
    kind           TEXT NOT NULL CHECK (kind IN ('terminal', 'salon')),
    user_id        INTEGER NOT NULL,
    phone          TEXT NOT NULL,
    purpose        TEXT NOT NULL CHECK (purpose IN ('topup', 'payment')),
    target_account TEXT,                          -- for a payment: where the amount goes
    amount         INTEGER,                       -- for a payment: the amount due
    reference      TEXT NOT NULL DEFAULT '',
    intended       INTEGER,                       -- the sum the person meant to put in
    notes          TEXT NOT NULL DEFAULT '[]',    -- banknotes in roubles, in order
    inserted       INTEGER NOT NULL DEFAULT 0,    -- kopecks
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid')),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX cash_sessions_open ON cash_sessions(status, updated_at);

CREATE TABLE receipts (
    id            INTEGER PRIMARY KEY,            -- the printed number is 100000 + id
    session_id    INTEGER NOT NULL UNIQUE REFERENCES cash_sessions(id),
    point         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    user_id       INTEGER NOT NULL,
    phone         TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    reference     TEXT NOT NULL DEFAULT '',
    notes         TEXT NOT NULL DEFAULT '[]',
    inserted      INTEGER NOT NULL,
    commission    INTEGER NOT NULL,
    paid          INTEGER NOT NULL DEFAULT 0,     -- for a payment: the amount paid
    credited      INTEGER NOT NULL,               -- to the wallet
    remainder     INTEGER NOT NULL DEFAULT 0,     -- a payment's leftover
    remainder_to  TEXT,                           -- 'phone' | 'wallet'
    status        TEXT NOT NULL CHECK (status IN ('pending', 'credited')),
    due_at        INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    credited_at   INTEGER
);
CREATE INDEX receipts_pending ON receipts(status, due_at);
CREATE INDEX receipts_by_phone ON receipts(phone, status);
