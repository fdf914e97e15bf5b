"""Command line: `python -m bot [run|migrate]` (also installed as `tazirat-bot`).

python -m bot            # apply migrations, then run the bot (long polling, or webhook)
python -m bot migrate    # apply migrations only
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time

from bot.config import ConfigError, Settings, load_settings
from bot.ops.logging import setup_logging

log = logging.getLogger("bot")


def migrate(settings: Settings) -> None:
    from bot.storage.migrate import upgrade

    asyncio.run(upgrade(settings.database_url))
    log.info("database is up to date")


START_RETRY_MAX_SECONDS = 60.0


def run(settings: Settings) -> None:
    """Run until stopped. If Telegram cannot be reached at start (an outage, no network yet),
    wait and try again with backoff instead of exiting: the queued work is all in the
    database and goes out once Telegram answers."""
    from telegram.error import NetworkError

    from bot.app import build_application
    from bot.ingress.runner import run as serve_until_stopped

    migrate(settings)
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
    parser.add_argument("command", nargs="?", default="run", choices=["run", "migrate", "backup"])
    parser.add_argument("path", nargs="?", help="backup: the file (or directory) to write")
    args = parser.parse_args(argv)
    setup_logging()
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
    if args.command == "migrate":
        migrate(settings)
    else:
        run(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
