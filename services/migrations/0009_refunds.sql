-- Refunds. `refunds`: the shop's side, one per order, asked by its owner. `rk_refunds`: the
-- embedded sandbox's record of Refund/Create (one per operation).
CREATE TABLE refunds (
    order_id     INTEGER PRIMARY KEY REFERENCES orders(id),
    amount       INTEGER NOT NULL CHECK (amount > 0),     -- kopecks
    state        TEXT NOT NULL DEFAULT 'requested'
                 CHECK (state IN ('requested', 'processing', 'finished', 'canceled', 'failed')),
    request_id   TEXT,                                    -- Robokassa's requestId
    message      TEXT NOT NULL DEFAULT '',                -- Robokassa's reason when refused
    requested_by INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX refunds_open ON refunds(state);

CREATE TABLE rk_refunds (
    request_id   TEXT PRIMARY KEY,
    operation_id INTEGER NOT NULL UNIQUE REFERENCES rk_operations(id),
    amount       INTEGER NOT NULL,
    label        TEXT NOT NULL CHECK (label IN ('finished', 'processing', 'canceled')),
    created_at   INTEGER NOT NULL
);
