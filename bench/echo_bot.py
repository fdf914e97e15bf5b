"""The framework's floor: a bare python-telegram-bot echo bot, for `bench/load.py` to compare with.

It answers every message with one message (its text, or «دریافت شد» for anything else) and
every button press with an answer: the least a bot can do per update, with the same library,
the same HTTP client and the same long polling as the real bot, and nothing of ours (no
database, no pacing, no inbox). Updates are handled concurrently, so that the floor is the
framework's cost and not a queue.

    BOT_TOKEN=... BOT_API_URL=http://127.0.0.1:PORT python bench/echo_bot.py
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(message.text or "دریافت شد")


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()


def main() -> None:
    api = os.environ["BOT_API_URL"].rstrip("/")
    app = (
        Application.builder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .concurrent_updates(True)
        .build()
    )
    app.add_handler(MessageHandler(filters.ALL, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    app.run_polling(poll_interval=0.0, timeout=10)


if __name__ == "__main__":
    main()
