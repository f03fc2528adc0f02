"""The `medlofte` command line: build, validate, fetch, report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from medlofte_analysis.config import PROCESSED_DIR, RAW_DIR
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
    from medlofte_analysis.catalog import load_catalog
    from medlofte_analysis.manifest import read_manifest, read_sources, verify_raw
    from medlofte_analysis.validation import validate_indicators, validate_population

    raw, processed = Path(args.raw), Path(args.processed)
    problems = [f"{p.path}: {p.problem}" for p in verify_raw(raw)]
    sources = set(read_sources(raw))
    sha = {row["path"]: row["sha256"] for row in read_manifest(raw)}
    read = {
        "dtype": {"municipality_code": str},
        "keep_default_na": False,
        "na_values": {
            c: [""]
            for c in ("value", "count", "population", "ci_lower", "ci_upper", "n_respondents")
        },
    }
    municipalities = pd.read_csv(processed / "municipalities.csv", dtype=str)
    codes = set(municipalities["code"])
    indicators = pd.read_csv(processed / "indicators.csv", **read)
    population = pd.read_csv(
        processed / "population.csv",
        dtype={"municipality_code": str},
        keep_default_na=False,
        na_values={"population": [""]},
    )
    problems += validate_indicators(
        indicators, codes, set(load_catalog()["indicator_id"]), sources, sha
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
