"""API keys for the Open311 API: made at the command line, shown once, kept only as a hash.

A key is 32 random bytes (URL-safe base64); the database keeps its SHA-256, so a copy of the
database holds no usable key. A plain hash is enough for a secret with 256 bits of entropy:
there is nothing to guess, so no slow hash is needed, and the lookup is one indexed equality.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from bot.services.runtime import Runtime
from bot.storage import apikeys as key_store
from bot.storage.rows import ApiKeyRow

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", re.ASCII)
KEY_BYTES = 32
MAX_KEY_CHARS = 128  # a longer value is not one of ours: refused before hashing


class BadName(ValueError):
    """Key names are short ASCII words (they appear in the audit and on the command line)."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


async def create(rt: Runtime, name: str) -> str:
    """A new key called `name`; returns the key itself (the only time it is seen)."""
    if not NAME.fullmatch(name):
        raise BadName(name)
    key = secrets.token_urlsafe(KEY_BYTES)
    async with rt.engine.begin() as conn:
        await key_store.create(conn, name, hash_key(key), rt.now())
    return key


async def revoke(rt: Runtime, name: str) -> bool:
    async with rt.engine.begin() as conn:
        return await key_store.revoke(conn, name, rt.now())


async def listing(rt: Runtime) -> list[ApiKeyRow]:
    async with rt.engine.connect() as conn:
        return await key_store.all_keys(conn)


async def name_of(rt: Runtime, key: str | None) -> str | None:
    """The name of the live key `key`, or None (no key, an unknown one, or revoked)."""
    if not key or len(key) > MAX_KEY_CHARS:
        return None
    async with rt.engine.connect() as conn:
        row = await key_store.by_hash(conn, hash_key(key))
    return row["name"] if row else None


async def audit(rt: Runtime, *, key_name: str | None, method: str, path: str, status: int) -> None:
    async with rt.engine.begin() as conn:
        await key_store.audit(
            conn, key_name=key_name, method=method, path=path, status=status, at=rt.now()
        )


async def forget_old_audit(rt: Runtime) -> int:
    """Audit rows older than OPEN311_AUDIT_DAYS go (by the sweep job): how many did."""
    before = rt.now() - timedelta(days=rt.settings.open311_audit_days)
    async with rt.engine.begin() as conn:
        return await key_store.forget_audit_before(conn, before)
