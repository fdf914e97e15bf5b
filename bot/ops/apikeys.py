"""`python -m bot apikey create|revoke|list [NAME]`: the Open311 API's keys, at the command line.

`create` prints the new key once, alone on its last line (so a script can take `tail -n 1`);
only its hash is kept, so a lost key is revoked and replaced, never recovered.
"""

from __future__ import annotations

import asyncio
import sys

from bot.config import Settings
from bot.services import apikeys
from bot.services.runtime import Runtime
from bot.storage import apikeys as key_store
from bot.storage.db import create_engine


async def _run(settings: Settings, action: str, name: str | None) -> int:
    engine = create_engine(settings.database_url)
    rt = Runtime(engine, settings)
    try:
        if action == "list":
            for row in await apikeys.listing(rt):
                state = "revoked" if row["revoked_at"] else "active"
                print(f"{row['name']}\t{state}\t{row['created_at'].isoformat(timespec='seconds')}")
            return 0
        if not name:
            print(f"apikey {action} needs a NAME", file=sys.stderr)
            return 2
        if action == "create":
            try:
                key = await apikeys.create(rt, name)
            except apikeys.BadName:
                print(
                    "a key's name is letters, digits, '.', '_' or '-' (64 at most)", file=sys.stderr
                )
                return 2
            except key_store.NameTaken:
                print(f"a key named {name} exists already", file=sys.stderr)
                return 1
            print(f"API key {name} created. It is shown only now; keep it safe:")
            print(key)
            return 0
        if action == "revoke":
            if not await apikeys.revoke(rt, name):
                print(f"no active key named {name}", file=sys.stderr)
                return 1
            print(f"API key {name} revoked")
            return 0
        print("apikey create|revoke|list [NAME]", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()


def main_apikey(settings: Settings, action: str | None, name: str | None) -> int:
    return asyncio.run(_run(settings, action or "", name))
