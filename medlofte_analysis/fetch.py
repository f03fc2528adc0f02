"""Fetch raw snapshots from Kolada (API v3) and SCB (PxWebApi 2.0) into `data/raw`.

Only this module touches the network, and only when `medlofte fetch` is run.

* `plan_fetch` derives everything from an evaluation file: the target, its Kolada comparison
  group and county, the Kolada KPIs of its indicators (`catalog.kolada_kpis`) and the years
  from the pre-period through the follow-up. `fetch_for_evaluation` fetches them and
  `coverage_table` says, per indicator, which years are covered and where the rest is published.
* Kolada: `GET {base}/data/kpi/{kpis}/municipality/{codes}/year/{years}`, at most 25 ids per
  path segment (the API's limit), following `next_url` (same host, https) until it is empty →
  `kolada_api/<date>/page-NNN.json`. Licence CC BY 4.0, "Källa: Kolada (RKA)".
* SCB: the table metadata first (`GET {base}/tables/TAB638/metadata`), so only years the table
  holds are asked for; then `POST {base}/tables/TAB638/data?outputFormat=json-stat2` in queries
  of at most 100 000 values (halved again on HTTP 403), paced within SCB's limit of 30 requests
  per 10 seconds → `scb_pxweb/<date>/befolkning-NNN.json`. Licence CC0, "Källa: SCB".

HTTP goes through `requests` with urllib3's `Retry` (a well-kept pair: `Retry` backs off
exponentially on 429/5xx and connection errors and honours `Retry-After`, so no retry loop is
hand-written here), with a (connect, read) timeout on every request, a total deadline and a size
cap per response, and a tqdm progress bar. Base addresses can be overridden with the
environment variables `MEDLOFTE_KOLADA_URL` and `MEDLOFTE_SCB_URL` (proxies, mirrors); they must
be https (plain http only on this machine's loopback, for tests).

Nothing unusable enters `data/raw`: every response is parsed by its loader and checked against
what was asked before it is kept; a request that fails after its retries drops only its own
chunk, and the summary says what is missing. Files are written only at the end, while holding
the manifest lock: into a hidden `.fetch-*` folder (outside the manifest's view), which is then
renamed into place and recorded in `manifest.csv` and `sources.csv`. Leftover `.fetch-*` folders
of a killed run are removed by the next run.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import requests
from filelock import Timeout as LockTimeout
from requests.adapters import HTTPAdapter
from tqdm import tqdm
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

from medlofte_analysis.config import PROJECT_ROOT, RAW_DIR
from medlofte_analysis.errors import InputError
from medlofte_analysis.manifest import (
    ManifestBusy,
    append_manifest_entries,
    append_source,
    manifest_lock,
    sha256_file,
)
from medlofte_analysis.sources import kolada_api, scb_pxweb

KOLADA_BASE_ENV: str = "MEDLOFTE_KOLADA_URL"
SCB_BASE_ENV: str = "MEDLOFTE_SCB_URL"
KOLADA_BASE: str = "https://api.kolada.se/v3"
SCB_BASE: str = "https://statistikdatabasen.scb.se/api/v2"
SCB_TABLE: str = "TAB638"
KOLADA_MAX_IDS: int = 25  # Kolada: at most 25 ids per path segment (HTTP 400 beyond)
SCB_MAX_CELLS: int = 100_000  # SCB: at most 100 000 values per query (HTTP 403 beyond)
SCB_MIN_INTERVAL: float = 10 / 30  # SCB: at most 30 requests per 10 seconds
POPULATION_KPI: str = "N01951"  # Kolada: invånare totalt (SCB, 31 december)
BRA_LAGESBILD_URL: str = "https://bra.se/statistik/indikatorer-for-kommuners-lagesbild"
SURVEY_TEMPLATE: str = "templates/enkatresultat_mall.xlsx"
MAX_PAGES: int = 1000
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


def _same_origin(url: str, base: str) -> bool:
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
                    raise HttpStatus(url, response.status_code, _snippet(response.raw.read(200)))
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_content(64 * 1024):
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
                return b"".join(chunks)
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


def _no_connection(host: str, error: Exception) -> str:
    return (
        f"ingen anslutning till {host} (kontrollera nätverket eller proxyn; "
        f"{type(error).__name__}). Inga filer har ändrats."
    )


class HttpStatus(FetchError):
    """A response other than 200 after the retries."""

    def __init__(self, url: str, status: int, snippet: str) -> None:
        self.status = status
        super().__init__(f"{url}: servern svarade HTTP {status} ({snippet or 'tomt svar'}).")


def _json(data: bytes, url: str) -> dict:
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


def _parsed(parse, payload: dict, url: str) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    try:
        return parse(payload, url)
    except InputError as error:
        raise FetchError(f"oväntat format, inget sparas: {error}") from error


def _chunks(items: Sequence, size: int) -> list[list]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _progress(settings: HttpSettings, total: int, desc: str) -> tqdm:
    disable = None if settings.progress is None else not settings.progress
    return tqdm(total=total, desc=desc, unit="anrop", disable=disable, leave=False)


@dataclass
class FetchOutcome:
    """What one source's fetch kept and what it could not get."""

    source: str
    paths: list[Path] = field(default_factory=list)
    values: pd.DataFrame = field(default_factory=pd.DataFrame)
    missing: list[str] = field(default_factory=list)
    unpublished_years: list[int] = field(default_factory=list)
    offline: bool = False

    def record(self, error: FetchError) -> None:
        """Note what could not be fetched; a lost connection stops the source."""
        self.missing.append(str(error))
        self.offline = self.offline or isinstance(error, NoConnection)


# --- Kolada -------------------------------------------------------------------------------


def kolada_urls(
    kpis: Sequence[str],
    municipality_codes: Sequence[str],
    years: Sequence[int],
    base: str | None = None,
) -> list[str]:
    """The Kolada v3 data URLs for these KPIs, municipalities and years, at most 25 ids per path
    segment (KPIs × municipalities × years chunks, comma-joined)."""
    if not kpis or not municipality_codes or not years:
        raise InputError(None, "arguments", "at least one KPI, municipality and year")
    bad = [code for code in municipality_codes if not re.fullmatch(r"\d{4}", str(code))]
    if bad:
        raise InputError(None, "--municipality", "four-digit municipality codes", bad)
    base = base or base_url(KOLADA_BASE_ENV, KOLADA_BASE)
    return [
        f"{base}/data/kpi/{','.join(k)}/municipality/{','.join(c)}/year/"
        + ",".join(str(int(y)) for y in yrs)
        for k in _chunks(list(kpis), KOLADA_MAX_IDS)
        for c in _chunks(list(municipality_codes), KOLADA_MAX_IDS)
        for yrs in _chunks(list(years), KOLADA_MAX_IDS)
    ]


def _kolada_chunk(
    client: HttpClient, first_url: str, base: str, bar: tqdm
) -> list[tuple[bytes, pd.DataFrame]]:
    """Every page of one chunk, each parsed and checked against what the URL asked for."""
    segments = urlsplit(first_url).path.rstrip("/").split("/")
    asked = {
        "kpi": set(segments[-5].split(",")),
        "municipality_code": set(segments[-3].split(",")),
        "year": {int(y) for y in segments[-1].split(",")},
    }
    pages: list[tuple[bytes, pd.DataFrame]] = []
    url: str | None = first_url
    seen: set[str] = set()
    while url:
        if url in seen or len(seen) >= MAX_PAGES:
            raise FetchError(f"{url}: next_url pekar på en sida som redan hämtats.")
        if url != first_url and not _same_origin(url, base):
            raise FetchError(
                f"next_url {url!r} följs inte: bara https-adresser på {urlsplit(base).netloc}."
            )
        seen.add(url)
        data = client.fetch("GET", url)
        bar.update(1)
        payload = _json(data, url)
        frame = _parsed(kolada_api.parse_kolada_values, payload, url)
        for column, allowed in asked.items():
            extra = sorted(set(frame[column]) - allowed)
            if extra:
                raise FetchError(
                    f"{url}: svaret innehåller {column} {extra[:5]} som inte efterfrågades; "
                    "inget sparas."
                )
        next_url = payload.get("next_url", payload.get("next_page"))
        if next_url is not None and not isinstance(next_url, str):
            raise FetchError(f"{url}: next_url ska vara en adress, fick {next_url!r}.")
        if len(frame):
            pages.append((data, frame))
        url = next_url or None
        if url:
            bar.total += 1
    return pages


def fetch_kolada(
    kpis: Sequence[str],
    municipality_codes: Sequence[str],
    years: Sequence[int],
    raw_dir: Path,
    *,
    now: str,
    client: HttpClient | None = None,
) -> FetchOutcome:
    """Fetch Kolada values, keep the complete chunks, save their pages unchanged and record them.

    `now` is the retrieval time (ISO 8601, UTC); its date names the snapshot folder
    `kolada_api/<date>/` (`<date>-2`, … when taken) and the source id.
    """
    date = _date(now)
    _check_known_codes(Path(raw_dir), municipality_codes)
    client = client or HttpClient()
    base = base_url(KOLADA_BASE_ENV, KOLADA_BASE)
    urls = kolada_urls(kpis, municipality_codes, years, base)
    outcome = FetchOutcome("kolada")
    pages: list[bytes] = []
    frames: list[pd.DataFrame] = []
    with _progress(client.settings, len(urls), "Kolada") as bar:
        for url in urls:
            try:
                chunk = _kolada_chunk(client, url, base, bar)
            except FetchError as error:
                outcome.record(error)
                if outcome.offline:
                    break
                continue
            pages += [data for data, _ in chunk]
            frames += [frame for _, frame in chunk]
    outcome.values = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if pages:
        _check_unique(outcome.values)
        files = {f"page-{number:03d}.json": data for number, data in enumerate(pages, start=1)}
        outcome.paths = _commit(
            Path(raw_dir),
            "kolada_api",
            date,
            files,
            lambda stamp: {
                "source_id": f"kolada_api_{stamp}",
                "publisher": "RKA (Rådet för främjande av kommunala analyser), Kolada",
                "title": f"Kolada API v3: KPI {', '.join(kpis)} for "
                f"{len(municipality_codes)} municipalities, years {min(years)}–{max(years)}",
                "origin": urls[0] if len(urls) == 1 else f"{base}/data/kpi/… ({len(urls)} anrop)",
                "retrieved": now,
                "licence": "CC BY 4.0",
                "attribution": "Källa: Kolada (RKA)",
                "confidence": "high",
                "note": f"{len(pages)} page(s) saved unchanged, following next_url; "
                f"municipalities {', '.join(municipality_codes)}.",
            },
        )
    return outcome


def _check_known_codes(raw_dir: Path, codes: Sequence[str]) -> None:
    """Refuse, before any request, codes the build would refuse (not in Kolada's list of
    `raw_dir`; skipped when the folder has no list, as in a bare test folder)."""
    from medlofte_analysis.municipalities import KOLADA_LIST, load_kolada_municipalities

    if not (raw_dir / KOLADA_LIST).exists():
        return
    known = set(load_kolada_municipalities(raw_dir / KOLADA_LIST)["code"])
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InputError(
            raw_dir / KOLADA_LIST, "column id", "municipality codes in Kolada's list", unknown
        )


def _check_unique(values: pd.DataFrame) -> None:
    duplicated = values.duplicated(list(kolada_api.VALUE_KEY))
    if duplicated.any():
        key = values.loc[duplicated, list(kolada_api.VALUE_KEY)].iloc[0].tolist()
        raise FetchError(f"Kolada gav samma värde på två sidor ({key}); inget sparas.")


# --- SCB ----------------------------------------------------------------------------------


def scb_region(code: str) -> str:
    """SCB's region code for a Kolada code: counties and the country have two digits."""
    return code[2:] if code.startswith("00") else code


def _scb_queries(
    regions: Sequence[str], years: Sequence[int], by_age_sex: bool, max_cells: int
) -> list[dict[str, object]]:
    per_region_year = scb_pxweb.query_cells(scb_pxweb.population_query_v2(["00"], [0], by_age_sex))
    year_chunk = max(1, min(len(years), max_cells // per_region_year))
    queries = []
    for yrs in _chunks(list(years), year_chunk):
        region_chunk = max(1, max_cells // (per_region_year * len(yrs)))
        for regs in _chunks(list(regions), region_chunk):
            queries.append(scb_pxweb.population_query_v2(regs, yrs, by_age_sex))
    return queries


def _halves(query: dict[str, object]) -> list[dict[str, object]]:
    """Split a query over the value limit in two (by region, else by year)."""
    selection = {item["variableCode"]: item["valueCodes"] for item in query["selection"]}  # type: ignore[index,union-attr]
    regions, years = selection["Region"], selection["Tid"]
    by_age_sex = "Alder" in selection
    if len(regions) > 1:
        half = len(regions) // 2
        parts = [(regions[:half], years), (regions[half:], years)]
    elif len(years) > 1:
        half = len(years) // 2
        parts = [(regions, years[:half]), (regions, years[half:])]
    else:
        return []
    return [scb_pxweb.population_query_v2(r, [int(y) for y in t], by_age_sex) for r, t in parts]


def fetch_scb_population(
    codes: Sequence[str],
    years: Sequence[int],
    raw_dir: Path,
    *,
    now: str,
    by_age_sex: bool = False,
    client: HttpClient | None = None,
    max_cells: int = SCB_MAX_CELLS,
) -> FetchOutcome:
    """Fetch SCB folkmängd (TAB638, BE0101N1) as json-stat2, save the responses unchanged.

    Reads the table's metadata first: years the table does not hold yet are reported in
    `unpublished_years`, not asked for. Saves `scb_pxweb/<date>/befolkning-NNN.json`.
    """
    date = _date(now)
    _check_known_codes(Path(raw_dir), codes)
    client = client or HttpClient()
    base = base_url(SCB_BASE_ENV, SCB_BASE)
    outcome = FetchOutcome("scb")
    interval = client.settings.scb_min_interval
    meta_url = f"{base}/tables/{SCB_TABLE}/metadata?lang=sv"
    data_url = f"{base}/tables/{SCB_TABLE}/data?lang=sv&outputFormat=json-stat2"
    try:
        meta = client.fetch("GET", meta_url, interval=interval)
        categories = _parsed(scb_pxweb.table_categories, _json(meta, meta_url), meta_url)
    except FetchError as error:
        outcome.record(error)
        return outcome
    published = {int(y) for y in categories["Tid"] if y.isdigit()}
    outcome.unpublished_years = sorted(set(map(int, years)) - published)
    wanted_years = sorted(set(map(int, years)) & published)
    regions = [scb_region(code) for code in codes]
    unknown = [r for r in regions if r not in set(categories["Region"])]
    if unknown:
        outcome.missing.append(f"SCB:s tabell {SCB_TABLE} saknar regionerna {unknown}.")
    regions = [r for r in regions if r not in unknown]
    if not wanted_years or not regions:
        return outcome
    pending = _scb_queries(regions, wanted_years, by_age_sex, max_cells)
    responses: list[bytes] = []
    frames: list[pd.DataFrame] = []
    with _progress(client.settings, len(pending) + 1, "SCB") as bar:
        bar.update(1)
        while pending:
            query = pending.pop(0)
            try:
                data = client.fetch("POST", data_url, body=query, interval=interval)
                bar.update(1)
                frame = _parsed(scb_pxweb.parse_jsonstat2, _json(data, data_url), data_url)
                _check_scb_frame(frame, query, data_url)
            except FetchError as error:
                halves = _halves(query) if getattr(error, "status", None) == 403 else []
                if halves:
                    pending[:0] = halves
                    bar.total += len(halves)
                    continue
                outcome.record(error)
                if outcome.offline:
                    break
                continue
            responses.append(data)
            frames.append(frame)
    outcome.values = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if responses:
        files = {f"befolkning-{n:03d}.json": data for n, data in enumerate(responses, start=1)}
        outcome.paths = _commit(
            Path(raw_dir),
            "scb_pxweb",
            date,
            files,
            lambda stamp: {
                "source_id": f"scb_pxweb_{stamp}",
                "publisher": "SCB (Statistiska centralbyrån)",
                "title": f"Folkmängd 31 december (BE0101N1), table {SCB_TABLE}"
                + (", by age and sex" if by_age_sex else ""),
                "origin": data_url,
                "retrieved": now,
                "licence": "CC0 1.0",
                "attribution": "Källa: SCB",
                "confidence": "high",
                "note": f"PxWebApi 2.0 json-stat2, {len(responses)} POST(s); regions "
                f"{', '.join(regions)}; years {wanted_years[0]}–{wanted_years[-1]}.",
            },
        )
    return outcome


def _check_scb_frame(frame: pd.DataFrame, query: dict[str, object], url: str) -> None:
    selection = {item["variableCode"]: item["valueCodes"] for item in query["selection"]}  # type: ignore[index,union-attr]
    regions = {code if len(code) == 4 else "00" + code for code in selection["Region"]}
    checks = (
        ("Region", set(frame["municipality_code"]) - regions),
        ("Tid", set(frame["year"].astype(str)) - set(selection["Tid"])),
    )
    for variable, extra in checks:
        if extra:
            raise FetchError(
                f"{url}: svaret innehåller {variable} {sorted(extra)[:5]} som inte efterfrågades; "
                "inget sparas."
            )


# --- Saving -------------------------------------------------------------------------------


def _date(now: str) -> str:
    date = now[:10]
    if len(date) != 10 or date[4] != "-" or date[7] != "-" or not date.replace("-", "").isdigit():
        raise InputError(None, "now", "an ISO timestamp such as 2026-05-01T12:00:00Z", now)
    return date


def clean_leftovers(raw_dir: Path) -> list[str]:
    """Remove `.fetch-*` folders a killed run left in `raw_dir` (call with the lock held:
    staging folders exist only while a fetch holds it). Returns the names removed."""
    removed = []
    for path in sorted(Path(raw_dir).glob(".fetch-*")):
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


def _commit(raw_dir: Path, folder: str, date: str, files: dict[str, bytes], source) -> list[Path]:  # type: ignore[no-untyped-def]
    """Save `files` as `raw_dir/folder/<date>[-n]/` and record them, holding the manifest lock.

    `source(stamp)` gives the sources.csv row for the folder's stamp. On any error nothing stays.
    """
    try:
        raw_dir.mkdir(parents=True, exist_ok=True)
        with manifest_lock(raw_dir):
            clean_leftovers(raw_dir)
            stamp, number = date, 1
            while (raw_dir / folder / stamp).exists():
                number += 1
                stamp = f"{date}-{number}"
            target = raw_dir / folder / stamp
            staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=raw_dir))
            try:
                for name, data in files.items():
                    (staging / name).write_bytes(data)
                target.parent.mkdir(parents=True, exist_ok=True)
                staging.rename(target)
                paths = [target / name for name in sorted(files)]
                row = source(stamp)
                append_manifest_entries(
                    raw_dir,
                    [
                        {
                            "path": path.relative_to(raw_dir).as_posix(),
                            "source_id": row["source_id"],
                            "sha256": sha256_file(path),
                            "bytes": str(path.stat().st_size),
                            "kind": "original",
                            "derived_from": "",
                        }
                        for path in paths
                    ],
                )
                append_source(raw_dir, row)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                shutil.rmtree(target, ignore_errors=True)
                raise
    except LockTimeout as error:
        raise ManifestBusy(raw_dir) from error
    except OSError as error:
        raise FetchError(
            f"kunde inte skriva i {raw_dir} ({error.strerror or error}); inget har sparats."
        ) from error
    return paths


def _register_local_file(
    workbook: Path, raw_dir: Path, folder: str, source: dict[str, str], now: str
) -> list[Path]:
    """Copy a validated local file unchanged to `raw_dir/folder/<date>/<stem>/` and record it."""
    date = _date(now)
    data = Path(workbook).read_bytes()
    return _commit(
        Path(raw_dir),
        f"{folder}/{date}",
        workbook.stem,
        {workbook.name: data},
        lambda stamp: dict(
            source,
            source_id=f"{folder}_{date}_{stamp}",
            retrieved=now,
        ),
    )


def register_bra_workbook(workbook: Path, raw_dir: Path, *, origin: str, now: str) -> list[Path]:
    """Add a Brå lägesbild workbook that an analyst downloaded by hand to `data/raw`.

    Brå publishes one xlsx per municipality at
    https://bra.se/statistik/indikatorer-for-kommuners-lagesbild with no API, so the analyst
    downloads it and this copies its bytes unchanged to
    `bra_lagesbild_xlsx/<date>/<file stem>/` with a manifest and a sources entry. The workbook
    is read once first, so a file that is not a lägesbild workbook is refused before anything
    is written.
    """
    from medlofte_analysis.sources.bra_lagesbild_xlsx import read_lagesbild_workbook

    workbook = Path(workbook)
    read_lagesbild_workbook(workbook)
    source = {
        "publisher": "Brå (Brottsförebyggande rådet)",
        "title": "Indikatorer för kommuners lägesbild (kommunens Excelfil)",
        "origin": origin,
        "licence": "Fri användning med källhänvisning",
        "attribution": "Källa: Brå",
        "confidence": "high",
        "note": f"Downloaded by hand as {workbook.name}; registered with `medlofte fetch`.",
    }
    return _register_local_file(workbook, raw_dir, "bra_lagesbild_xlsx", source, now)


def register_survey_workbook(workbook: Path, raw_dir: Path, *, origin: str, now: str) -> list[Path]:
    """Add a filled-in survey template (`templates/enkatresultat_mall.xlsx`) to `data/raw`.

    The figures are typed in by an analyst from published reports (Polisens trygghetsmätning,
    Liv & hälsa ung, NTU), so the source is recorded as transcribed, with `origin` naming the
    reports. The workbook is validated first; nothing is written if it is refused.
    """
    from medlofte_analysis.sources.surveys import read_survey_workbook

    workbook = Path(workbook)
    read_survey_workbook(workbook)
    source = {
        "publisher": "Inmatat av analytiker ur publicerade enkätrapporter",
        "title": "Enkätresultat (Polisens trygghetsmätning, Liv & hälsa ung, NTU)",
        "origin": origin,
        "licence": "Enligt respektive rapport",
        "attribution": "Källa: se respektive rapport (Polisen, Region Uppsala, Brå)",
        "confidence": "medium",
        "note": f"Typed in by hand from the reports into {workbook.name}.",
    }
    return _register_local_file(workbook, raw_dir, "enkater", source, now)


def register_bra_yearly_csv(path: Path, raw_dir: Path, *, origin: str, now: str) -> list[Path]:
    """Add Brå's "Anmälda brott i kommunerna YYYY.csv", downloaded by hand, to `data/raw`.

    The year is read from the file name (the build needs it); the file is parsed once first,
    so a file in another format is refused before anything is written.
    """
    from medlofte_analysis.municipalities import load_kolada_municipalities, name_lookup
    from medlofte_analysis.sources.bra_yearly_csv import read_bra_yearly_csv

    path = Path(path)
    match = re.search(r"(\d{4})", path.stem)
    if not match:
        raise InputError(
            path,
            "file name",
            "the year in the name, e.g. 'Anmälda brott i kommunerna 2024.csv'",
            path.name,
        )
    lookup = name_lookup(
        load_kolada_municipalities(RAW_DIR / "kolada_rkolada_sysdata" / "kolada_municipalities.csv")
    )
    read_bra_yearly_csv(path, int(match.group(1)), lookup)
    source = {
        "publisher": "Brå (Brottsförebyggande rådet)",
        "title": f"Anmälda brott i kommunerna {match.group(1)} (CSV)",
        "origin": origin,
        "licence": "Fri användning med källhänvisning",
        "attribution": "Källa: Brå",
        "confidence": "high",
        "note": f"Downloaded by hand as {path.name}; registered with `medlofte fetch`.",
    }
    return _register_local_file(path, raw_dir, "bra_yearly_csv", source, now)


# --- One evaluation -------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchPlan:
    """What an evaluation needs from the APIs, derived from its file (nothing defaults)."""

    config_path: str
    municipality: str
    municipality_name: str
    comparison: tuple[str, ...]
    county: str
    indicators: tuple[str, ...]
    kpis: tuple[str, ...]
    years: tuple[int, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        """Target first, then the comparison group, then the county."""
        seen = dict.fromkeys((self.municipality, *self.comparison, self.county))
        return tuple(code for code in seen if code)


def plan_fetch(
    config_path: str | Path, municipality: str | None = None, raw_dir: Path = RAW_DIR
) -> FetchPlan:
    """Derive the target, comparison group, county, KPIs and years from an evaluation file."""
    from medlofte_analysis.catalog import kolada_kpis, load_catalog
    from medlofte_analysis.errors import ConfigError
    from medlofte_analysis.evaluate import comparison_units
    from medlofte_analysis.evaluation_config import load_config, resolve_group_title
    from medlofte_analysis.municipalities import KOLADA_LIST, load_kolada_municipalities
    from medlofte_analysis.sources.kolada_snapshot import read_municipality_groups

    path = Path(config_path)
    if not path.is_absolute() and not path.exists():
        path = PROJECT_ROOT / path  # as `medlofte report`: relative to the project
    config = load_config(path, municipality)
    municipalities = load_kolada_municipalities(Path(raw_dir) / KOLADA_LIST)
    names = dict(zip(municipalities["code"], municipalities["name"], strict=True))
    if config.municipality not in names:
        raise ConfigError(
            f"{config_path}: kommunkoden {config.municipality!r} finns inte i Koladas "
            "kommunlista (fyra siffror, t.ex. 0330 för Knivsta)."
        )
    config = resolve_group_title(config, names[config.municipality])
    groups = read_municipality_groups(
        Path(raw_dir) / "kolada_rkolada_sysdata/kolada_municipality_groups_long.csv"
    )
    comparison = comparison_units(config, groups)
    if config.comparison.kolada_group and not any(
        groups["group_title"].str.startswith(config.comparison.kolada_group)
    ):
        raise ConfigError(
            f"{config_path}: Kolada-gruppen {config.comparison.kolada_group!r} finns inte i "
            "Koladas grupplista."
        )
    wanted = (*comparison, config.comparison.county)
    unknown = [code for code in wanted if code and code not in names]
    if unknown:
        raise ConfigError(f"{config_path}: jämförelsekoderna {unknown} finns inte hos Kolada.")
    first = min(config.pre_period[0], *config.baseline_years)
    last = max(config.pre_period[1], *config.followup_years)
    catalog = load_catalog()
    kpis = kolada_kpis(config.indicators, catalog)
    return FetchPlan(
        config_path=str(config_path),
        municipality=config.municipality,
        municipality_name=names[config.municipality],
        comparison=tuple(comparison),
        county=config.comparison.county,
        indicators=config.indicators,
        kpis=tuple(kpis + [POPULATION_KPI]) if kpis else (),
        years=tuple(range(first, last + 1)),
    )


def planned_requests(plan: FetchPlan, by_age_sex: bool = False) -> list[str]:
    """The requests a fetch would send, one line each (for `--dry-run`; no network)."""
    lines = (
        [f"GET {url}" for url in kolada_urls(plan.kpis, plan.codes, plan.years)]
        if (plan.kpis)
        else []
    )
    base = base_url(SCB_BASE_ENV, SCB_BASE)
    lines.append(f"GET {base}/tables/{SCB_TABLE}/metadata?lang=sv")
    regions = [scb_region(code) for code in plan.codes]
    for query in _scb_queries(regions, plan.years, by_age_sex, SCB_MAX_CELLS):
        lines.append(
            f"POST {base}/tables/{SCB_TABLE}/data?lang=sv&outputFormat=json-stat2 "
            + json.dumps(query, ensure_ascii=False)
        )
    return lines


@dataclass
class EvaluationFetch:
    """The outcome of `fetch_for_evaluation`."""

    plan: FetchPlan
    kolada: FetchOutcome
    scb: FetchOutcome

    @property
    def paths(self) -> list[Path]:
        return self.kolada.paths + self.scb.paths

    @property
    def offline(self) -> bool:
        return self.kolada.offline or self.scb.offline


def fetch_for_evaluation(
    plan: FetchPlan,
    raw_dir: Path,
    *,
    now: str,
    client: HttpClient | None = None,
    by_age_sex: bool = False,
) -> EvaluationFetch:
    """Fetch Kolada values and SCB population for the plan; stop at once when offline."""
    client = client or HttpClient()
    if plan.kpis:
        kolada = fetch_kolada(plan.kpis, plan.codes, plan.years, raw_dir, now=now, client=client)
    else:
        kolada = FetchOutcome("kolada")
    if kolada.offline and not kolada.paths:
        return EvaluationFetch(plan, kolada, FetchOutcome("scb"))
    regions = plan.codes
    scb = fetch_scb_population(
        regions, plan.years, raw_dir, now=now, by_age_sex=by_age_sex, client=client
    )
    return EvaluationFetch(plan, kolada, scb)


def _years_text(years: list[int]) -> str:
    from medlofte_analysis.evaluate import _compact_years  # the report's own year ranges

    return _compact_years(years) or "–"


def coverage_table(result: EvaluationFetch, catalog: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per indicator of the plan: years now covered for the target, years still missing, and
    where the missing years are published (Swedish, for the closing table of the command)."""
    from medlofte_analysis.catalog import load_catalog

    plan = result.plan
    catalog = (load_catalog() if catalog is None else catalog).set_index("indicator_id")
    values = result.kolada.values
    rows = []
    for indicator_id in plan.indicators:
        info = catalog.loc[indicator_id]
        covered: list[int] = []
        if info["source"] == "kolada" and len(values):
            have = values.loc[
                (values["kpi"] == info["source_ref"])
                & (values["municipality_code"] == plan.municipality)
                & (values["gender"] == "T")
                & values["value"].notna()
            ]
            covered = sorted(set(have["year"]))
        missing = [year for year in plan.years if year not in covered]
        rows.append(
            {
                "indikator": indicator_id,
                "namn": info["name_sv"],
                "år som finns": _years_text(covered),
                "år som saknas": _years_text(missing),
                "var de publiceras": where_published(
                    str(info["source"]), str(info["source_ref"]), plan
                )
                if missing
                else "",
            }
        )
    return pd.DataFrame(rows)


def fetch_command(config_path: str, municipality: str) -> str:
    """The exact command that fetches what an evaluation needs from the APIs."""
    path = Path(config_path)
    if path.is_absolute():
        try:
            path = path.relative_to(PROJECT_ROOT)
        except ValueError:
            pass
    return f"medlofte fetch --config {path.as_posix()} --municipality {municipality}"


def where_published(source: str, ref: str, plan: FetchPlan) -> str:
    """Where an indicator's missing years are published, and how they enter (Swedish)."""
    if source == "kolada":
        return (
            f"Kolada {ref}: ännu inte publicerat eller borttaget; kör om "
            f"`{fetch_command(plan.config_path, plan.municipality)}` senare"
        )
    if source == "bra_lagesbild":
        return (
            f"Brå lägesbild: ladda ner {plan.municipality_name}s Excelfil på {BRA_LAGESBILD_URL}, "
            "lägg till med `medlofte fetch bra-xlsx --file <fil>`"
        )
    if source == "bra_yearly_csv":
        return "Brå: Anmälda brott i kommunerna ÅÅÅÅ.csv, `medlofte fetch bra-csv --file <fil>`"
    return f"{ref}: fyll i {SURVEY_TEMPLATE}, lägg till med `medlofte fetch enkat --file <fil>`"
