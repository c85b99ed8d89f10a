"""The outbox: messages to people, written inside the transaction of the change they announce.

A background worker (`bot/outbox_worker.py`) delivers them; a message's `dedupe_key` makes
enqueueing idempotent, so a replayed change never produces a second message.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from services.clock import Clock, to_ts
from services.db import Database


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    chat_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    locale: str


def enqueue(
    conn: sqlite3.Connection,
    chat_id: int,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str,
    *,
    now: int,
) -> None:
    """Add a message inside the caller's transaction; the same key twice adds it once."""
    conn.execute(
        "INSERT OR IGNORE INTO outbox (chat_id, kind, payload, dedupe_key, next_attempt_at,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (chat_id, kind, json.dumps(payload, ensure_ascii=False), dedupe_key, now, now),
    )


class Outbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def due(self, limit: int = 50) -> list[OutboxMessage]:
        now = to_ts(self.clock.now())
        rows = await self.db.fetchall(
            "SELECT o.id, o.chat_id, o.kind, o.payload, o.attempts,"
            " COALESCE(p.locale, 'ru') AS locale FROM outbox o"
            " LEFT JOIN people p ON p.user_id = o.chat_id"
            " WHERE o.status = 'pending' AND o.next_attempt_at <= ? ORDER BY o.id LIMIT ?",
            (now, limit),
        )
        return [
            OutboxMessage(
                id=r["id"],
                chat_id=r["chat_id"],
                kind=r["kind"],
                payload=json.loads(r["payload"]),
                attempts=r["attempts"],
                locale=r["locale"],
            )
            for r in rows
        ]

    async def next_due_at(self) -> int | None:
        row = await self.db.fetchone(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'"
        )
        return None if row is None or row[0] is None else int(row[0])

    async def mark_sent(self, message_id: int) -> None:
        now = to_ts(self.clock.now())
        await self.db.transaction(
            lambda c: c.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1"
                " WHERE id = ?",
                (now, message_id),
            )
        )

    async def mark_blocked(self, message_id: int, error: str) -> None:
        """The person blocked the bot: recorded, never retried."""
        await self._finish(message_id, "blocked", error)

    async def mark_failed(self, message_id: int, error: str) -> None:
        await self._finish(message_id, "failed", error)

    async def _finish(self, message_id: int, status: str, error: str) -> None:
        await self.db.transaction(
            lambda c: c.execute(
                "UPDATE outbox SET status = ?, last_error = ?, attempts = attempts + 1"
                " WHERE id = ?",
                (status, error[:500], message_id),
            )
        )

    async def retry_later(self, message_id: int, delay_seconds: int, error: str) -> None:
        at = to_ts(self.clock.now()) + delay_seconds
        await self.db.transaction(
            lambda c: c.execute(
                "UPDATE outbox SET next_attempt_at = ?, last_error = ?, attempts = attempts + 1"
                " WHERE id = ?",
                (at, error[:500], message_id),
            )
        )

    async def postpone(self, message_id: int, delay_seconds: int) -> None:
        """Flood control: wait without counting an attempt."""
        at = to_ts(self.clock.now()) + delay_seconds
        await self.db.transaction(
            lambda c: c.execute(
                "UPDATE outbox SET next_attempt_at = ? WHERE id = ?", (at, message_id)
            )
        )

    async def remember_person(self, user_id: int, locale: str, first_name: str) -> None:
        now = to_ts(self.clock.now())
        await self.db.transaction(
            lambda c: c.execute(
                "INSERT INTO people (user_id, locale, first_name, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(user_id) DO UPDATE SET locale = excluded.locale,"
                " first_name = excluded.first_name, updated_at = excluded.updated_at",
                (user_id, locale, first_name, now),
            )
        )
