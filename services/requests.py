"""Requests already handled: an update can arrive again after a crash; nothing happens twice."""

from __future__ import annotations

import sqlite3


def handled(conn: sqlite3.Connection, user_id: int, key: str) -> str | None:
    """What the request produced the first time (its `ref`), or None if it is new."""
    if not key:
        return None
    row = conn.execute(
        "SELECT ref FROM handled_requests WHERE user_id = ? AND key = ?", (user_id, key)
    ).fetchone()
    return None if row is None else str(row[0])


def remember(conn: sqlite3.Connection, user_id: int, key: str, ref: str, now: int) -> None:
    if key:
        conn.execute(
            "INSERT INTO handled_requests (user_id, key, ref, created_at) VALUES (?, ?, ?, ?)",
            (user_id, key, ref, now),
        )


def forget(conn: sqlite3.Connection, user_id: int, key: str) -> None:
    """The request's first result is over (say, its order was cancelled): it may act anew."""
    conn.execute("DELETE FROM handled_requests WHERE user_id = ? AND key = ?", (user_id, key))
