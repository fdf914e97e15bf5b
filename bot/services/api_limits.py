"""How often one caller may use the Open311 API: writes (each files a case) and reads apart.

A caller is an API key, or the client's address for a request without a valid key (an IPv6
address by its /64, what one subscriber is given). The windows are the pacing's
(bot/pacing.py): exact sliding windows of one minute, in this process, or in Redis when
PACING_REDIS_URL is set, so that every process behind nginx counts into the same ones and a key
gets its limit once, not once per process. Redis rather than the database: one round trip of
well under a millisecond, and no row to write (and sweep) per request; if Redis is away, each
process limits on its own until it answers again (bot/pacing_redis.py).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Collection

from bot.pacing import SAFETY, Window, Windows

MINUTE = 60.0
# Callers one process keeps windows for (the oldest forgotten beyond): a read window holds up
# to OPEN311_READS_PER_MINUTE times, so this bounds the memory a flood from many addresses takes.
MAX_TRACKED = 2048
ADDRESS = "addr:"  # the callers counted by address


class ApiLimits:
    """`windows` for the keys, `addresses` for callers without a valid key: apart, so that a
    flood from many addresses, each forgotten in turn beyond MAX_TRACKED, cannot push a key's
    window out and so reset its count."""

    def __init__(
        self,
        windows: Windows,
        *,
        writes_per_minute: int,
        reads_per_minute: int,
        addresses: Windows | None = None,
    ) -> None:
        self.windows = windows
        self.addresses = addresses or windows
        # The pacing keeps its windows SAFETY longer than Telegram's; an API minute is a minute.
        self.writes = Window(writes_per_minute, MINUTE / SAFETY)
        self.reads = Window(reads_per_minute, MINUTE / SAFETY)

    async def retry_after(self, caller: str, *, write: bool) -> int:
        """0 after counting one request of `caller`; else the whole seconds until it may try
        again (nothing counted: a refused request does not push the window further)."""
        kind, window = ("write", self.writes) if write else ("read", self.reads)
        store = self.addresses if caller.startswith(ADDRESS) else self.windows
        wait = await store.admit([(f"{kind}:{caller}", window)])
        # A window's wait is never more than its minute (the windows add a millisecond).
        return min(math.ceil(wait), int(MINUTE)) if wait > 0 else 0

    async def close(self) -> None:
        for store in {id(s): s for s in (self.windows, self.addresses)}.values():
            close = getattr(store, "close", None)
            if close is not None:
                await close()


def key_caller(name: str) -> str:
    return f"key:{name}"


def address_caller(remote: str | None, forwarded: Collection[str], proxies: Collection[str]) -> str:
    """The client a request without a valid key counts against: its address, or, from one of
    the trusted `proxies`, the nearest address in X-Forwarded-For that is not one of them (the
    proxy appends the address it saw; anything further left the client could have written)."""
    address = remote or ""
    if address in proxies:
        hops = [h.strip() for value in forwarded for h in value.split(",") if h.strip()]
        for hop in reversed(hops):
            address = hop
            if hop not in proxies:
                break
    return ADDRESS + _block(address)


def _block(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]  # a Unix socket, or a proxy's odd header: still one caller
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
