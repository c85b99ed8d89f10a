-- Conversation state, so a restart keeps a half-finished journey.
CREATE TABLE fsm (
    key   TEXT PRIMARY KEY,
    state TEXT,
    data  TEXT NOT NULL DEFAULT '{}'
);
