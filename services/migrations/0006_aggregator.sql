-- The embedded Robokassa sandbox: operations (one per merchant invoice) and QIWI bills.
CREATE TABLE rk_operations (
    id              INTEGER PRIMARY KEY,
    merchant_login  TEXT NOT NULL,
    inv_id          INTEGER NOT NULL,
    out_sum         TEXT NOT NULL,               -- exactly as the shop sent it
    amount          INTEGER NOT NULL,            -- kopecks
    description     TEXT NOT NULL DEFAULT '',
    is_test         INTEGER NOT NULL DEFAULT 0,
    shp             TEXT NOT NULL DEFAULT '{}',
    inc_curr_label  TEXT,
    expires_at      INTEGER,
    state           INTEGER NOT NULL DEFAULT 5,  -- 5 created, 10 cancelled, 100 paid
    created_at      INTEGER NOT NULL,
    state_at        INTEGER NOT NULL,
    callback_due_at INTEGER,                     -- when to (re)try ResultURL; NULL = nothing to send
    callback_tries  INTEGER NOT NULL DEFAULT 0,
    callback_done   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (merchant_login, inv_id)
);
CREATE INDEX rk_operations_callbacks ON rk_operations(callback_done, callback_due_at);

CREATE TABLE bills (
    id           INTEGER PRIMARY KEY,
    operation_id INTEGER NOT NULL REFERENCES rk_operations(id),
    phone        TEXT NOT NULL,
    amount       INTEGER NOT NULL,
    status       TEXT NOT NULL DEFAULT 'WAITING'
                 CHECK (status IN ('WAITING', 'PAID', 'REJECTED', 'EXPIRED')),
    method       TEXT,                           -- site | app | terminal
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    paid_at      INTEGER
);
CREATE INDEX bills_waiting ON bills(status, expires_at);
