"""A local stand-in for the Telegram Bot API: same JSON, same rules, no network."""
