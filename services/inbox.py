"""The inbox: every update from Telegram is on disk before Telegram is told it arrived.

Telegram forgets an update once it is confirmed (polling: the next getUpdates offset; a webhook:
the 200 answer) and never sends it again, so one confirmed and then lost in a crash would simply
vanish: a payment press, a top-up. Received updates are stored here first, handled from here,
and marked handled as soon as their handler finishes; on start the bot finishes whatever is left.
`handled_at` also answers "handled already?" for an update Telegram sends again.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from services.clock import Clock, to_ts
from services.db import Database

KEEP_SECONDS = 7 * 86400
FORGET_EVERY_SECONDS = 3600


def update_key(update_id: int, payload: str) -> str:
    """update_id alone is not enough: a fresh emulator (or bot) starts counting again at 1."""
    return f"{update_id}:{hashlib.sha256(payload.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class Received:
    key: str
    update_id: int
    payload: str


class Inbox:
    def __init__(self, db: Database, clock: Clock, *, keep_seconds: int = KEEP_SECONDS) -> None:
        self.db = db
        self.clock = clock
        self.keep_seconds = keep_seconds
        self._forget_after = 0

    async def store(self, updates: Sequence[tuple[int, str]]) -> list[Received]:
        """Store a batch in one transaction; returns those not stored before, in order."""
        now = to_ts(self.clock.now())
        if now >= self._forget_after:  # a bot that runs for months keeps a week, too
            await self.forget_handled()

        def write(c: sqlite3.Connection) -> list[Received]:
            fresh = []
            for update_id, payload in updates:
                key = update_key(update_id, payload)
                cursor = c.execute(
                    "INSERT OR IGNORE INTO inbox (key, update_id, payload, received_at)"
                    " VALUES (?, ?, ?, ?)",
                    (key, update_id, payload, now),
                )
                if cursor.rowcount:
                    fresh.append(Received(key, update_id, payload))
            return fresh

        return await self.db.transaction(write)

    async def unhandled(self) -> list[Received]:
        rows = await self.db.fetchall(
            "SELECT key, update_id, payload FROM inbox WHERE handled_at IS NULL ORDER BY seq"
        )
        return [Received(r["key"], r["update_id"], r["payload"]) for r in rows]

    async def is_handled(self, key: str) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM inbox WHERE key = ? AND handled_at IS NOT NULL", (key,)
        )
        return row is not None

    async def mark_handled(
        self,
        key: str,
        update_id: int,
        *,
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """Idempotent; an update that never passed through `store` is recorded as well.

        The content is no longer needed, only the memory that it was handled. `also` writes
        what the update changed besides (its conversation state) in the same transaction.
        """
        now = to_ts(self.clock.now())

        def mark(c: sqlite3.Connection) -> None:
            if also is not None:
                also(c)
            c.execute(
                "INSERT INTO inbox (key, update_id, payload, received_at, handled_at)"
                " VALUES (?, ?, '', ?, ?) ON CONFLICT (key) DO UPDATE"
                " SET handled_at = excluded.handled_at, payload = '' WHERE handled_at IS NULL",
                (key, update_id, now, now),
            )

        await self.db.transaction(mark)

    async def forget_handled(self) -> int:
        """Telegram keeps unconfirmed updates for a day at most; a week of memory is plenty.

        Unhandled updates stay, whatever their age: they are still owed a handler.
        """
        now = to_ts(self.clock.now())
        self._forget_after = now + FORGET_EVERY_SECONDS
        cutoff = now - self.keep_seconds
        cursor = await self.db.transaction(
            lambda c: c.execute("DELETE FROM inbox WHERE handled_at < ?", (cutoff,))
        )
        return int(cursor.rowcount)
