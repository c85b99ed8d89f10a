"""Hashes for codes and secret keys.

SMS codes live minutes and allow a few tries, so an HMAC under a server key kept outside the
database is enough: a leaked database alone reveals nothing, and checking costs microseconds.
Secret keys live for months, so they keep a memory-hard hash (scrypt), computed in a small
pool of its own threads: hashing may use the cores but never all of them, so it cannot starve
everyone else's updates.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# scrypt cost: ~16 MiB and a few tens of milliseconds per hash on a laptop core.
DEFAULT_N = 2**14
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to copy by hand
KEY_BYTES = 32

# One core is always left to the event loop (hashlib.scrypt releases the GIL while it works).
HASH_WORKERS = max(1, (os.cpu_count() or 1) - 1)
_pool: ThreadPoolExecutor | None = None


def _hash_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=HASH_WORKERS, thread_name_prefix="slow-hash")
    return _pool


def _forget_pool() -> None:
    # A forked child has none of the pool's threads; reusing it would queue hashes forever.
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_forget_pool)


def _scrypt(value: str, salt: bytes, n: int) -> bytes:
    return hashlib.scrypt(value.encode(), salt=salt, n=n, r=8, p=1, dklen=32)


def hash_value(value: str, *, n: int = DEFAULT_N) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${n}${salt.hex()}${_scrypt(value, salt, n).hex()}"


def _hmac(key: bytes, value: str, salt: bytes) -> str:
    return hmac.new(key, salt + value.encode(), hashlib.sha256).hexdigest()


def hash_code(value: str, key: bytes) -> str:
    """An SMS code's hash: HMAC-SHA256 under the server key, salted per code."""
    salt = secrets.token_bytes(16)
    return f"hmac-sha256${salt.hex()}${_hmac(key, value, salt)}"


def check_value(value: str, stored: str, key: bytes = b"") -> bool:
    """Whether `value` matches `stored`: an HMAC (needs the server key) or a scrypt hash."""
    scheme, _, rest = stored.partition("$")
    if scheme == "hmac-sha256":
        salt, _, digest = rest.partition("$")
        return bool(key) and hmac.compare_digest(_hmac(key, value, bytes.fromhex(salt)), digest)
    if scheme != "scrypt":
        return False
    n, salt, digest = rest.split("$")
    return hmac.compare_digest(_scrypt(value, bytes.fromhex(salt), int(n)).hex(), digest)


async def hash_async(value: str, *, n: int = DEFAULT_N) -> str:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_hash_pool(), lambda: hash_value(value, n=n))


async def check_async(value: str, stored: str, key: bytes = b"") -> bool:
    if stored.startswith("hmac-sha256$"):
        return check_value(value, stored, key)  # microseconds: no thread needed
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_hash_pool(), check_value, value, stored, key)


def load_or_create_key(path: Path) -> bytes:
    """The server key from its file, made (0600, never logged) on first start.

    Written whole to a temporary file and linked into place, so a start killed half-way leaves
    no empty key behind, and two starts at once agree on one key. Blocking: call it in a thread.
    """
    if not path.exists():
        spare = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(spare, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.write(fd, secrets.token_bytes(KEY_BYTES).hex().encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(spare, 0o600)
        try:
            os.link(spare, path)
        except FileExistsError:
            pass  # another start made it first: use theirs
        finally:
            os.unlink(spare)
    key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    if len(key) < 16:
        raise ValueError(f"the key in {path} is too short")
    return key


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
