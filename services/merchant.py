"""Shops as one service: the catalogue, orders and owners, sharing one database and clock.

Each part lives in its own module (services/catalogue.py, services/orders.py,
services/owners.py); handlers and jobs ask this one object for all of them.
"""

from __future__ import annotations

from services.clock import Clock
from services.db import Database
from services.orders import Orders, ReleaseHook
from services.owners import Owners


class Merchant(Orders, Owners):
    def __init__(self, db: Database, clock: Clock, *, order_ttl: int = 1800) -> None:
        self.db = db
        self.clock = clock
        self.order_ttl = order_ttl
        self.release_hooks: dict[str, ReleaseHook] = {}
