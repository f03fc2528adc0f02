"""Fetch raw snapshots from Kolada (API v3) and SCB (PxWebApi 2.0) into `data/raw`.

Only this module (through `http_client`) touches the network, and only when `medlofte fetch` runs.

* Kolada: `GET {base}/data/kpi/{kpis}/municipality/{codes}/year/{years}`, at most 25 ids per
  path segment (the API's limit), following `next_url` (same host, https) until it is empty →
  `kolada_api/<date>/page-NNN.json`. Licence CC BY 4.0, "Källa: Kolada (RKA)".
* SCB: the table metadata first (`GET {base}/tables/TAB638/metadata`), so only years the table
  holds are asked for; then `POST {base}/tables/TAB638/data?outputFormat=json-stat2` in queries
  of at most 100 000 values (halved again when SCB answers "too many cells": HTTP 400, or 403
  as its specification says), paced within SCB's limit of 30 requests per 10 seconds →
  `scb_pxweb/<date>/befolkning-NNN.json`. Licence CC0, "Källa: SCB".

HTTP goes through `http_client.HttpClient` (requests + urllib3 Retry: timeouts, retries with
backoff honouring Retry-After, a deadline and a size cap per response), with a tqdm progress
bar. Base addresses can be overridden with the environment variables `MEDLOFTE_KOLADA_URL` and
`MEDLOFTE_SCB_URL` (proxies, mirrors); they must be https (plain http only on loopback, for
tests). `fetch_plan` derives what one evaluation needs and says what is still missing.

Nothing unusable enters `data/raw`: every response is parsed by its loader and checked against
what was asked before it is kept; a request that fails after its retries drops only its own
chunk, and the summary says what is missing. Files are written only at the end, while holding
the manifest lock: into a hidden `.fetch-*` folder (outside the manifest's view), which is then
renamed into place and recorded in `manifest.csv` and `sources.csv`. Leftover `.fetch-*` folders
of a killed run are removed by the next run.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
from filelock import Timeout as LockTimeout
from tqdm import tqdm

from medlofte_analysis.config import RAW_DIR
from medlofte_analysis.errors import InputError
from medlofte_analysis.http_client import (
    FetchError,
    HttpClient,
    HttpSettings,
    NoConnection,
    base_url,
    json_object,
    same_origin,
)
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
SCB_MAX_CELLS: int = 100_000  # SCB: at most 100 000 values per query (150 000 in its config)
POPULATION_KPI: str = "N01951"  # Kolada: invånare totalt (SCB, 31 december)
MAX_PAGES: int = 1000


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
        if url != first_url and not same_origin(url, base):
            raise FetchError(
                f"next_url {url!r} följs inte: bara https-adresser på {urlsplit(base).netloc}."
            )
        seen.add(url)
        data = client.fetch("GET", url)
        bar.update(1)
        payload = json_object(data, url)
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


def scb_queries(
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


def _too_many_cells(error: FetchError) -> bool:
    """SCB's answer to a query over its value limit: HTTP 400 "Too many cells selected" from
    the PxWebApi 2.0 server (its code, and reported from the live service), HTTP 403 in its
    OpenAPI specification; either is split and asked again."""
    status = getattr(error, "status", None)
    snippet = str(getattr(error, "snippet", "")).casefold()
    return status == 403 or (status == 400 and "too many" in snippet)


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
        categories = _parsed(scb_pxweb.table_categories, json_object(meta, meta_url), meta_url)
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
    pending = scb_queries(regions, wanted_years, by_age_sex, max_cells)
    responses: list[bytes] = []
    frames: list[pd.DataFrame] = []
    with _progress(client.settings, len(pending) + 1, "SCB") as bar:
        bar.update(1)
        while pending:
            query = pending.pop(0)
            try:
                data = client.fetch("POST", data_url, body=query, interval=interval)
                bar.update(1)
                frame = _parsed(scb_pxweb.parse_jsonstat2, json_object(data, data_url), data_url)
                _check_scb_frame(frame, query, data_url)
            except FetchError as error:
                halves = _halves(query) if _too_many_cells(error) else []
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
    # A workbook named like its folder (enkater.xlsx) is not nested twice.
    same = workbook.stem.casefold() == folder.casefold()
    return _commit(
        Path(raw_dir),
        folder if same else f"{folder}/{date}",
        date if same else workbook.stem,
        {workbook.name: data},
        lambda stamp: dict(
            source,
            source_id=f"{folder}_{date}_{stamp}",
            retrieved=now,
        ),
    )


def _lookup(raw_dir: Path) -> dict[str, str]:
    """Name → code from Kolada's list in `raw_dir` (the project's when the folder has none)."""
    from medlofte_analysis.municipalities import (
        KOLADA_LIST,
        load_kolada_municipalities,
        name_lookup,
    )

    path = Path(raw_dir) / KOLADA_LIST
    return name_lookup(load_kolada_municipalities(path if path.exists() else RAW_DIR / KOLADA_LIST))


def register_bra_workbook(workbook: Path, raw_dir: Path, *, origin: str, now: str) -> list[Path]:
    """Add a Brå lägesbild workbook that an analyst downloaded by hand to `data/raw`.

    Brå publishes one xlsx per municipality at
    https://bra.se/statistik/indikatorer-for-kommuners-lagesbild with no API, so the analyst
    downloads it and this copies its bytes unchanged to
    `bra_lagesbild_xlsx/<date>/<file stem>/` with a manifest and a sources entry. The workbook
    is read once first, so a file that is not a lägesbild workbook is refused before anything
    is written.
    """
    from medlofte_analysis.catalog import load_catalog
    from medlofte_analysis.sources.bra_lagesbild import lagesbild_to_tidy
    from medlofte_analysis.sources.bra_lagesbild_xlsx import read_lagesbild_workbook

    workbook = Path(workbook)
    # What the build does with it, so nothing the build would refuse is saved.
    lagesbild_to_tidy(read_lagesbild_workbook(workbook), load_catalog(), _lookup(raw_dir), workbook)
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
    from medlofte_analysis.build import survey_to_tidy
    from medlofte_analysis.catalog import load_catalog
    from medlofte_analysis.sources.surveys import read_survey_workbook

    workbook = Path(workbook)
    # What the build does with it, so nothing the build would refuse is saved.
    survey_to_tidy(read_survey_workbook(workbook), load_catalog(), workbook)
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
    read_bra_yearly_csv(path, int(match.group(1)), _lookup(raw_dir))
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
