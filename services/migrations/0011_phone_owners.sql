-- A phone number is stored only in its one normal form, +79XXXXXXXXX with ASCII digits, so a
-- lookalike (another script's digit) can never become a number, a wallet or a balance of its own.
CREATE TRIGGER phones_normal_form BEFORE INSERT ON phones
WHEN NEW.number NOT GLOB '+79[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
BEGIN
    SELECT RAISE(ABORT, 'phone number not in normal form');
END;
