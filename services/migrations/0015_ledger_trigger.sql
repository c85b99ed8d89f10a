-- The ledger's write path in one statement: inserting a transfer writes its two entries and
-- moves both cached balances inside SQLite (a constraint broken by any of them undoes the whole
-- INSERT). Three statements per transfer cost three trips through the Python driver.
CREATE TRIGGER transfers_post AFTER INSERT ON transfers
BEGIN
    INSERT INTO entries (transfer_id, account_id, amount, created_at)
    VALUES (NEW.id, NEW.from_account, -NEW.amount, NEW.created_at),
           (NEW.id, NEW.to_account, NEW.amount, NEW.created_at);
    UPDATE accounts
       SET balance = balance + CASE id WHEN NEW.from_account THEN -NEW.amount ELSE NEW.amount END
     WHERE id IN (NEW.from_account, NEW.to_account);
END;
