"""A local stand-in for Kolada v3 and SCB PxWebApi 2.0 on 127.0.0.1, for offline fetch tests.

It answers in the services' real formats (Kolada `{"values": [...], "next_url": ...}` pages;
SCB json-stat2 table metadata and data). Values:
- population (Kolada N01951, SCB BE0101N1) is the REAL 2025 population of each municipality
  from the committed Kolada snapshot (`kolada_via_juvahem`), used for every year;
- every other KPI value is SYNTHETIC test data: Poisson counts drawn with a fixed seed around a
  per-KPI rate, turned into a rate per 100 000. They are generated here, at test time, and are
  never written into the project's data/raw.

Faults are queued per service (`kolada.faults`, `scb.faults`): each request takes the next one
(if any) instead of the normal answer.
"""

from __future__ import annotations

import http.server
import json
import re
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

from medlofte_analysis.config import RAW_DIR

SYNTHETIC_RATE: dict[str, float] = {
    # SYNTHETIC per-100 000 levels, of the order Kolada shows for these KPIs.
    "N07540": 9000.0,
    "N07403": 1000.0,
    "U07452": 1500.0,
    "N07548": 900.0,
    "N07544": 400.0,
    "N07542": 120.0,
    "N07541": 90.0,
    "N07402": 30.0,
    "N07549": 60.0,
    "N07546": 200.0,
    "U07417": 3000.0,
    "N00301": 50.0,
}
POPULATION_KPI = "N01951"


@dataclass
class Fault:
    """One abnormal answer: a status, a body, headers, a delay, or a body cut short."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate: bool = False
    content_type: str = "application/json"
    drip: float = 0.0  # seconds between single bytes of the body (a slow server)


def real_population() -> dict[str, float]:
    """The REAL 2025 population (Kolada N01951) of every municipality in the committed snapshot."""
    frame = pd.read_csv(
        RAW_DIR / "kolada_via_juvahem" / "kolada_N07540_N01951_latest_all_kommuner.csv",
        dtype={"kommun_code": str},
    )
    rows = frame.loc[frame["kolada_kpi"] == POPULATION_KPI]
    population = dict(zip(rows["kommun_code"], rows["value"].astype(float), strict=True))
    population["0003"] = sum(v for code, v in population.items() if code.startswith("03"))
    return population


def synthetic_value(kpi: str, code: str, year: int, population: float) -> float:
    """A SYNTHETIC rate per 100 000: a Poisson count around the KPI's level, fixed seed."""
    seed = zlib.crc32(f"{kpi}-{code}-{year}".encode())
    count = np.random.default_rng(seed).poisson(SYNTHETIC_RATE[kpi] * population / 1e5)
    return round(float(count) / population * 1e5, 2)


class KoladaService:
    """Kolada v3 data pages, `page_size` entries a page, with next_url on the same server."""

    def __init__(self, page_size: int = 100, withdrawn: set[tuple[str, str, int]] | None = None):
        self.page_size = page_size
        self.population = real_population()
        self.faults: list[Fault] = []
        self.next_url_override: str | None = None
        self.withdrawn = withdrawn or set()

    def entries(self, kpis: list[str], codes: list[str], years: list[int]) -> list[dict]:
        entries = []
        for kpi in kpis:
            for code in codes:
                population = self.population.get(code)
                for year in years:
                    if population is None:
                        continue
                    value = (
                        population
                        if kpi == POPULATION_KPI
                        else synthetic_value(kpi, code, year, population)
                    )
                    item = {"gender": "T", "count": 1, "status": "", "value": value}
                    if (kpi, code, year) in self.withdrawn:
                        item["is_deleted"] = True
                    entries.append(
                        {"kpi": kpi, "municipality": code, "period": year, "values": [item]}
                    )
        return entries

    def answer(self, origin: str, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        match = re.fullmatch(r"/v3/data/kpi/([^/]+)/municipality/([^/]+)/year/([^/]+)", path)
        if not match:
            return 404, b'{"error": "not found"}'
        kpis, codes, years = (part.split(",") for part in match.groups())
        if max(len(kpis), len(codes), len(years)) > 25:
            return 400, b'{"error": "too many ids"}'
        entries = self.entries(kpis, codes, [int(y) for y in years])
        page = int(query.get("page", ["1"])[0])
        start = (page - 1) * self.page_size
        more = start + self.page_size < len(entries)
        next_url = f"{origin}{path}?page={page + 1}" if more else ""
        if self.next_url_override is not None and page == 1:
            next_url = self.next_url_override
        body = {"values": entries[start : start + self.page_size], "next_url": next_url}
        return 200, json.dumps(body).encode("utf-8")


class ScbService:
    """SCB PxWebApi 2.0 for TAB638: metadata (years up to `last_year`) and json-stat2 data."""

    def __init__(self, last_year: int = 2024, cell_limit: int = 100_000):
        self.last_year = last_year
        self.cell_limit = cell_limit
        self.population = real_population()
        self.faults: list[Fault] = []
        self.extra_dimension = False
        # Over the value limit the PxWebApi 2.0 server answers 400 (its code; reported from the
        # live service); its OpenAPI specification says 403.
        self.too_many_status = 400

    def _regions(self) -> list[str]:
        return [code[2:] if code.startswith("00") else code for code in sorted(self.population)]

    def metadata(self) -> bytes:
        years = [str(y) for y in range(1968, self.last_year + 1)]
        dims = {
            "Region": self._regions(),
            "Civilstand": ["OG", "G", "SK", "ÄNKL"],
            "Alder": [str(a) for a in range(100)] + ["100+"],
            "Kon": ["1", "2"],
            "ContentsCode": ["BE0101N1"],
            "Tid": years,
        }
        body = {
            "version": "2.0",
            "class": "dataset",
            "id": list(dims),
            "size": [len(v) for v in dims.values()],
            "dimension": {
                dim: {"category": {"index": {c: i for i, c in enumerate(codes)}}}
                for dim, codes in dims.items()
            },
        }
        return json.dumps(body).encode("utf-8")

    def data(self, query: dict) -> tuple[int, bytes]:
        selection = {item["variableCode"]: item["valueCodes"] for item in query["selection"]}
        cells = 1
        for codes in selection.values():
            cells *= len(codes)
        if cells > self.cell_limit:
            return self.too_many_status, (
                b'{"type":"Parameter error","title":"Too many cells selected","status":%d}'
                % self.too_many_status
            )
        dims = {
            "Region": selection["Region"],
            "ContentsCode": ["BE0101N1"],
            "Tid": selection["Tid"],
        }
        if self.extra_dimension:
            dims = {"Region": dims["Region"], "Civilstand": ["OG", "G"], **dims}
        values = []
        for region in dims["Region"]:
            code = region if len(region) == 4 else "00" + region
            for _ in dims.get("Civilstand", [None]):
                for _year in dims["Tid"]:
                    values.append(self.population.get(code))
        body = {
            "version": "2.0",
            "class": "dataset",
            "label": "Folkmängden efter region och år",
            "source": "SCB (replayed in a test)",
            "id": list(dims),
            "size": [len(v) for v in dims.values()],
            "dimension": {
                dim: {"category": {"index": {c: i for i, c in enumerate(codes)}}}
                for dim, codes in dims.items()
            },
            "value": values,
        }
        return 200, json.dumps(body).encode("utf-8")


class ReplayServer:
    """A threaded http.server on 127.0.0.1 serving `kolada` under /v3 and `scb` under /api/v2."""

    def __init__(self) -> None:
        self.kolada = KoladaService()
        self.scb = ScbService()
        self.log: list[tuple[str, str]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def _send(self, status: int, body: bytes, fault: Fault | None = None) -> None:
                fault = fault or Fault()
                if fault.delay:
                    time.sleep(fault.delay)
                self.send_response(status)
                self.send_header("Content-Type", fault.content_type)
                length = len(body) + (1000 if fault.truncate else 0)
                self.send_header("Content-Length", str(length))
                for key, value in fault.headers.items():
                    self.send_header(key, value)
                if fault.truncate:
                    self.send_header("Connection", "close")
                self.end_headers()
                try:
                    if fault.drip:
                        for byte in body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(fault.drip)
                    else:
                        self.wfile.write(body)
                        self.wfile.flush()
                except OSError:
                    return
                if fault.truncate:
                    self.close_connection = True

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                payload = self.rfile.read(length) if length else b""
                server.log.append((method, self.path))
                service = server.kolada if parts.path.startswith("/v3/") else server.scb
                if service.faults:
                    fault = service.faults.pop(0)
                    self._send(fault.status, fault.body, fault)
                    return
                if service is server.kolada and method == "GET":
                    origin = f"http://127.0.0.1:{server.port}"
                    self._send(*server.kolada.answer(origin, parts.path, parse_qs(parts.query)))
                elif parts.path.endswith("/tables/TAB638/metadata") and method == "GET":
                    self._send(200, server.scb.metadata())
                elif parts.path.endswith("/tables/TAB638/data") and method == "POST":
                    self._send(*server.scb.data(json.loads(payload)))
                else:
                    self._send(404, b'{"error": "not found"}')

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def kolada_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3"

    @property
    def scb_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v2"

    def __enter__(self) -> ReplayServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port() -> int:
    """A loopback port with nothing listening (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def files_in(raw: Path) -> dict[str, bytes]:
    """Every file under `raw` (relative path → bytes): hidden ones included, the lock file not."""
    return {
        p.relative_to(raw).as_posix(): p.read_bytes()
        for p in raw.rglob("*")
        if p.is_file() and p.name != ".manifest.lock"
    }
