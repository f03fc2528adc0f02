"""HTTP for `medlofte fetch`: one requests Session with urllib3's Retry.

`requests` + urllib3 `Retry` (both well kept and already in every Jupyter install) rather than a
hand-written urllib loop: `Retry` backs off exponentially on 429/5xx and on failed connects and
honours `Retry-After` (capped here). On top of it: a (connect, read) timeout on every request, a
total deadline and a size cap per response (read as a stream), pacing per host (SCB allows 30
requests per 10 seconds), no redirects, and errors as one Swedish sentence (`FetchError`;
`NoConnection` when the service cannot be reached at all). Base addresses must be https, or
plain http on this machine's loopback (the tests' stand-in server).
"""

from __future__ import annotations

import ipaddress
import json
import os
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from medlofte_analysis.errors import InputError

SCB_MIN_INTERVAL: float = 10 / 30  # SCB: at most 30 requests per 10 seconds
USER_AGENT: str = "medlofte-analysis/0.1 (raw data snapshot)"
_LOOPBACK_NAMES = {"localhost"}


class FetchError(InputError):
    """A fetch that cannot go on: the message is one Swedish sentence for the user."""

    def __init__(self, message: str) -> None:
        ValueError.__init__(self, message)
        self.path, self.location, self.expected, self.found = None, None, message, None


class NoConnection(FetchError):
    """The service could not be reached at all (no network, DNS, refused)."""


@dataclass(frozen=True)
class HttpSettings:
    """Limits of every request. Tests pass tiny backoffs and timeouts."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    deadline: float = 300.0  # total seconds for one response, body included
    max_bytes: int = 64 * 2**20  # size cap of one response
    retries: int = 4
    backoff_factor: float = 1.0  # 1, 2, 4, 8 s …
    backoff_max: float = 60.0
    max_retry_after: float = 120.0
    scb_min_interval: float = SCB_MIN_INTERVAL
    progress: bool | None = None  # None: a progress bar only on a terminal


class _Retry(Retry):
    """urllib3's Retry with a cap on how long a server's Retry-After may make us wait."""

    max_retry_after: float = HttpSettings.max_retry_after

    def get_retry_after(self, response):  # type: ignore[no-untyped-def]
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.max_retry_after)

    def new(self, **kw):  # type: ignore[no-untyped-def]
        # Each retry is a new Retry object: carry the cap over.
        retry = super().new(**kw)
        retry.max_retry_after = self.max_retry_after
        return retry


def base_url(env: str, default: str) -> str:
    """The base address from the environment (or the default), refused unless it is https
    (or plain http on loopback)."""
    url = (os.environ.get(env) or default).rstrip("/")
    if not _allowed_scheme(url):
        raise FetchError(
            f"{env}={url!r}: adressen måste börja med https:// (http bara mot 127.0.0.1)."
        )
    return url


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _allowed_scheme(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname))


def same_origin(url: str, base: str) -> bool:
    """A `next_url` is followed only on the base's scheme, host and port, over https."""
    a, b = urlsplit(url), urlsplit(base)
    return _allowed_scheme(url) and (a.scheme, a.netloc) == (b.scheme, b.netloc)


def _snippet(data: bytes, limit: int = 120) -> str:
    text = data[:limit].decode("utf-8", "replace")
    return " ".join(text.split()) + ("…" if len(data) > limit else "")


class HttpClient:
    """One requests Session with retries, timeouts, a size cap, a deadline and SCB pacing."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.settings = settings or HttpSettings()
        retry = _Retry(
            total=self.settings.retries,
            connect=2,
            read=0,
            status=self.settings.retries,
            backoff_factor=self.settings.backoff_factor,
            backoff_max=self.settings.backoff_max,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "POST"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        retry.max_retry_after = self.settings.max_retry_after
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._last_request: dict[str, float] = {}
        self.requests: list[tuple[str, str]] = []

    def _pace(self, url: str, interval: float) -> None:
        host = urlsplit(url).netloc
        last = self._last_request.get(host)
        if last is not None and interval > 0:
            wait = last + interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self._last_request[host] = time.monotonic()

    def fetch(self, method: str, url: str, body: dict | None = None, interval: float = 0) -> bytes:
        """The body of a 200 response, or a FetchError saying in Swedish what went wrong."""
        settings = self.settings
        self._pace(url, interval)
        self.requests.append((method, url))
        host = urlsplit(url).netloc
        start = time.monotonic()
        received = False
        try:
            with self.session.request(
                method,
                url,
                json=body,
                timeout=(settings.connect_timeout, settings.read_timeout),
                stream=True,
                allow_redirects=False,
            ) as response:
                received = True
                if response.status_code != 200:
                    raise HttpStatus(
                        url,
                        response.status_code,
                        _snippet(response.raw.read(200, decode_content=True)),
                    )
                return self._body(response, url, start)
        except requests.exceptions.ConnectTimeout as error:
            raise NoConnection(_no_connection(host, error)) from error
        except requests.exceptions.Timeout as error:
            raise FetchError(
                f"{url}: servern svarade inte inom {settings.read_timeout:g} s (timeout)."
            ) from error
        except requests.exceptions.ChunkedEncodingError as error:
            raise FetchError(
                f"{url}: svaret avbröts innan det var komplett (trunkerat)."
            ) from error
        except requests.exceptions.ConnectionError as error:
            reason = getattr(error.args[0] if error.args else None, "reason", None)
            if isinstance(reason, ReadTimeoutError):
                raise FetchError(
                    f"{url}: servern svarade inte inom {settings.read_timeout:g} s (timeout)."
                ) from error
            if not received and isinstance(reason, NewConnectionError | ConnectTimeoutError):
                raise NoConnection(_no_connection(host, error)) from error
            raise FetchError(f"{url}: anslutningen bröts ({type(reason).__name__}).") from error
        except requests.exceptions.RequestException as error:
            raise FetchError(f"{url}: begäran misslyckades ({type(error).__name__}).") from error

    def _body(self, response: requests.Response, url: str, start: float) -> bytes:
        """Read the (decoded) body as data arrives (`read1`), so the size cap and the total
        deadline are checked at least every `read_timeout` seconds, even on a slow server."""
        settings = self.settings
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := response.raw.read1(64 * 1024, decode_content=True):
                size += len(chunk)
                if size > settings.max_bytes:
                    raise FetchError(
                        f"{url}: svaret är större än {settings.max_bytes} byte; inget sparas."
                    )
                if time.monotonic() - start > settings.deadline:
                    raise FetchError(
                        f"{url}: svaret tog mer än {settings.deadline:g} s; inget sparas."
                    )
                chunks.append(chunk)
        except ReadTimeoutError as error:
            raise FetchError(
                f"{url}: servern svarade inte inom {settings.read_timeout:g} s (timeout)."
            ) from error
        except ProtocolError as error:
            raise FetchError(
                f"{url}: svaret avbröts innan det var komplett (trunkerat)."
            ) from error
        except DecodeError as error:
            raise FetchError(f"{url}: svaret gick inte att packa upp ({error}).") from error
        return b"".join(chunks)


def _no_connection(host: str, error: Exception) -> str:
    return (
        f"ingen anslutning till {host} (kontrollera nätverket eller proxyn; "
        f"{type(error).__name__}). Inga filer har ändrats."
    )


class HttpStatus(FetchError):
    """A response other than 200 after the retries."""

    def __init__(self, url: str, status: int, snippet: str) -> None:
        self.status = status
        self.snippet = snippet
        super().__init__(f"{url}: servern svarade HTTP {status} ({snippet or 'tomt svar'}).")


def json_object(data: bytes, url: str) -> dict:
    """Parse a JSON object, refusing an HTML page or a truncated body with what was found."""
    try:
        payload = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        kind = "en HTML-sida" if data.lstrip()[:1] == b"<" else "ofullständig eller ogiltig JSON"
        raise FetchError(
            f"{url}: väntade JSON men fick {kind}: {_snippet(data)!r}; inget sparas."
        ) from error
    if not isinstance(payload, dict):
        raise FetchError(f"{url}: väntade ett JSON-objekt, fick {type(payload).__name__}.")
    return payload
