"""Command line: `python -m bot [run|migrate]` (also installed as `tazirat-bot`).

python -m bot            # apply migrations, then run the bot (long polling)
python -m bot migrate    # apply migrations only
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import ConfigError, Settings, load_settings

log = logging.getLogger("bot")


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # httpx logs every request URL at INFO, and the URL carries the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def migrate(settings: Settings) -> None:
    from bot.storage.migrate import upgrade

    asyncio.run(upgrade(settings.database_url))
    log.info("database is up to date")


def run(settings: Settings) -> None:
    from bot.app import allowed_updates, build_application

    migrate(settings)
    app = build_application(settings)
    log.info("starting the bot (long polling)")
    app.run_polling(allowed_updates=allowed_updates(), timeout=settings.polling_timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="run", choices=["run", "migrate"])
    args = parser.parse_args(argv)
    setup_logging()
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        migrate(settings)
    else:
        run(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
