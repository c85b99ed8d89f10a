-- A phone number is stored only in its one normal form, +79XXXXXXXXX with ASCII digits, so a
-- lookalike (another script's digit) can never become a number, a wallet or a balance of its own.
CREATE TRIGGER phones_normal_form BEFORE INSERT ON phones
WHEN NEW.number NOT GLOB '+79[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
BEGIN
    SELECT RAISE(ABORT, 'phone number not in normal form');
END;

-- Which Telegram account has the number: it shared its own contact, which Telegram verifies.
-- The stand-in SMS reaches only this account; a newer proof by another account wins (the
-- operator gave the number to someone else).
CREATE TABLE phone_owners (
    number    TEXT PRIMARY KEY REFERENCES phones(number),
    user_id   INTEGER NOT NULL,
    proved_at INTEGER NOT NULL
);

-- The code goes to the account that asked for it, and only that account may type it.
ALTER TABLE sms_codes ADD COLUMN user_id INTEGER;

-- Guesses of an SMS code or a secret key, per number and Telegram account: a few wrong ones
-- lock only that account out of that number for a while.
CREATE TABLE guesses (
    kind         TEXT NOT NULL CHECK (kind IN ('code', 'secret')),
    number       TEXT NOT NULL,
    user_id      INTEGER NOT NULL,
    tries        INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, number, user_id)
);

-- And a slower cap per number over all accounts (but the number's owner), in fixed windows.
CREATE TABLE guess_windows (
    kind         TEXT NOT NULL CHECK (kind IN ('code', 'secret')),
    number       TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    tries        INTEGER NOT NULL,
    PRIMARY KEY (kind, number)
);

-- The per-number counters these replace.
ALTER TABLE sms_codes DROP COLUMN failed_tries;
ALTER TABLE sms_codes DROP COLUMN locked_until;
ALTER TABLE wallets DROP COLUMN failed_tries;
ALTER TABLE wallets DROP COLUMN locked_until;
