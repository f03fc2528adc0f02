"""The `medlofte` command line: build, validate, fetch, report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from medlofte_analysis.config import PROCESSED_DIR, PROJECT_ROOT, RAW_DIR
from medlofte_analysis.errors import ConfigError, InputError
from medlofte_analysis.validation import ValidationError


def _cmd_build(args: argparse.Namespace) -> int:
    from medlofte_analysis.build import build
    from medlofte_analysis.config import MANUAL_DIR
    from medlofte_analysis.workbooks import check_folder

    check_folder(MANUAL_DIR)  # the activity logs: personal data refused before anything is built
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
    from medlofte_analysis.validation import validate_indicators, validate_population

    raw, processed = Path(args.raw), Path(args.processed)
    problems = [f"{p.path}: {p.problem}" for p in verify_raw(raw)]
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
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-", 1))
            return list(range(first, last + 1))
        return [int(part) for part in text.split(",")]
    except ValueError as error:
        raise InputError(None, "--years", "years such as 2015-2025 or 2022,2024", text) from error


def _now() -> str:
    import datetime

    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fetch_evaluation(args: argparse.Namespace, raw: Path) -> int:
    from medlofte_analysis import fetch_plan

    municipality = args.municipality[0] if args.municipality else None
    if args.municipality and len(args.municipality) > 1:
        raise InputError(None, "--municipality", "one code with --config", args.municipality)
    plan = fetch_plan.plan_fetch(args.config, municipality, raw)
    print(
        f"{plan.municipality_name} ({plan.municipality}); jämförelsegrupp "
        f"{', '.join(plan.comparison) or '–'}; län {plan.county or '–'}; "
        f"år {plan.years[0]}–{plan.years[-1]}; Kolada-nyckeltal {', '.join(plan.kpis) or '–'}."
    )
    if args.dry_run:
        for line in fetch_plan.planned_requests(plan, args.by_age_sex):
            print(line)
        return 0
    result = fetch_plan.fetch_for_evaluation(plan, raw, now=_now(), by_age_sex=args.by_age_sex)
    for path in result.paths:
        print(f"sparade {path.relative_to(raw).as_posix()}")
    if result.scb.unpublished_years:
        years = ", ".join(str(year) for year in result.scb.unpublished_years)
        print(f"SCB har ännu inte publicerat folkmängden för {years}.")
    for problem in result.kolada.missing + result.scb.missing:
        print(f"saknas: {problem}", file=sys.stderr)
    if result.offline and not result.paths:
        return 2
    with pd.option_context("display.max_colwidth", 120, "display.width", 200):
        print(fetch_plan.coverage_table(result).to_string(index=False))
    if result.paths:
        print("Kör `make all` (eller `medlofte build`) för att använda de nya filerna.")
    return 1 if result.kolada.missing or result.scb.missing else 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from medlofte_analysis import fetch

    raw = Path(args.raw)
    if args.config:
        return _fetch_evaluation(args, raw)
    if args.source is None:
        raise InputError(None, "fetch", "--config evaluations/<id>.toml or a source", None)
    if args.source in ("kolada", "scb"):
        if not args.municipality or not args.years:
            raise InputError(None, "--municipality/--years", "both, e.g. --municipality 0330")
        if args.source == "kolada":
            if not args.kpis:
                raise InputError(None, "--kpis", "Kolada KPI ids (or use --config)")
            outcome = fetch.fetch_kolada(
                args.kpis, args.municipality, _years(args.years), raw, now=_now()
            )
        else:
            outcome = fetch.fetch_scb_population(
                args.municipality, _years(args.years), raw, now=_now(), by_age_sex=args.by_age_sex
            )
        paths = outcome.paths
        for problem in outcome.missing:
            print(f"saknas: {problem}", file=sys.stderr)
    elif not args.file:
        raise InputError(None, "--file", "the path of the file to add")
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
        for path in (result.html, *result.publications):
            print(f"Wrote {path.resolve().relative_to(PROJECT_ROOT).as_posix()}")
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
        help="add new raw snapshots: everything an evaluation needs from Kolada and SCB "
        "(--config, needs internet), a Brå lägesbild workbook or yearly CSV downloaded by hand, "
        "or a filled-in survey template (enkat)",
    )
    fetch.add_argument(
        "source", nargs="?", choices=["kolada", "scb", "bra-xlsx", "bra-csv", "enkat"]
    )
    fetch.add_argument("--config", help="evaluation file: fetch what it needs (Kolada + SCB)")
    fetch.add_argument("--dry-run", action="store_true", help="list the requests, send none")
    fetch.add_argument(
        "--municipality",
        nargs="+",
        help="municipality code(s); with --config one code replaces the evaluation's",
    )
    fetch.add_argument("--years", help="kolada/scb: e.g. 2015-2025 or 2022,2024")
    fetch.add_argument("--kpis", nargs="*", help="kolada: Kolada KPI ids")
    fetch.add_argument("--by-age-sex", action="store_true", help="SCB: by age and sex")
    fetch.add_argument("--file", help="bra-xlsx / bra-csv / enkat: the file to add")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; bad input prints one clear line and exits with status 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (InputError, ConfigError, ValidationError) as error:
        print(f"medlofte: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
