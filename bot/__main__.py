"""Command line: `python -m bot [run|migrate|backup|copy-data|demo|apikey]` (also `tazirat-bot`).

python -m bot            # apply migrations, then run the bot (long polling, or webhook)
python -m bot migrate    # apply migrations only
python -m bot backup PATH          # a consistent copy of the SQLite database, while it runs
python -m bot copy-data SQLITE_URL POSTGRES_URL   # move to PostgreSQL (docs/deploy.md)
python -m bot demo       # the bot against a built-in local Bot API, with a web chat page
python -m bot apikey create NAME   # a new Open311 API key (printed once, on its last line)
python -m bot apikey revoke NAME   # that key stops working at once
python -m bot apikey list
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, load_settings
from bot.ops.logging import setup_logging

if TYPE_CHECKING:
    from bot.domain.routing import Route
    from bot.storage.rows import UnitRow

log = logging.getLogger("bot")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def migrate(settings: Settings) -> None:
    from bot.storage.migrate import upgrade

    asyncio.run(upgrade(settings.database_url))
    log.info("database is up to date")


def check_desks(settings: Settings) -> None:
    """Refuse at start what the settings alone cannot show: a STAFF_ROUTES group that is a
    unit's chat (units' chats are in the database, set by /units). ConfigError naming both."""
    from bot.services.cards import routes_into_unit_chats
    from bot.storage.db import create_engine

    async def found() -> list[tuple[Route, UnitRow]]:
        engine = create_engine(settings.database_url)
        try:
            async with engine.connect() as conn:
                return await routes_into_unit_chats(conn, settings)
        finally:
            await engine.dispose()

    for route, unit in asyncio.run(found())[:1]:
        raise ConfigError(
            f"STAFF_ROUTES is invalid: {route.by}:{route.code} sends cards to "
            f"{route.desk.chat_id}, the chat of the unit {unit['code']} (set by /units): a "
            "unit's chat is for the cases referred to it, not for every new case's card"
        )


START_RETRY_MAX_SECONDS = 60.0


def run(settings: Settings) -> None:
    """Run until stopped. If Telegram cannot be reached at start (an outage, no network yet),
    wait and try again with backoff instead of exiting: the queued work is all in the
    database and goes out once Telegram answers."""
    from telegram.error import NetworkError

    from bot.app import build_application
    from bot.ingress.runner import run as serve_until_stopped

    migrate(settings)
    check_desks(settings)
    delay = 1.0
    while True:
        app = build_application(settings)
        log.info("starting the bot (%s)", "webhook" if settings.webhook_url else "long polling")
        try:
            serve_until_stopped(app)
            return
        except NetworkError as exc:  # TimedOut is a NetworkError too
            log.warning("Telegram unreachable at start (%s); retrying in %.0fs", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, START_RETRY_MAX_SECONDS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=["run", "migrate", "backup", "copy-data", "demo", "apikey"],
    )
    parser.add_argument(
        "path",
        nargs="?",
        help="backup: the file (or directory) to write; apikey: what to do; "
        "copy-data: the SQLite database's URL",
    )
    parser.add_argument(
        "name", nargs="?", help="apikey: the key's name; copy-data: the PostgreSQL database's URL"
    )
    demo = parser.add_argument_group("demo (no Telegram token needed)")
    demo.add_argument("--port", type=int, help="the page's port (default 8080 or the next free)")
    demo.add_argument("--fresh", action="store_true", help="start from an empty demo database")
    demo.add_argument("--seed", action="store_true", help="fill with sample cases, then serve")
    demo.add_argument("--seed-value", type=int, default=1405, help="the sample data's seed")
    demo.add_argument("--data-dir", default="data/demo", help="where the demo keeps its database")
    demo.add_argument(
        "--platform",
        choices=["telegram", "bale"],
        default="telegram",
        help="the messenger the built-in server plays (bale: plain text, no ForceReply, …)",
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    setup_logging()
    if args.command == "copy-data":  # needs no settings: both databases are named
        if not args.path or not args.name:
            parser.error("copy-data needs SQLITE_URL and POSTGRES_URL")
        return _copy_data(args.path, args.name)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(
        settings.log_level, json=settings.log_json, token=settings.bot_token.get_secret_value()
    )
    if args.command == "backup":
        if not args.path:
            parser.error("backup needs a PATH")
        from bot.ops.backup import main_backup

        return main_backup(settings, args.path)
    if args.command == "apikey":
        from bot.ops.apikeys import main_apikey

        migrate(settings)
        return main_apikey(settings, args.path, args.name)
    if args.command == "migrate":
        migrate(settings)
        return 0
    try:
        run(settings)
    except ConfigError as exc:  # found only once the database could be read
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


def _copy_data(source: str, target: str) -> int:
    """Exit status 0: copied and counted; 1: the counts differed (rolled back); 2: refused.
    Messages never echo a URL: it may hold a password."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.config import database_url
    from bot.storage.copy import CopyRefused, CountsDiffer, copy_data, format_counts
    from bot.storage.db import is_sqlite

    try:
        source_url, target_url = database_url(source), database_url(target)
    except ValueError:
        print("copy-data: give a sqlite:/// URL, then a postgresql:// URL", file=sys.stderr)
        return 2
    if not is_sqlite(source_url) or is_sqlite(target_url):
        print(
            "copy-data: copies a SQLite database (first) into PostgreSQL (second)", file=sys.stderr
        )
        return 2
    try:
        report = asyncio.run(copy_data(source_url, target_url))
    except CopyRefused as exc:
        print(f"copy-data: refused: {exc}", file=sys.stderr)
        return 2
    except CountsDiffer as exc:
        print(format_counts(exc.report))
        print("copy-data: row counts differ; rolled back, nothing was written", file=sys.stderr)
        return 1
    except (OSError, SQLAlchemyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(
            f"copy-data: failed, nothing was written: {type(exc).__name__}: {first}",
            file=sys.stderr,
        )
        return 2
    print(format_counts(report))
    print("copy-data: every table copied, row counts match")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.demo import personas

    if args.port is not None and not 0 <= args.port <= 65535:
        print("demo: --port must be 0 to 65535", file=sys.stderr)
        return 2
    # The terminal is the newcomer's: warnings only, unless LOG_LEVEL asks for more (set before
    # the imports below, which log as they load).
    level = os.environ.get("LOG_LEVEL", "WARNING").upper()
    setup_logging(level if level in LOG_LEVELS else "WARNING", token=personas.BOT_TOKEN)
    from bot.demo.runner import Options, main_demo

    options = Options(
        port=args.port,
        fresh=args.fresh,
        seed=args.seed,
        seed_value=args.seed_value,
        data_dir=Path(args.data_dir),
        platform=args.platform,
    )
    return main_demo(options)


if __name__ == "__main__":
    sys.exit(main())
