-- A top-up started for an unpaid order carries it, so its receipt (and the message when a
-- delayed receipt is credited) can lead back to that invoice and say what stays in the wallet.
-- `for_bill` is the invoice the wallet could not pay (0: none known, the order is named only);
-- `needed` is what the order lacked in the wallet when the top-up began.
ALTER TABLE cash_sessions ADD COLUMN for_order INTEGER;
ALTER TABLE cash_sessions ADD COLUMN for_bill INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cash_sessions ADD COLUMN needed INTEGER NOT NULL DEFAULT 0;
