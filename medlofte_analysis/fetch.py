"""Fetch raw snapshots from Kolada (API v3) and SCB (PxWeb API v1) into `data/raw`.

Only this module touches the network, and only when `medlofte fetch` is run. Each response's
bytes are saved unchanged, then recorded in `data/raw/manifest.csv` (path, sha256, size) and
`data/raw/sources.csv` (origin URL, retrieval time, licence, attribution). Files are first written
to a temporary directory inside `raw_dir` and moved into place only when every request has
succeeded, so a failure leaves `raw_dir` as it was.

* Kolada: `GET https://api.kolada.se/v3/data/kpi/{kpis}/municipality/{codes}/year/{years}`
  (comma-joined), following `next_url` until it is empty → `kolada_api/<date>/page-NNN.json`.
  Licence CC BY 4.0, "Källa: Kolada (RKA)".
* SCB: `POST` of `scb_pxweb.population_query_v1(...)` to the BefolkningNy v1 URL →
  `scb_pxweb/<date>/befolkning.json`. Licence CC0, "Källa: SCB".
"""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from medlofte_analysis.errors import InputError
from medlofte_analysis.manifest import append_manifest_entries, append_source, sha256_file
from medlofte_analysis.sources.scb_pxweb import V1_URL, population_query_v1

KOLADA_DATA_URL: str = "https://api.kolada.se/v3/data/kpi/{kpis}/municipality/{codes}/year/{years}"
DEFAULT_KOLADA_KPIS: tuple[str, ...] = (
    "N07540",
    "N07403",
    "N07544",
    "N07548",
    "U07452",
    "U07417",
    "N07546",
    "N07547",
    "N07536",
    "N07537",
    "N07402",
    "N07549",
    "N07541",
    "N07542",
    "N00301",
)
MAX_PAGES: int = 1000
TIMEOUT_SECONDS: int = 60
USER_AGENT: str = "medlofte-analysis/0.1 (raw data snapshot)"

Opener = Callable[..., Any]


def _date(now: str) -> str:
    date = now[:10]
    if len(date) != 10 or date[4] != "-" or date[7] != "-" or not date.replace("-", "").isdigit():
        raise InputError(None, "now", "an ISO timestamp such as 2026-05-01T12:00:00Z", now)
    return date


def _request(opener: Opener, request: urllib.request.Request) -> bytes:
    url = request.full_url
    try:
        with opener(request, timeout=TIMEOUT_SECONDS) as response:
            status = getattr(response, "status", 200)
            if status is not None and status != 200:
                raise InputError(url, None, "HTTP status 200", status)
            return response.read()
    except urllib.error.HTTPError as error:
        raise InputError(url, None, "HTTP status 200", f"{error.code} {error.reason}") from error
    except urllib.error.URLError as error:
        raise InputError(url, None, "a reachable server", str(error.reason)) from error


def _json(data: bytes, url: str) -> dict:
    try:
        payload = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(url, None, "a UTF-8 JSON response", type(error).__name__) from error
    if not isinstance(payload, dict):
        raise InputError(url, None, "a JSON object", type(payload).__name__)
    return payload


def _commit(
    raw_dir: Path,
    staging: Path,
    relative_dir: str,
    source: dict[str, str],
) -> list[Path]:
    """Move the staged files into `raw_dir/relative_dir`, then record them in the manifest."""
    target = raw_dir / relative_dir
    if target.exists():
        raise InputError(target, None, "no snapshot for this date yet (remove it to re-fetch)")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging.rename(target)
    try:
        paths = sorted(target.iterdir())
        rows = [
            {
                "path": path.relative_to(raw_dir).as_posix(),
                "source_id": source["source_id"],
                "sha256": sha256_file(path),
                "bytes": str(path.stat().st_size),
                "kind": "original",
                "derived_from": "",
            }
            for path in paths
        ]
        append_manifest_entries(raw_dir, rows)
        append_source(raw_dir, source)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return paths


def _staging(raw_dir: Path) -> Path:
    raw_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".fetch-", dir=raw_dir))


def kolada_url(kpis: Sequence[str], municipality_codes: Sequence[str], years: Sequence[int]) -> str:
    """The Kolada v3 data URL for these KPIs, municipalities and years (comma-joined)."""
    if not kpis or not municipality_codes or not years:
        raise InputError(None, "arguments", "at least one KPI, municipality and year")
    return KOLADA_DATA_URL.format(
        kpis=",".join(kpis),
        codes=",".join(municipality_codes),
        years=",".join(str(int(year)) for year in years),
    )


def fetch_kolada(
    kpis: Sequence[str],
    municipality_codes: Sequence[str],
    years: Sequence[int],
    raw_dir: Path,
    opener: Opener = urllib.request.urlopen,
    *,
    now: str,
) -> list[Path]:
    """Fetch Kolada values, save every page unchanged and record them; return the page paths.

    `now` is the retrieval time (ISO 8601, UTC); its date names the snapshot directory
    `kolada_api/<date>/` and the source id `kolada_api_<date>`.
    """
    raw_dir = Path(raw_dir)
    date = _date(now)
    first_url = kolada_url(kpis, municipality_codes, years)
    staging = _staging(raw_dir)
    try:
        url: str | None = first_url
        seen: set[str] = set()
        number = 0
        while url:
            if url in seen or number >= MAX_PAGES:
                raise InputError(url, f"page {number + 1}", "a next_url not seen before", url)
            seen.add(url)
            number += 1
            request = urllib.request.Request(
                url, headers={"Accept": "application/json", "User-Agent": USER_AGENT}
            )
            data = _request(opener, request)
            payload = _json(data, url)
            if not isinstance(payload.get("values"), list):
                raise InputError(url, f"page {number}", "a Kolada response with a 'values' list")
            (staging / f"page-{number:03d}.json").write_bytes(data)
            url = payload.get("next_url") or None
        source = {
            "source_id": f"kolada_api_{date}",
            "publisher": "RKA (Rådet för främjande av kommunala analyser), Kolada",
            "title": f"Kolada API v3: KPI {', '.join(kpis)} for {', '.join(municipality_codes)}, "
            f"years {min(years)}–{max(years)}",
            "origin": first_url,
            "retrieved": now,
            "licence": "CC BY 4.0",
            "attribution": "Källa: Kolada (RKA)",
            "confidence": "high",
            "note": f"{number} page(s) saved unchanged, following next_url.",
        }
        return _commit(raw_dir, staging, f"kolada_api/{date}", source)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch_scb_population(
    codes: Sequence[str],
    years: Sequence[int],
    raw_dir: Path,
    opener: Opener = urllib.request.urlopen,
    *,
    now: str,
    by_age_sex: bool = False,
) -> list[Path]:
    """Fetch SCB folkmängd (BE0101N1) through PxWeb v1, save the response unchanged and record it.

    Saves `scb_pxweb/<date>/befolkning.json`; the POST body is written into the source note.
    """
    raw_dir = Path(raw_dir)
    date = _date(now)
    query = population_query_v1(codes, years, by_age_sex)
    body = json.dumps(query, ensure_ascii=False).encode("utf-8")
    staging = _staging(raw_dir)
    try:
        request = urllib.request.Request(
            V1_URL,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        data = _request(opener, request)
        payload = _json(data, V1_URL)
        if not isinstance(payload.get("data"), list):
            raise InputError(V1_URL, None, "a PxWeb v1 response with a 'data' list")
        (staging / "befolkning.json").write_bytes(data)
        source = {
            "source_id": f"scb_pxweb_{date}",
            "publisher": "SCB (Statistiska centralbyrån)",
            "title": "Folkmängd 31 december (BE0101N1), table BefolkningNy"
            + (", by age and sex" if by_age_sex else ""),
            "origin": V1_URL,
            "retrieved": now,
            "licence": "CC0 1.0",
            "attribution": "Källa: SCB",
            "confidence": "high",
            "note": "POST body: " + body.decode("utf-8"),
        }
        return _commit(raw_dir, staging, f"scb_pxweb/{date}", source)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _register_local_file(
    workbook: Path, raw_dir: Path, folder: str, source: dict[str, str], now: str
) -> list[Path]:
    """Copy a validated local file unchanged to `raw_dir/folder/<date>/<stem>/` and record it."""
    date = _date(now)
    staging = _staging(Path(raw_dir))
    try:
        shutil.copyfile(workbook, staging / workbook.name)
        source = dict(source, source_id=f"{folder}_{date}_{workbook.stem}", retrieved=now)
        # A workbook named like its folder (enkater.xlsx) is not nested twice.
        same = workbook.stem.casefold() == folder.casefold()
        relative = f"{folder}/{date}" if same else f"{folder}/{date}/{workbook.stem}"
        return _commit(Path(raw_dir), staging, relative, source)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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
    import re

    from medlofte_analysis.config import RAW_DIR
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
