"""Logs for operators: plain or JSON lines on stderr, with the token and phone numbers removed.

The bot token in a log line is a full takeover of the bot, and citizens' phone numbers are
personal data that must not end up in log archives; both are scrubbed by a filter on the root
handlers, so no call site has to remember. JSON lines carry the update, user and case being
handled (from a context variable), so one complaint can be followed through the log.
"""

from __future__ import annotations

import json as jsonlib
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

TOKEN_MARK = "[token]"
PHONE_MARK = "[phone]"

#: The fields a log record may carry from the context, in output order.
CONTEXT_FIELDS = ("update_id", "user_id", "case")

#: Loggers that are too chatty at INFO; httpx logs every request URL, token included.
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler")

_context: ContextVar[Mapping[str, Any] | None] = ContextVar("bot_log_context", default=None)

# `\d` matches Persian (۰-۹) and Arabic-Indic (٠-٩) digits as well as ASCII in str patterns;
# the fixed digits of the prefixes are spelled out in all three scripts.
_0, _8, _9 = "[0۰٠]", "[8۸٨]", "[9۹٩]"
_SEP = r"[ \-.\u200c]?"
_IRAN_MOBILE = rf"(?:(?:\+|{_0}{_0})?{_9}{_8}{_SEP}|{_0}){_9}\d\d{_SEP}\d{{3}}{_SEP}\d{{4}}"
_INTERNATIONAL = r"\+\d(?:[ \-]?\d){7,14}"
_PHONE = re.compile(rf"(?<!\d)(?:{_IRAN_MOBILE}|{_INTERNATIONAL})(?!\d)")
# Any bot token, even one that is not ours (e.g. a second bot configured by mistake).
_ANY_TOKEN = re.compile(r"(?<!\d)\d{5,16}(?::|%3A)[A-Za-z0-9_-]{30,}")


class Redactor:
    """Replaces the bot token and phone numbers in a piece of text."""

    def __init__(self, token: str | None = None) -> None:
        secrets = []
        if token:
            secrets = sorted({token, quote(token, safe=""), quote(token)}, key=len, reverse=True)
        self._token = re.compile("|".join(map(re.escape, secrets))) if secrets else None

    def __call__(self, text: str) -> str:
        if self._token is not None:
            text = self._token.sub(TOKEN_MARK, text)
        text = _ANY_TOKEN.sub(TOKEN_MARK, text)
        return _PHONE.sub(PHONE_MARK, text)


class RedactingFilter(logging.Filter):
    """Handler filter: renders the message and traceback once, redacted, before any formatter.

    It rewrites the record in place (msg, args, exc_text, stack_info), so every handler that
    sees the record afterwards gets the clean version too.
    """

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.redact = Redactor(token)
        self._tb = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the template, drop the arguments
            message = f"{record.msg} (unformattable arguments)"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._tb.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class ContextFilter(logging.Filter):
    """Copies the current update/user/case from the context variable onto the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if value is not None and not hasattr(record, key):
                setattr(record, key, value)
        return True


class PlainFormatter(logging.Formatter):
    """Human-readable lines; the context, when there is one, goes in brackets at the end."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        extra = " ".join(
            f"{key}={getattr(record, key)}" for key in CONTEXT_FIELDS if hasattr(record, key)
        )
        return f"{line} [{extra}]" if extra else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (ISO 8601, UTC), level, logger, msg, context, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return jsonlib.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO", json: bool = False, token: str | None = None) -> None:
    """Log to stderr (plain or JSON lines) with redaction on every root handler.

    Safe to call more than once: the handler this function installed before is replaced, and
    handlers installed by others (e.g. pytest's) get the redaction filter too.
    """
    root = logging.getLogger()
    root.setLevel(level.upper())
    for old in [h for h in root.handlers if getattr(h, "_bot_ops", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    # Ignored below: a marker attribute of our own, so a second call finds this handler.
    handler._bot_ops = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if json else PlainFormatter())
    root.addHandler(handler)
    install_filters(root.handlers, token)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def install_filters(handlers: list[logging.Handler], token: str | None = None) -> None:
    """Put the context and redaction filters on `handlers`, replacing earlier ones of ours."""
    for handler in handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter | ContextFilter)]:
            handler.removeFilter(old)
        # Context first: the redaction then also sees (and scrubs) nothing it should not.
        handler.addFilter(ContextFilter())
        handler.addFilter(RedactingFilter(token))


def bind_log_context(*, replace: bool = False, **fields: Any) -> Token[Mapping[str, Any] | None]:
    """Set update_id / user_id / case for the rest of this task (or until replaced).

    `replace=True` starts afresh (call it once per update, from a handler in group -1), so a
    field from the previous update never sticks; otherwise the fields are added to what is set.
    """
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise TypeError(f"unknown log context fields: {sorted(unknown)}")
    base = {} if replace else dict(_context.get() or {})
    base.update(fields)
    return _context.set({k: v for k, v in base.items() if v is not None})


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """`with log_context(case="1234567890"):` adds fields for the block, then restores."""
    token = bind_log_context(**fields)
    try:
        yield
    finally:
        _context.reset(token)


def current_log_context() -> dict[str, Any]:
    return dict(_context.get() or {})


async def bind_update_context(update: object, _context_arg: object = None) -> None:
    """A python-telegram-bot callback for `TypeHandler(Update, ...)` in group -1.

    Starts a fresh log context for each update: its update_id and the sender's user id.
    Duck-typed, so this module does not import Telegram's library.
    """
    user = getattr(update, "effective_user", None)
    bind_log_context(
        replace=True,
        update_id=getattr(update, "update_id", None),
        user_id=getattr(user, "id", None),
    )
