"""Telegram handlers: one router per journey. Thin: parse, call a service, render."""
