-- Shops cooperating with Robokassa, synced from the catalogue file.
CREATE TABLE shops (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL DEFAULT 0,
    active      INTEGER NOT NULL DEFAULT 1,
    settings    TEXT NOT NULL DEFAULT '{}'       -- per-shop Robokassa settings, JSON
);

CREATE TABLE categories (
    id       INTEGER PRIMARY KEY,
    shop_id  TEXT NOT NULL REFERENCES shops(id),
    slug     TEXT NOT NULL,
    name     TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    active   INTEGER NOT NULL DEFAULT 1,
    UNIQUE (shop_id, slug)
);

CREATE TABLE items (
    id          INTEGER PRIMARY KEY,             -- used in deep links: ?start=item-<id>
    shop_id     TEXT NOT NULL REFERENCES shops(id),
    category_id INTEGER NOT NULL REFERENCES categories(id),
    sku         TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL DEFAULT 'goods' CHECK (kind IN ('goods', 'service')),
    price       INTEGER NOT NULL CHECK (price > 0), -- kopecks
    stock       INTEGER CHECK (stock IS NULL OR stock >= 0),
    position    INTEGER NOT NULL DEFAULT 0,
    active      INTEGER NOT NULL DEFAULT 1,
    UNIQUE (shop_id, sku)
);

-- Orders; the id is the Robokassa InvId.
CREATE TABLE orders (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL,
    buyer_name   TEXT NOT NULL DEFAULT '',
    contact      TEXT NOT NULL DEFAULT '',
    shop_id      TEXT NOT NULL REFERENCES shops(id),
    item_id      INTEGER NOT NULL REFERENCES items(id),
    item_name    TEXT NOT NULL,                  -- as sold, whatever the catalogue says later
    unit_price   INTEGER NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    amount       INTEGER NOT NULL CHECK (amount > 0),
    status       TEXT NOT NULL DEFAULT 'created'
                 CHECK (status IN ('created', 'awaiting', 'paid', 'fulfilled', 'expired', 'cancelled')),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    paid_at      INTEGER,
    fulfilled_at INTEGER
);
INSERT INTO sqlite_sequence (name, seq) VALUES ('orders', 1000);
CREATE INDEX orders_by_status ON orders(status, expires_at);
CREATE INDEX orders_by_shop ON orders(shop_id, status, created_at);
CREATE INDEX orders_by_user ON orders(user_id, created_at);

CREATE TABLE shop_owners (
    shop_id  TEXT NOT NULL REFERENCES shops(id),
    user_id  INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (shop_id, user_id)
);

CREATE TABLE owner_invites (
    token_hash TEXT PRIMARY KEY,                 -- sha256 of the single-use token
    shop_id    TEXT NOT NULL REFERENCES shops(id),
    expires_at INTEGER NOT NULL,
    used_by    INTEGER,
    used_at    INTEGER
);
