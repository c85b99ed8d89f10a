-- Money that reached an order which could no longer be paid (cancelled or expired) goes back to
-- the payer through the Refund API; such a refund is the bot's, not an owner's, and the shop
-- never had the money. `requested_by` is 0 for them.
ALTER TABLE refunds ADD COLUMN to_payer INTEGER NOT NULL DEFAULT 0;

-- When reconciliation (OpStateExt) or the refund job last asked Robokassa about this row: the
-- throttle lives here, not in memory, so it neither grows nor forgets across restarts.
ALTER TABLE orders ADD COLUMN checked_at INTEGER;
ALTER TABLE refunds ADD COLUMN checked_at INTEGER;
