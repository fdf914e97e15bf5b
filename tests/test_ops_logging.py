"""Logs never show the bot token or a phone number, and JSON lines carry the update's context."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.ops.logging import (
    bind_log_context,
    bind_update_context,
    current_log_context,
    log_context,
    setup_logging,
)

TOKEN = "7000000001:AAH-secretPart_0123456789abcdefghijXYZ"
SECRET = TOKEN.split(":", 1)[1]
PHONES = [
    "09123456789",
    "+989123456789",
    "00989123456789",
    "989123456789",
    "۰۹۱۲۳۴۵۶۷۸۹",
    "+۹۸ ۹۱۲ ۳۴۵ ۶۷۸۹",
    "0912 345 6789",
    "+44 20 7946 0958",
]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """A StringIO handler on the root logger; the root logger is restored afterwards."""
    root = logging.getLogger()
    saved_handlers = list(root.handlers)
    saved_filters = {h: list(h.filters) for h in saved_handlers}
    saved_level = root.level
    buffer = io.StringIO()
    root.addHandler(logging.StreamHandler(buffer))
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        for handler, filters in saved_filters.items():
            handler.filters[:] = filters
        root.setLevel(saved_level)
        for name in ("httpx", "httpcore", "apscheduler"):
            logging.getLogger(name).setLevel(logging.NOTSET)


def assert_clean(text: str) -> None:
    assert TOKEN not in text and SECRET not in text
    for phone in PHONES:
        assert phone not in text
    assert "9123456789" not in text and "۹۱۲۳۴۵۶۷۸۹" not in text


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_token_and_phones_are_redacted_everywhere(
    stream: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("DEBUG", token=TOKEN)
    log = logging.getLogger("bot.test")
    log.info("GET https://api.telegram.org/bot%s/getMe", TOKEN)
    log.info("token in the template: " + TOKEN)
    log.info("encoded: https://x/bot%s/getMe", TOKEN.replace(":", "%3A"))
    log.info("contact %s and %s", PHONES[0], PHONES[4])
    log.info("all: %s", ", ".join(PHONES))
    log.warning("mapping args %(phone)s", {"phone": PHONES[1]})
    out = stream.getvalue() + capsys.readouterr().err
    assert_clean(out)
    assert out.count("bot[token]/getMe") == 4  # twice: StringIO and stderr
    assert "contact [phone] and [phone]" in out
    # Things that only look a bit like phone numbers survive: ids, tracking codes, prices.
    log.info("update 123456789 chat -1001234567890 case 91234-56789 price 1,250,000")
    assert "update 123456789 chat -1001234567890 case 91234-56789 price 1,250,000" in (
        stream.getvalue()
    )


def test_tracebacks_survive_but_are_redacted(stream: io.StringIO) -> None:
    setup_logging(token=TOKEN)
    try:
        raise RuntimeError(f"POST /bot{TOKEN}/sendMessage failed for {PHONES[0]}")
    except RuntimeError:
        logging.getLogger("bot.test").exception("delivery failed")
    out = stream.getvalue()
    assert "Traceback (most recent call last)" in out
    assert "RuntimeError: POST /bot[token]/sendMessage failed for [phone]" in out
    assert_clean(out)


def test_json_lines_carry_time_level_logger_and_context(
    stream: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(json=True, token=TOKEN)
    log = logging.getLogger("bot.handlers")
    log.info("outside")
    with log_context(update_id=900001, user_id=42):
        with log_context(case="1234567890"):
            log.info("شکایت ثبت شد %s", PHONES[4])
        log.warning("after the case")
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        with log_context(update_id=900002):
            log.exception("boom %s", TOKEN)
    lines = json_lines(capsys.readouterr().err)
    assert [line["msg"] for line in lines] == [
        "outside",
        "شکایت ثبت شد [phone]",
        "after the case",
        "boom [token]",
    ]
    first, case, after, boom = lines
    assert set(first) == {"ts", "level", "logger", "msg"}
    ts = datetime.fromisoformat(str(first["ts"]))
    assert ts.utcoffset() is not None and ts.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert (first["level"], first["logger"]) == ("INFO", "bot.handlers")
    assert (case["update_id"], case["user_id"], case["case"]) == (900001, 42, "1234567890")
    assert (after["update_id"], after["user_id"], "case" in after) == (900001, 42, False)
    assert boom["level"] == "ERROR" and boom["update_id"] == 900002 and "user_id" not in boom
    assert "ZeroDivisionError" in str(boom["exc"])
    assert current_log_context() == {}
    assert_clean(stream.getvalue())


async def test_context_follows_each_update_and_does_not_leak(
    stream: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(json=True)
    log = logging.getLogger("bot.handlers")

    class User:
        id = 7

    class Update:
        update_id = 5
        effective_user = User()

    async def handle(update_id: int, user_id: int) -> None:
        bind_log_context(replace=True, update_id=update_id, user_id=user_id)
        await asyncio.sleep(0.01)  # the other update runs meanwhile
        log.info("handled %s", update_id)

    await asyncio.gather(handle(1, 101), handle(2, 202))  # tasks: each its own context
    await bind_update_context(Update(), None)
    bind_log_context(case="1111111111")
    log.info("with case")
    await bind_update_context(Update(), None)  # the next update: the case is gone
    log.info("next update")
    lines = {line["msg"]: line for line in json_lines(capsys.readouterr().err)}
    assert (lines["handled 1"]["update_id"], lines["handled 1"]["user_id"]) == (1, 101)
    assert (lines["handled 2"]["update_id"], lines["handled 2"]["user_id"]) == (2, 202)
    assert lines["with case"]["case"] == "1111111111" and lines["with case"]["user_id"] == 7
    assert "case" not in lines["next update"] and lines["next update"]["update_id"] == 5
    with pytest.raises(TypeError):
        bind_log_context(phone="09123456789")


def test_plain_lines_show_the_context(
    stream: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging()
    with log_context(update_id=3, user_id=4):
        logging.getLogger("bot").info("hello")
    assert " INFO bot: hello [update_id=3 user_id=4]\n" in capsys.readouterr().err


def test_setup_twice_keeps_one_handler(stream: io.StringIO) -> None:
    setup_logging()
    setup_logging(json=True, token=TOKEN)
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_bot_ops", False)]
    assert len(ours) == 1
    for handler in logging.getLogger().handlers:
        assert len(handler.filters) == 2
    assert logging.getLogger("httpx").level == logging.WARNING


SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from bot.ops.logging import log_context, setup_logging

    token, json_mode = sys.argv[1], sys.argv[2] == "json"
    setup_logging("INFO", json=json_mode, token=token)
    log = logging.getLogger("bot.app")
    # httpx logs request URLs at INFO: those lines must not appear at all.
    httpx = logging.getLogger("httpx")
    httpx.info("HTTP Request: POST https://api.telegram.org/bot%s/getMe", token)
    httpx.warning("retrying https://api.telegram.org/bot%s/getUpdates", token)
    with log_context(update_id=77, user_id=88, case="2222222222"):
        log.info("citizen shared %s", "+989123456789")
        try:
            raise ConnectionError("https://api.telegram.org/bot" + token + "/sendMessage")
        except ConnectionError:
            log.exception("send failed for ۰۹۱۲۳۴۵۶۷۸۹")
    """
)


@pytest.mark.parametrize("mode", ["plain", "json"])
def test_a_real_process_logs_nothing_secret(mode: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, TOKEN, mode],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    err = done.stderr
    assert done.stdout == ""
    assert_clean(err)
    assert "HTTP Request" not in err
    assert "retrying https://api.telegram.org/bot[token]/getUpdates" in err
    assert "Traceback (most recent call last)" in err
    assert "ConnectionError: https://api.telegram.org/bot[token]/sendMessage" in err
    if mode == "json":
        lines = json_lines(err)
        assert len(lines) == 3
        shared, failed = lines[1], lines[2]
        assert shared["msg"] == "citizen shared [phone]"
        assert (shared["update_id"], shared["user_id"], shared["case"]) == (77, 88, "2222222222")
        assert failed["msg"] == "send failed for [phone]" and "Traceback" in str(failed["exc"])
    else:
        assert "citizen shared [phone] [update_id=77 user_id=88 case=2222222222]" in err
