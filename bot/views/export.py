"""What the asker of /export reads: progress, refusals and where the file went."""

from __future__ import annotations

from bot import text
from bot.i18n import _


def progress(percent: int) -> str:
    return _("Preparing… {percent}%").format(percent=text.to_persian_digits(percent))


def ready(rows: int) -> str:
    return _("The export is ready: {count} complaints.").format(count=text.format_number(rows))


def sent_to_private() -> str:
    return _("The file was sent to your private chat.")


def start_private_first(bot_username: str) -> str:
    """For an asker in a group who never opened the bot: exports go to private chats only."""
    return _(
        "Exports hold personal data, so they are sent only to your private chat with the bot. "
        "Open @{bot}, press Start, then send /export again."
    ).format(bot=bot_username)


def no_longer_allowed() -> str:
    """An export queued by someone whose role was taken away before it was made."""
    return _("This export was not made: your role no longer allows it.")


def too_many_rows(count: int, limit: int) -> str:
    return _(
        "This period has {count} complaints; one export holds at most {limit}. "
        "Please choose a shorter period."
    ).format(count=text.format_number(count), limit=text.format_number(limit))


def too_large(size_bytes: int, limit_bytes: int) -> str:
    return _(
        "The export came to {size} MB, more than the {limit} MB Telegram accepts, so nothing "
        "was sent. Please choose a shorter period."
    ).format(size=_megabytes(size_bytes), limit=_megabytes(limit_bytes))


def busy() -> str:
    return _("Your previous export is still being prepared. Please wait for it to finish.")


def failed() -> str:
    return _("The export could not be prepared. Please try again later.")


def _megabytes(size: int) -> str:
    mb = size / (1024 * 1024)
    shown = f"{mb:.0f}" if mb >= 10 else (f"{mb:.2f}".rstrip("0").rstrip(".") or "0")
    return text.to_persian_digits(shown.replace(".", "٫"))
