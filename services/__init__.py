"""Domain services: plain async Python, no Telegram imports."""
