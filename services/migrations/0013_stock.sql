-- Stock belongs to the database once an item exists: the catalogue file only seeds it, and a
-- changed number in the file is applied as the difference from the number it had at the last
-- sync. `file_stock` is that number; `file_stock_known` is 0 for items synced before it was
-- kept, whose first sync only records the file's number and leaves the stock as it is.
ALTER TABLE items ADD COLUMN file_stock INTEGER;
ALTER TABLE items ADD COLUMN file_stock_known INTEGER NOT NULL DEFAULT 0;

-- Open (unpaid) orders of one person are counted before each new one.
CREATE INDEX orders_open_by_user ON orders(user_id, status);
