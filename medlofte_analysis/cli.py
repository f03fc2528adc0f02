"""The `medlofte` command line: build, validate, fetch, report."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from medlofte_analysis.config import PROCESSED_DIR, PROJECT_ROOT, RAW_DIR
from medlofte_analysis.errors import ConfigError, InputError
from medlofte_analysis.validation import ValidationError


def _cmd_build(args: argparse.Namespace) -> int:
    from medlofte_analysis.build import build

    result = build(Path(args.raw), Path(args.processed))
    rows = result.record["rows"]
    print(
        f"Wrote {args.processed}: {rows['indicators']} indicator rows, "
        f"{rows['population']} population rows, {rows['context_figures']} context figures."
    )
    if result.record["unmapped_variables"]:
        print(
            "Variables in the raw data not in the catalog (not used): "
            + "; ".join(result.record["unmapped_variables"])
        )
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from medlofte_analysis.evaluate import load_inputs
    from medlofte_analysis.manifest import read_manifest, read_sources, verify_raw
    from medlofte_analysis.validation import (
        check_processed_record,
        validate_indicators,
        validate_population,
    )

    raw, processed = Path(args.raw), Path(args.processed)
    problems = [f"{p.path}: {p.problem}" for p in verify_raw(raw)]
    problems += check_processed_record(processed)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    sources = set(read_sources(raw))
    sha = {row["path"]: row["sha256"] for row in read_manifest(raw)}
    inputs = load_inputs(processed)
    codes, indicators = set(inputs.municipalities["code"]), inputs.indicators
    population = pd.read_csv(
        processed / "population.csv",
        dtype={"municipality_code": str},
        keep_default_na=False,
        na_values={"population": [""]},
    )
    problems += validate_indicators(
        indicators, codes, set(inputs.catalog["indicator_id"]), sources, sha
    )
    problems += validate_population(population, codes, sources, sha)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(
        f"OK: {len(sha)} raw files match the manifest; processed tables valid "
        f"({len(indicators)} indicator rows, {len(population)} population rows)."
    )
    return 0


def _years(text: str) -> list[int]:
    """'2015-2025' or '2022,2024' → a list of years."""
    parts = text.split("-", 1) if "-" in text else text.split(",")
    if not all(part.strip().isdigit() and len(part.strip()) == 4 for part in parts):
        raise InputError(None, "--years", "years such as 2015-2025 or 2022,2024", text)
    if "-" in text:
        first, last = (int(part) for part in parts)
        return list(range(first, last + 1))
    return [int(part) for part in parts]


def _now() -> str:
    import datetime

    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cmd_fetch(args: argparse.Namespace) -> int:
    from medlofte_analysis import fetch

    raw = Path(args.raw)
    if args.source == "kolada":
        paths = fetch.fetch_kolada(
            args.kpis or list(fetch.DEFAULT_KOLADA_KPIS) + ["N01951"],
            args.municipality,
            _years(args.years),
            raw,
            now=_now(),
        )
    elif args.source == "scb":
        paths = fetch.fetch_scb_population(
            args.municipality, _years(args.years), raw, now=_now(), by_age_sex=args.by_age_sex
        )
    elif not args.file:
        raise InputError(None, "--file", "the path of the workbook (.xlsx)")
    elif args.source == "bra-csv":
        paths = fetch.register_bra_yearly_csv(Path(args.file), raw, origin=args.origin, now=_now())
    elif args.source == "bra-xlsx":
        paths = fetch.register_bra_workbook(Path(args.file), raw, origin=args.origin, now=_now())
    else:
        paths = fetch.register_survey_workbook(Path(args.file), raw, origin=args.origin, now=_now())
    for path in paths:
        print(f"saved {path.relative_to(raw).as_posix()}")
    print("Run `medlofte build` to use the new snapshot.")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from medlofte_analysis.report import run_report

    configs = (
        ["evaluations/knivsta-2024-2025.toml", "evaluations/demo-dalarna.toml"]
        if args.all
        else [args.config]
    )
    for config in configs:
        result = run_report(config, args.municipality or None, execute=not args.no_execute)
        print(f"Wrote {result.html.relative_to(PROJECT_ROOT).as_posix()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by tests and `--help`)."""
    parser = argparse.ArgumentParser(
        prog="medlofte",
        description="Evaluate the focus areas of a medborgarlöfte with published statistics.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="raw → processed: build data/processed from data/raw")
    build.add_argument("--raw", default=str(RAW_DIR), help="raw data folder (default: %(default)s)")
    build.add_argument(
        "--processed", default=str(PROCESSED_DIR), help="output folder (default: %(default)s)"
    )
    build.set_defaults(func=_cmd_build)
    validate = sub.add_parser(
        "validate", help="check raw checksums against the manifest and the processed schema"
    )
    validate.add_argument("--raw", default=str(RAW_DIR))
    validate.add_argument("--processed", default=str(PROCESSED_DIR))
    validate.set_defaults(func=_cmd_validate)
    fetch = sub.add_parser(
        "fetch",
        help="add new raw snapshots: Kolada API or SCB population (needs internet), a Brå "
        "lägesbild workbook downloaded by hand, or a filled-in survey template (enkat)",
    )
    fetch.add_argument("source", choices=["kolada", "scb", "bra-xlsx", "bra-csv", "enkat"])
    fetch.add_argument(
        "--municipality",
        nargs="+",
        default=["0330"],
        help="municipality codes (default: %(default)s)",
    )
    fetch.add_argument("--years", default="2015-2025", help="e.g. 2015-2025 or 2022,2024")
    fetch.add_argument("--kpis", nargs="*", help="Kolada KPI ids (default: the catalog's)")
    fetch.add_argument("--by-age-sex", action="store_true", help="SCB: by age and sex")
    fetch.add_argument("--file", help="bra-xlsx / enkat: the workbook to add")
    fetch.add_argument(
        "--origin",
        default="https://bra.se/statistik/indikatorer-for-kommuners-lagesbild",
        help="bra-xlsx: where it was downloaded; enkat: the reports the figures come from",
    )
    fetch.add_argument("--raw", default=str(RAW_DIR))
    fetch.set_defaults(func=_cmd_fetch)
    report = sub.add_parser(
        "report", help="execute the notebooks for an evaluation and write its HTML report"
    )
    report.add_argument(
        "config",
        nargs="?",
        default="evaluations/knivsta-2024-2025.toml",
        help="evaluation file, relative to the project (default: %(default)s)",
    )
    report.add_argument("--municipality", help="evaluate another municipality (four-digit code)")
    report.add_argument("--all", action="store_true", help="every shipped evaluation")
    report.add_argument(
        "--no-execute",
        action="store_true",
        help="export the already executed notebooks without running them",
    )
    report.set_defaults(func=_cmd_report)
    return parser


DEBUG_VARIABLE = "MEDLOFTE_DEBUG"

# Exit statuses: 2 bad input (as argparse), 1 a fault of the machine (disk, permissions),
# 70 an internal error (EX_SOFTWARE), 130 interrupted (128 + SIGINT).
EXIT_INPUT, EXIT_ENVIRONMENT, EXIT_INTERNAL, EXIT_INTERRUPTED = 2, 1, 70, 130


def _os_error_sv(error: OSError) -> str:
    """One Swedish sentence for a fault of the file system, naming the file."""
    place = f" ({error.filename})" if error.filename else ""
    if error.errno == errno.ENOSPC:
        return f"disken är full{place}; inget halvfärdigt har sparats, frigör utrymme"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"ingen behörighet att skriva eller läsa{place}; kontrollera rättigheterna"
    if error.errno == errno.ENOENT:
        return f"filen eller mappen finns inte{place}"
    if error.errno == errno.EISDIR:
        return f"en mapp angavs där en fil väntades{place}"
    return f"filsystemet svarade: {error.strerror or type(error).__name__}{place}"


def describe_failure(error: BaseException) -> tuple[str, int]:
    """The one line (Swedish) and exit status for an exception that ends a command."""
    if isinstance(error, InputError | ConfigError | ValidationError):
        return f"fel i indata: {error}", EXIT_INPUT
    if isinstance(error, KeyboardInterrupt):
        return "avbrutet (Ctrl+C); inget halvfärdigt har sparats", EXIT_INTERRUPTED
    if isinstance(error, UnicodeError):
        reason = getattr(error, "reason", str(error))
        return (
            f"en fil är inte sparad som UTF-8 ({reason}); spara den som UTF-8 och försök igen",
            EXIT_INPUT,
        )
    if isinstance(error, MemoryError):
        return "minnet räckte inte till; är en indatafil orimligt stor?", EXIT_ENVIRONMENT
    if isinstance(error, OSError):
        return _os_error_sv(error), EXIT_ENVIRONMENT
    return (
        f"internt fel ({type(error).__name__}: {str(error)[:200]}); kör igen med "
        f"{DEBUG_VARIABLE}=1 för hela felspåret och rapportera det",
        EXIT_INTERNAL,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; any fault prints one Swedish line and a non-zero exit status.

    Bad input exits with 2, a machine fault (disk full, no permission) with 1, an interrupt
    with 130 and anything unexpected with 70. Set MEDLOFTE_DEBUG=1 to get the traceback.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        return EXIT_ENVIRONMENT
    except (Exception, KeyboardInterrupt) as error:
        if os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
            raise
        line, status = describe_failure(error)
        print(f"medlofte: {' '.join(line.split())}", file=sys.stderr)
        return status


if __name__ == "__main__":
    raise SystemExit(main())
