-- Double-entry ledger: every movement is one transfer with two entries that sum to zero.
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,           -- e.g. 'wallet:+79123456789', 'cash:terminal'
    kind          TEXT NOT NULL,              -- wallet | phone | shop | external | clearing
    balance       INTEGER NOT NULL DEFAULT 0, -- kopecks, cached sum of this account's entries
    allow_negative INTEGER NOT NULL DEFAULT 0,
    max_balance   INTEGER,                    -- kopecks; NULL = no cap
    created_at    INTEGER NOT NULL,
    CHECK (allow_negative = 1 OR balance >= 0),
    CHECK (max_balance IS NULL OR balance <= max_balance)
);

CREATE TABLE transfers (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    from_account    TEXT NOT NULL REFERENCES accounts(id),
    to_account      TEXT NOT NULL REFERENCES accounts(id),
    amount          INTEGER NOT NULL CHECK (amount > 0),
    memo            TEXT NOT NULL DEFAULT '',
    reference       TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    CHECK (from_account <> to_account)
);

CREATE TABLE entries (
    id          INTEGER PRIMARY KEY,
    transfer_id INTEGER NOT NULL REFERENCES transfers(id),
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    amount      INTEGER NOT NULL,             -- signed kopecks
    created_at  INTEGER NOT NULL
);
CREATE INDEX entries_by_account ON entries(account_id, id);
