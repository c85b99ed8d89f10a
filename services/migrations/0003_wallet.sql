-- Phone operator stand-in: numbers and whether the operator serves them.
CREATE TABLE phones (
    number     TEXT PRIMARY KEY,            -- +79123456789
    status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated')),
    changed_at INTEGER NOT NULL
);

-- QIWI wallet stand-in. Secrets are stored only as salted scrypt hashes.
CREATE TABLE wallets (
    phone         TEXT PRIMARY KEY REFERENCES phones(number),
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked')),
    level         TEXT NOT NULL DEFAULT 'minimal' CHECK (level IN ('minimal', 'basic')),
    secret_hash   TEXT NOT NULL,
    failed_tries  INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- One pending SMS code per number (registration or re-registration).
CREATE TABLE sms_codes (
    phone        TEXT PRIMARY KEY,
    code_hash    TEXT NOT NULL,
    sent_at      INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    failed_tries INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0
);

-- Which wallet a Telegram account is signed in to.
CREATE TABLE wallet_users (
    user_id   INTEGER PRIMARY KEY,
    phone     TEXT NOT NULL REFERENCES wallets(phone),
    signed_at INTEGER NOT NULL
);
CREATE INDEX wallet_users_by_phone ON wallet_users(phone);
CREATE INDEX transfers_from_by_time ON transfers(from_account, created_at);
