"""Configuration: defaults, parsing, and the one-line error on bad settings (never the token)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import DEFAULT_DATABASE_URL, ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:SECRET-token-value"


def test_defaults_and_lists() -> None:
    s = load_settings(bot_token=TOKEN, manager_chat_ids="1, 2 3", admin_ids="42", _env_file=None)
    assert s.database_url == DEFAULT_DATABASE_URL
    assert s.bot_api_url == "https://api.telegram.org"
    assert s.manager_chat_ids == [1, 2, 3] and s.admin_ids == [42]
    assert s.timezone == "Asia/Tehran" and str(s.tz) == "Asia/Tehran"
    assert s.expected_first_answer_work_days == 2
    assert "SECRET" not in repr(s)


def test_plain_database_urls_get_async_drivers() -> None:
    s = load_settings(bot_token=TOKEN, database_url="postgresql://u@h/db", _env_file=None)
    assert s.database_url == "postgresql+asyncpg://u@h/db"
    s = load_settings(bot_token=TOKEN, database_url="sqlite:///x.db", _env_file=None)
    assert s.database_url == "sqlite+aiosqlite:///x.db"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "BOT_TOKEN is not set"),
        ({"bot_token": "nonsense"}, "BOT_TOKEN is invalid"),
        ({"bot_token": TOKEN, "staff_chat_id": "abc"}, "STAFF_CHAT_ID is invalid"),
        ({"bot_token": TOKEN, "timezone": "Mars/Base"}, "TIMEZONE is invalid"),
        ({"bot_token": TOKEN, "admin_ids": "1,x"}, "ADMIN_IDS is invalid"),
        ({"bot_token": TOKEN, "database_url": "mysql://x"}, "DATABASE_URL is invalid"),
        ({"bot_token": TOKEN, "max_complaints_per_day": 0}, "MAX_COMPLAINTS_PER_DAY is invalid"),
        (
            {"bot_token": TOKEN, "expected_first_answer_work_days": 0},
            "EXPECTED_FIRST_ANSWER_WORK_DAYS is invalid",
        ),
        (
            {"bot_token": TOKEN, "staff_chat_id": -1001, "manager_chat_ids": "-1002, -1001"},
            "STAFF_CHAT_ID is invalid: -1001 is in MANAGER_CHAT_IDS too",
        ),
        (
            {
                "bot_token": TOKEN,
                "manager_chat_ids": "-1002",
                "staff_routes": "sector:fuel=-1002/4",
            },
            "STAFF_ROUTES is invalid: sector:fuel sends cards to -1002, which is in "
            "MANAGER_CHAT_IDS",
        ),
    ],
)
def test_bad_settings_name_the_setting(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None, **overrides)
    assert str(err.value).startswith(message)


def test_cli_exits_2_with_one_line_and_no_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "STAFF_"))}
    env.update({"BOT_TOKEN": TOKEN, "STAFF_CHAT_ID": "not-a-number"})
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "configuration error: STAFF_CHAT_ID is invalid: Input should be a valid integer, "
        "unable to parse string as an integer"
    ]
    assert "SECRET" not in proc.stdout + proc.stderr


def test_cli_migrate_creates_the_sqlite_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "STAFF_"))}
    env.update({"BOT_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)})
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "data" / "tazirat.sqlite3").exists()
    assert "SECRET" not in proc.stdout + proc.stderr


def test_cli_backup_copies_the_sqlite_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "STAFF_"))}
    env.update({"BOT_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)})
    for args in (["migrate"], ["backup", str(tmp_path / "copy.sqlite3")]):
        proc = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "copy.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM units").fetchone() == (4,)


def test_webhook_mode_needs_a_secret_of_telegrams_shape_and_never_echoes_it() -> None:
    url = "https://bot.example.ir/tg/hook"
    s = load_settings(bot_token=TOKEN, _env_file=None)
    assert s.webhook_url is None and s.webhook_secret is None  # long polling
    assert (s.webhook_listen, s.webhook_port, s.lease_seconds) == ("127.0.0.1", 8443, 30.0)
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET is invalid: must be set"):
        load_settings(bot_token=TOKEN, webhook_url=url, _env_file=None)
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET is invalid") as refused:
        load_settings(
            bot_token=TOKEN, webhook_url=url, webhook_secret="has spaces!", _env_file=None
        )
    assert "spaces" not in str(refused.value)
    with pytest.raises(ConfigError, match="WEBHOOK_URL is invalid"):
        load_settings(bot_token=TOKEN, webhook_url="bot.example.ir/hook", webhook_secret="s_1")
    s = load_settings(bot_token=TOKEN, webhook_url=url, webhook_secret="Ab-9_z", _env_file=None)
    assert s.webhook_path == "/tg/hook" and "Ab-9_z" not in repr(s)
