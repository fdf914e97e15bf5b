"""Telegram's size and rate limits, as a dataclass the tests can tighten or switch off."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ApiError, too_many_requests


@dataclass
class Limits:
    """Everything the fake enforces; defaults are Telegram's documented/observed values.

    ``enabled=False`` turns off the *rate* limits only (sizes are always checked).
    """

    enabled: bool = True
    global_per_second: int = 30
    group_per_minute: int = 20
    private_per_second: int = 5
    text_length: int = 4096
    caption_length: int = 1024
    callback_data_bytes: int = 64
    keyboard_buttons: int = 100
    keyboard_row: int = 8
    answer_text_length: int = 200
    callback_answer_timeout: float = 15.0
    media_group_min: int = 2
    media_group_max: int = 10
    get_file_max_bytes: int = 20 * 1024 * 1024
    upload_max_bytes: int = 50 * 1024 * 1024  # a file the bot uploads (multipart)
    strict_html_ampersand: bool = True


class _Window:
    """Sliding window of send timestamps for one key."""

    def __init__(self, size: int, seconds: float) -> None:
        self.size = size
        self.seconds = seconds
        self.stamps: deque[float] = deque()

    def wait_for(self, now: float, count: int) -> float:
        """Seconds until ``count`` more sends fit; 0 if they fit now."""
        while self.stamps and self.stamps[0] <= now - self.seconds:
            self.stamps.popleft()
        excess = len(self.stamps) + count - self.size
        if excess <= 0:
            return 0.0
        if count > self.size:
            return self.seconds
        return self.stamps[excess - 1] + self.seconds - now

    def take(self, now: float, count: int) -> None:
        self.stamps.extend([now] * count)


class RateLimiter:
    """Global, per-group and per-private-chat windows, answering with an honest retry_after."""

    def __init__(self, limits: Limits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self._global = _Window(limits.global_per_second, 1.0)
        self._chats: dict[int, _Window] = {}

    def _chat_window(self, chat_id: int, is_group: bool) -> _Window:
        window = self._chats.get(chat_id)
        if window is None:
            if is_group:
                window = _Window(self.limits.group_per_minute, 60.0)
            else:
                window = _Window(self.limits.private_per_second, 1.0)
            self._chats[chat_id] = window
        return window

    def quiet_in(self, seconds: float) -> float:
        """How long until nothing was sent in the last `seconds` overall (0 if already)."""
        if not self._global.stamps:
            return 0.0
        return max(0.0, self._global.stamps[-1] + seconds - self.clock())

    def take(self, chat_id: int, is_group: bool, count: int = 1) -> None:
        """Reserve ``count`` message slots or raise the 429 Telegram would send."""
        if not self.limits.enabled:
            return
        now = self.clock()
        chat = self._chat_window(chat_id, is_group)
        wait = max(self._global.wait_for(now, count), chat.wait_for(now, count))
        if wait > 0:
            retry = max(1, math.ceil(wait - 1e-9))
            raise ApiError(429, too_many_requests(retry), retry_after=retry)
        self._global.take(now, count)
        chat.take(now, count)
