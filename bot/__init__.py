"""The bot: entry point, settings, dispatcher assembly and web app."""
