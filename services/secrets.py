"""Salted hashes for codes and secret keys, computed off the event loop."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

# scrypt cost: ~16 MiB and a few tens of milliseconds per hash on a laptop core.
DEFAULT_N = 2**14
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to copy by hand


def _scrypt(value: str, salt: bytes, n: int) -> bytes:
    return hashlib.scrypt(value.encode(), salt=salt, n=n, r=8, p=1, dklen=32)


def hash_value(value: str, *, n: int = DEFAULT_N) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${n}${salt.hex()}${_scrypt(value, salt, n).hex()}"


def check_value(value: str, stored: str) -> bool:
    scheme, n, salt, digest = stored.split("$")
    if scheme != "scrypt":
        return False
    return hmac.compare_digest(_scrypt(value, bytes.fromhex(salt), int(n)).hex(), digest)


async def hash_async(value: str, *, n: int = DEFAULT_N) -> str:
    return await asyncio.to_thread(hash_value, value, n=n)


async def check_async(value: str, stored: str) -> bool:
    return await asyncio.to_thread(check_value, value, stored)


def new_code() -> str:
    """A one-time six-digit SMS code."""
    return f"{secrets.randbelow(10**6):06d}"


def new_secret_key() -> str:
    """A wallet secret key like `K7M2-Q9XD` (40 bits, unambiguous letters)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_secret_key(text: str) -> str:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{cleaned[:4]}-{cleaned[4:]}" if len(cleaned) == 8 else cleaned


def looks_like_secret_key(text: str) -> bool:
    """Whether the text could be a key at all: anything else is a misunderstanding, not a guess,
    and costs no attempt. Same normalisation as the check: any case, dash or spaces."""
    cleaned = normalize_secret_key(text).replace("-", "")
    return len(cleaned) == 8 and all(ch in ALPHABET for ch in cleaned)
