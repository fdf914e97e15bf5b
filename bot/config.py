"""Settings from the environment and an optional `.env`.

A bad setting must stop the program with one line that names it, never a traceback and never
the token's value: `load_settings()` turns pydantic's error into `ConfigError` for `__main__`.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot import platform as platforms
from bot.domain import holidays as holiday_files
from bot.domain import routing
from bot.domain.routing import CaseKeys, Desk, Route
from bot.domain.worktime import parse_shift

DEFAULT_API_URL = platforms.TELEGRAM_API_URL
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/tazirat.sqlite3"
DEFAULT_HOLIDAYS_DIR = Path(__file__).resolve().parent / "data" / "holidays"
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]+")
# Why no desk may be a managers' chat: it would mix personal case cards into their summaries.
MANAGERS_GET_SUMMARIES = "a managers' chat gets summaries, not case cards"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and never echoes secrets."""


def _int_list(value: object) -> object:
    """Accept "1, 2 3" as well as a JSON-ish list, so operators can write ids naturally."""
    if isinstance(value, str):
        parts = value.replace(",", " ").split()
        return [int(p) for p in parts]
    return value


def database_url(value: str) -> str:
    """A DATABASE_URL with the async driver the bot uses: plain `sqlite:///…` and
    `postgresql://…` as operators write them; ValueError for any other kind of URL."""
    v = value.strip()
    if v.startswith("sqlite:///"):
        v = "sqlite+aiosqlite:///" + v.removeprefix("sqlite:///")
    elif v.startswith(("postgresql://", "postgres://")):
        v = "postgresql+asyncpg://" + v.split("://", 1)[1]
    if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ValueError("must be a sqlite:/// or postgresql:// URL")
    return v


WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def parse_clock(value: str) -> time:
    """ "20:00" -> time(20, 0); ValueError for anything else."""
    hours, sep, minutes = value.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError("must be HH:MM")
    return time(int(hours), int(minutes))


def parse_weekly(value: str) -> tuple[int, time]:
    """ "fri 20:00" -> (4, time(20, 0)) with Python's weekday numbers (Monday = 0)."""
    day, _sep, clock = value.strip().lower().partition(" ")
    if day[:3] not in WEEKDAYS:
        raise ValueError("must be like 'fri 20:00' or 'sat 08:00'")
    return WEEKDAYS[day[:3]], parse_clock(clock)


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Which messenger: its profile (bot/platform.py) holds every difference. Declared first:
    # later checks depend on it.
    platform: platforms.PlatformName = "telegram"
    # How text goes out on Bale: plain (the safe side) or Bale's Markdown (untested).
    bale_formatting: Literal["plain", "markdown"] = "plain"
    bot_token: SecretStr
    bot_api_url: str = DEFAULT_API_URL  # for bale, https://tapi.bale.ai unless set
    database_url: str = DEFAULT_DATABASE_URL
    # Declared before the desks, which are checked against it: summaries, not case cards.
    manager_chat_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    staff_chat_id: int | None = None
    staff_thread_id: int | None = None
    # Cases of a province, sector or violation to a group (and topic) of their own: several
    # desks take more cards a minute than one group can (bot/domain/routing.py).
    staff_routes: Annotated[list[Route], NoDecode] = Field(default_factory=list)
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    timezone: str = "Asia/Tehran"
    max_complaints_per_day: int = Field(default=3, ge=1, le=1000)
    draft_idle_hours: float = Field(default=24.0, gt=0)
    reopen_window_days: int = Field(default=7, ge=0, le=365)
    # What citizens are told, in the welcome and the receipt, about how soon an officer usually
    # takes up a complaint (working days).
    expected_first_answer_work_days: int = Field(default=2, ge=1, le=60)
    polling_timeout: int = Field(default=30, ge=0, le=50)
    # Webhook mode instead of long polling when WEBHOOK_URL is set: the public URL Telegram
    # posts updates to. The bot listens on WEBHOOK_LISTEN:WEBHOOK_PORT (behind a reverse proxy)
    # and takes only requests that carry WEBHOOK_SECRET.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=0, le=65535)
    # A worker's hold on an inbox update: a worker that stops renewing it this long (its
    # process died) loses it to another.
    lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    outbox_poll_seconds: float = Field(default=2.0, gt=0)
    # Messages the bot sends into one private chat per second at most (Telegram: about one a
    # second sustained, short bursts tolerated).
    chat_messages_per_second: int = Field(default=3, ge=1, le=30)
    # Telegram's overall limit is about 30 messages a second; keep under it.
    messages_per_second: int = Field(default=30, ge=1, le=30)
    # Messages into one group per minute at most; unset: the platform's (Telegram's 20;
    # Bale publishes none, so the same).
    group_messages_per_minute: int | None = Field(default=None, ge=1, le=600)
    # Several processes of one bot share one budget only if they share the windows: a Redis URL
    # (e.g. redis://127.0.0.1:6379/0) keeps them there; empty keeps them in this process.
    pacing_redis_url: str = ""
    # One user's updates past this many in the window are dropped (after one warning).
    flood_max_updates: int = Field(default=20, ge=1)
    flood_window_seconds: float = Field(default=10.0, gt=0)
    # When managers get their summaries, on the Tehran clock: "HH:MM", and "DAY HH:MM" for the
    # Iranian week (Saturday to Friday): "fri 20:00" (the week so far) or "sat 08:00" (the
    # week just ended).
    daily_summary_at: str = "20:00"
    weekly_summary_at: str = "fri 20:00"
    # Cases open longer than this count as SLA breaches in summaries.
    sla_hours: float = Field(default=72.0, gt=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False
    # 127.0.0.1 port for GET /healthz and /metrics; 0 = off.
    health_port: int = Field(default=0, ge=0, le=65535)
    # The Open311 GeoReport v2 API for the web desk and other systems: off unless a port is set
    # (0 in tests: any free port); on OPEN311_LISTEN, 127.0.0.1 unless told otherwise.
    open311_port: int | None = Field(default=None, ge=0, le=65535)
    open311_listen: str = "127.0.0.1"
    # The jurisdiction_id this endpoint serves (a request naming another one is not found).
    open311_jurisdiction: str = "tazirat.gov.ir"
    # The address other systems reach the API at, for the discovery document; empty: the one
    # the request came to.
    open311_public_url: str = ""
    # Requests a minute one API key may make (one client address, for requests without a
    # valid key): writes (POST, each files a case) and reads (every GET). Beyond: 429 with
    # Retry-After. Kept in Redis (PACING_REDIS_URL) when set, so the processes share them.
    open311_writes_per_minute: int = Field(default=60, ge=1, le=100_000)
    open311_reads_per_minute: int = Field(default=600, ge=1, le=1_000_000)
    # Keys (by name) that read every request filed over the API, e.g. the organisation's own
    # web desk; any other key reads only the requests filed with it.
    open311_trusted_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The proxies in front of the API (OPEN311_LISTEN is 127.0.0.1 behind a TLS proxy): a
    # request from one of them is the client's named in its X-Forwarded-For.
    open311_trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"]
    )
    # Days the audit rows of API requests (api_requests) are kept.
    open311_audit_days: int = Field(default=90, ge=1, le=3650)
    # Days a message the outbox sent (or gave up on) is kept: its text is citizens' and cases'
    # words, and nothing reads it once it went out (the audit trail is case_events).
    outbox_keep_days: int = Field(default=30, ge=1, le=3650)
    # /healthz answers 503 once the oldest pending outbox row is older than this.
    max_outbox_age_seconds: float = Field(default=900.0, gt=0)
    # ... and once the oldest unhandled update (in any process's inbox) arrived longer ago.
    max_inbox_age_seconds: float = Field(default=120.0, gt=0)
    # Spikes: this many complaints within SPIKE_WINDOW_MINUTES about one business, or of one
    # violation type in one province, alert the managers at once (once per window).
    spike_window_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)
    spike_business_threshold: int = Field(default=3, ge=2, le=100_000)
    spike_province_threshold: int = Field(default=10, ge=2, le=100_000)
    # Working time for SLA clocks, on the TIMEZONE clock: Saturday to Wednesday WORK_HOURS,
    # Thursday WORK_THURSDAY_HOURS ("off": none), Friday and the days in HOLIDAYS_DIR off.
    work_hours: str = "08:00-16:00"
    work_thursday_hours: str = "08:00-12:00"
    holidays_dir: Path = DEFAULT_HOLIDAYS_DIR
    # Working hours until an unclaimed case is announced again in the staff group, and until
    # a referred case with no update reminds its holder (or unit), then the supervisors.
    sla_unclaimed_work_hours: float = Field(default=4.0, gt=0, le=10_000)
    sla_referral_remind_work_hours: float = Field(default=8.0, gt=0, le=10_000)
    sla_referral_escalate_work_hours: float = Field(default=16.0, gt=0, le=10_000)
    sla_awaiting_citizen_work_hours: float = Field(default=16.0, gt=0, le=10_000)
    # /export refuses periods with more cases than this (and suggests a shorter period).
    export_max_rows: int = Field(default=50_000, ge=1, le=1_000_000)
    # The largest file the bot uploads; unset: the platform's (50 MB on Telegram's and Bale's
    # Bot API; a local Bot API server takes up to 2000 MB). An export with a bigger file sends
    # neither file.
    upload_max_bytes: int | None = Field(default=None, ge=1, le=2000 * 1024 * 1024)

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, v: SecretStr) -> SecretStr:
        raw = v.get_secret_value().strip()
        head, _, tail = raw.partition(":")
        if not head.isascii() or not head.isdigit() or len(tail) < 3 or not tail.isascii():
            raise ValueError("must look like 123456:ABC… (from BotFather)")
        return SecretStr(raw)

    @field_validator("staff_chat_id")
    @classmethod
    def _staff_not_managers(cls, v: int | None, info: ValidationInfo) -> int | None:
        if v is not None and v in info.data.get("manager_chat_ids", ()):
            raise ValueError(f"{v} is in MANAGER_CHAT_IDS too: {MANAGERS_GET_SUMMARIES}")
        return v

    @field_validator("staff_thread_id")
    @classmethod
    def _thread_needs_topics(cls, v: int | None, info: ValidationInfo) -> int | None:
        name = info.data.get("platform", "telegram")
        if v is not None and not platforms.PLATFORMS[name].supports_forum_topics:
            raise ValueError(f"{name} has no forum topics; leave it unset")
        return v

    @model_validator(mode="after")
    def _platform_api_url(self) -> Settings:
        """On Bale the Bot API lives elsewhere, unless BOT_API_URL says where."""
        if "bot_api_url" not in self.model_fields_set:
            self.bot_api_url = platforms.PLATFORMS[self.platform].default_api_url
        return self

    @field_validator("bot_api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, v: str | None) -> str | None:
        v = (v or "").strip()
        if not v:
            return None
        if not v.startswith(("https://", "http://")):
            raise ValueError("must start with https://")
        return v

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, v: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """Telegram's rule for secret_token; required with a webhook (else anyone who finds
        the URL could post updates as any citizen)."""
        raw = v.get_secret_value().strip() if v is not None else ""
        if not raw:
            if info.data.get("webhook_url"):
                raise ValueError("must be set when WEBHOOK_URL is")
            return None
        if len(raw) > 256 or not _SECRET_RE.fullmatch(raw):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return SecretStr(raw)

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, v: str) -> str:
        return database_url(v)

    @field_validator("staff_routes", mode="before")
    @classmethod
    def _routes(cls, v: object, info: ValidationInfo) -> object:
        routes = routing.parse_routes(v) if isinstance(v, str) else v
        name = info.data.get("platform", "telegram")
        topics = platforms.PLATFORMS[name].supports_forum_topics
        if isinstance(routes, list) and not topics:
            if any(isinstance(r, Route) and r.desk.thread_id is not None for r in routes):
                raise ValueError(f"{name} has no forum topics; route to groups only")
        return routes

    @field_validator("staff_routes")
    @classmethod
    def _routes_not_to_managers(cls, v: list[Route], info: ValidationInfo) -> list[Route]:
        managers = info.data.get("manager_chat_ids", ())
        for route in v:
            if route.desk.chat_id in managers:
                raise ValueError(
                    f"{route.by}:{route.code} sends cards to {route.desk.chat_id}, which is in "
                    f"MANAGER_CHAT_IDS: {MANAGERS_GET_SUMMARIES}"
                )
        return v

    @property
    def staff_desk(self) -> Desk | None:
        """The staff group (and topic): where cards go that no route takes."""
        if self.staff_chat_id is None:
            return None
        return Desk(self.staff_chat_id, self.staff_thread_id)

    def desk_for(self, case: CaseKeys) -> Desk | None:
        """Where this case's card goes."""
        return routing.desk_for(self.staff_routes, self.staff_desk, case)

    def desk_chat_ids(self) -> set[int]:
        """Every group cards are posted to: the staff group and the routed ones."""
        return {d.chat_id for d in routing.desks(self.staff_routes, self.staff_desk)}

    def thread_in(self, chat_id: int) -> int | None:
        return routing.thread_in(self.staff_routes, self.staff_desk, chat_id)

    @field_validator("manager_chat_ids", "admin_ids", mode="before")
    @classmethod
    def _ids(cls, v: object) -> object:
        return _int_list(v)

    @field_validator("open311_trusted_keys", "open311_trusted_proxies", mode="before")
    @classmethod
    def _words(cls, v: object) -> object:
        return v.replace(",", " ").split() if isinstance(v, str) else v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return v

    @field_validator("daily_summary_at")
    @classmethod
    def _daily(cls, v: str) -> str:
        parse_clock(v)
        return v.strip()

    @field_validator("weekly_summary_at")
    @classmethod
    def _weekly(cls, v: str) -> str:
        parse_weekly(v)
        return v.strip().lower()

    @field_validator("work_hours")
    @classmethod
    def _work_hours(cls, v: str) -> str:
        if parse_shift(v) is None:
            raise ValueError("must be like 08:00-16:00")
        return v.strip()

    @field_validator("work_thursday_hours")
    @classmethod
    def _thursday_hours(cls, v: str) -> str:
        parse_shift(v)
        return v.strip().lower()

    @field_validator("holidays_dir")
    @classmethod
    def _holidays(cls, v: Path) -> Path:
        """A broken holiday file stops the bot at start, not the SLA clocks later."""
        try:
            holiday_files.load_folder(v)
        except holiday_files.HolidayFileError as exc:
            raise ValueError(str(exc)) from None
        return v

    @field_validator("sla_referral_escalate_work_hours")
    @classmethod
    def _escalate_after_remind(cls, v: float, info: ValidationInfo) -> float:
        remind = info.data.get("sla_referral_remind_work_hours")
        if remind is not None and v <= remind:
            raise ValueError("must be longer than SLA_REFERRAL_REMIND_WORK_HOURS")
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def profile(self) -> platforms.Platform:
        """What the messenger accepts (bot/platform.py), with this operator's choices."""
        return platforms.profile(self.platform, bale_formatting=self.bale_formatting)

    @property
    def upload_limit(self) -> int:
        return self.upload_max_bytes or self.profile.limits.upload_bytes

    @property
    def group_rate(self) -> int:
        return self.group_messages_per_minute or self.profile.limits.group_messages_per_minute

    @property
    def webhook_path(self) -> str:
        """The path of WEBHOOK_URL: what the reverse proxy passes on and the bot serves."""
        return urlsplit(self.webhook_url or "").path or "/"

    @property
    def sqlite_path(self) -> Path | None:
        """The database file, when the store is SQLite (None for in-memory or PostgreSQL)."""
        if not self.database_url.startswith("sqlite"):
            return None
        path = self.database_url.split(":///", 1)[1].split("?", 1)[0]
        return None if path in ("", ":memory:") else Path(path)


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one readable `ConfigError` line."""
    try:
        # Ignored below: overrides are untyped on purpose; pydantic validates them right here.
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        if first["type"] == "missing":
            raise ConfigError(f"{name} is not set") from None
        reason = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name} is invalid: {reason}") from None
    except ValueError as exc:  # e.g. a non-integer in a list of ids
        raise ConfigError(f"invalid setting: {type(exc).__name__}") from None
