-- Payments made inside Telegram (Robokassa as the Telegram Payments provider). One row per
-- telegram_payment_charge_id: a replayed successful_payment finds its row and changes nothing.
-- `outcome` is what the payment did: settled the order, or was kept aside (a wrong amount or
-- currency, an order that could no longer be paid) for the owner to return.
CREATE TABLE tg_payments (
    charge_id          TEXT PRIMARY KEY,
    provider_charge_id TEXT NOT NULL,
    order_id           INTEGER NOT NULL,
    currency           TEXT NOT NULL,
    amount             INTEGER NOT NULL,
    outcome            TEXT NOT NULL CHECK (outcome IN ('settled', 'wrong_amount', 'not_payable')),
    created_at         INTEGER NOT NULL
);
CREATE INDEX tg_payments_by_order ON tg_payments(order_id);
