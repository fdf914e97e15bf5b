"""python-telegram-bot's HTTP requests made with aiohttp instead of httpx.

Every update costs the bot two or three Bot API calls, and on the local server each call
through PTB's `HTTPXRequest` cost 1.1-1.6 ms of CPU against 0.4-0.6 ms through aiohttp
(`bench/transport_bench.py`): about a quarter of what an update of ours cost beyond the bare
echo bot's. aiohttp is already the web server of the webhook, the Open311 API and the local Bot
API server, so this adds no dependency. What PTB's request does is kept: the same form encoding
(multipart once there is a file), the same default timeouts, PTB's User-Agent, proxies from the
environment, no redirect followed, and transport failures raised as PTB's `TimedOut` and
`NetworkError`, which the outbox and the handlers already retry.
"""

from __future__ import annotations

from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput, UploadFileDict
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


def _or(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _sum(*parts: float | None) -> float | None:
    """A bound made of several: none if any of them is none."""
    return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a pool of `connection_pool_size` connections."""

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxies",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        """PTB adds a long poll's own timeout to this for getUpdates."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Opens the session (inside the running loop, as aiohttp wants); again after a
        shutdown, as PTB's own request does."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                # Idle connections are dropped after 5 s, as httpx drops them: a middlebox that
                # forgets quiet flows sooner than aiohttp's 15 s would leave dead ones.
                connector=aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=5.0),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else None
        fields = request_data.json_parameters if request_data is not None else None
        body: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            body = _multipart(fields or {}, files)
        read = _or(read_timeout, self._read_timeout)
        write = _or(write_timeout, self._media_write_timeout if files else self._write_timeout)
        connect = _or(connect_timeout, self._connect_timeout)
        pool = _or(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            # Only an upload is bounded as a whole (aiohttp has no write timeout of its own);
            # an answer that keeps coming is read for as long as each part comes in time.
            total=_sum(pool, connect, write, read) if files else None,
            # aiohttp's connect includes the wait for a free connection: a full pool gives up
            # after pool + connect at most (httpx: after pool, before connecting).
            connect=_sum(pool, connect),
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with session.request(
                method,
                url,
                data=body,
                timeout=timeout,
                proxy=self.proxy_for(url),
                # A redirect is the server's answer, as with httpx: followed, a POST would come
                # back as a GET without its parameters (refused for good), or take the token in
                # its URL wherever the Location points.
                allow_redirects=False,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's own timeouts are TimeoutErrors too
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err

    def proxy_for(self, url: str) -> str | None:
        """HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY from the environment, as httpx reads
        them; looked up once per server (aiohttp's own `trust_env` reads them on every request,
        which cost twice the request itself)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        key = (parts.scheme, f"{host}:{parts.port}" if parts.port else host)
        if key not in self._proxies:
            bypass = not host or proxy_bypass(key[1])  # NO_PROXY entries may name a port
            proxies = getproxies()
            proxy = None if bypass else proxies.get(key[0]) or proxies.get("all")
            if proxy is not None and "://" not in proxy:
                proxy = f"http://{proxy}"  # "host:port", as httpx reads it
            if proxy is not None and urlsplit(proxy).scheme not in ("http", "https"):
                raise ValueError(
                    f"the proxy for {parts.scheme}://{key[1]} is {urlsplit(proxy).scheme}://…, "
                    "and only http:// and https:// proxies are supported"
                )
            self._proxies[key] = proxy
        return self._proxies[key]


def _multipart(fields: dict[str, str], files: UploadFileDict) -> aiohttp.FormData:
    """Fields and files as one multipart body; file names as they are (UTF-8, not
    percent-encoded: a Persian export name reaches the citizen as written)."""
    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
