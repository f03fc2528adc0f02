"""The `medlofte` command line (help in Swedish): all, build, validate, fetch, report."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

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
        f"Skrev {args.processed}: {rows['indicators']} indikatorrader, "
        f"{rows['population']} folkmängdsrader, {rows['context_figures']} sekundära uppgifter."
    )
    if result.record["unmapped_variables"]:
        print(
            "Variabler i rådata som inte finns i katalogen (används inte): "
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
        f"OK: {len(sha)} rådatafiler stämmer med manifestet; de bearbetade tabellerna är "
        f"giltiga ({len(indicators)} indikatorrader, {len(population)} folkmängdsrader)."
    )
    return 0


def _years(text: str) -> list[int]:
    """'2015-2025' or '2022,2024' → a list of years."""
    parts = text.split("-", 1) if "-" in text else text.split(",")
    if not all(part.strip().isdigit() and len(part.strip()) == 4 for part in parts):
        raise InputError(None, "--years", "år som 2015-2025 eller 2022,2024", text)
    if "-" in text:
        first, last = (int(part) for part in parts)
        return list(range(first, last + 1))
    return [int(part) for part in parts]


def _now() -> str:
    import datetime

    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fetch_evaluation(args: argparse.Namespace, raw: Path) -> int:
    from medlofte_analysis import fetch_plan

    municipality = args.municipality[0] if args.municipality else None
    if args.municipality and len(args.municipality) > 1:
        raise InputError(
            None, "--municipality", "en enda kod tillsammans med --config", args.municipality
        )
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
        raise InputError(None, "fetch", "--config evaluations/<id>.toml eller en källa", None)
    if args.source in ("kolada", "scb"):
        if not args.municipality or not args.years:
            raise InputError(
                None, "--municipality/--years", "båda, t.ex. --municipality 0330 --years 2015-2025"
            )
        if args.source == "kolada":
            if not args.kpis:
                raise InputError(None, "--kpis", "Koladas nyckeltal (eller använd --config)")
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
        raise InputError(None, "--file", "sökvägen till filen (--file)")
    elif args.source == "bra-csv":
        paths = fetch.register_bra_yearly_csv(Path(args.file), raw, origin=args.origin, now=_now())
    elif args.source == "bra-xlsx":
        paths = fetch.register_bra_workbook(Path(args.file), raw, origin=args.origin, now=_now())
    else:
        paths = fetch.register_survey_workbook(Path(args.file), raw, origin=args.origin, now=_now())
    for path in paths:
        print(f"sparade {path.relative_to(raw).as_posix()}")
    print("Kör `medlofte all` (eller `medlofte build`) för att använda den nya ögonblicksbilden.")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from medlofte_analysis.report import run_report

    configs = list(SHIPPED_EVALUATIONS) if args.all else [args.config]
    for config in configs:
        result = run_report(config, args.municipality or None, execute=not args.no_execute)
        for path in (result.html, *result.publications):
            print(f"Skrev {path.resolve().relative_to(PROJECT_ROOT).as_posix()}")
    return 0


def _cmd_all(args: argparse.Namespace) -> int:
    """build, then report for every shipped evaluation (what `make all` does, without make)."""
    status = _cmd_build(argparse.Namespace(raw=str(RAW_DIR), processed=str(PROCESSED_DIR)))
    if status:
        return status
    report = argparse.Namespace(
        all=not args.municipality,
        config=args.config,
        municipality=args.municipality,
        no_execute=False,
    )
    return _cmd_report(report)


SHIPPED_EVALUATIONS: tuple[str, ...] = (
    "evaluations/knivsta-2024-2025.toml",
    "evaluations/demo-dalarna.toml",
)
_EXAMPLES = """exempel:
  medlofte all                                   bygg data och skriv alla rapporter
  medlofte report --municipality 2080            Falun med Knivstas fokusområden
  medlofte report evaluations/demo-dalarna.toml --municipality 2080
  medlofte fetch enkat --file enkater.xlsx --origin "Liv & hälsa ung 2022, 2025"
  medlofte validate

På Windows: .venv\\Scripts\\medlofte all"""


class _SwedishParser(argparse.ArgumentParser):
    """argparse with Swedish headings, usage and error prefix; defaults shown in the help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "argument"
        self._optionals.title = "flaggor"
        self.add_argument("-h", "--help", action="help", help="visa den här hjälpen och avsluta")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: fel: {message}\n")


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "användning: " if prefix is None else prefix)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "%(default)" in text or action.default in (None, False, "", argparse.SUPPRESS):
            return text
        if action.option_strings or action.nargs in ("?", "*"):
            return f"{text} (standard: %(default)s)"
        return text


def _add_folders(parser: argparse.ArgumentParser, processed_help: str) -> None:
    """--raw and --processed, with the project's folders as defaults."""
    parser.add_argument("--raw", default=str(RAW_DIR), metavar="MAPP", help="mapp med rådata")
    parser.add_argument(
        "--processed", default=str(PROCESSED_DIR), metavar="MAPP", help=processed_help
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by tests and `--help`)."""
    parser = _SwedishParser(
        prog="medlofte",
        description="Visar medborgarlöftets fokusområden effekt? Bygger tabeller ur publicerad "
        "statistik och skriver utvärderingsrapporten.",
        epilog=_EXAMPLES,
    )
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        title="kommandon",
        metavar="KOMMANDO",
        parser_class=_SwedishParser,
    )
    everything = sub.add_parser(
        "all",
        help="allt i ett: bygg data/processed och skriv rapporterna (som make all)",
        description="Bygger data/processed ur data/raw och kör sedan notebooks och "
        "HTML-rapporter för de utvärderingar som följer med (Knivsta och demonstrationen), "
        "eller för en annan kommun med --municipality.",
        epilog="exempel:\n  medlofte all\n  medlofte all --municipality 0305",
    )
    everything.add_argument(
        "--municipality",
        default="",
        metavar="KOD",
        help="en annan kommun (fyrsiffrig kommunkod, t.ex. 0305)",
    )
    everything.add_argument(
        "--config",
        default=SHIPPED_EVALUATIONS[0],
        help="utvärderingsfil för --municipality, relativt projektet",
    )
    everything.set_defaults(func=_cmd_all)
    build = sub.add_parser(
        "build",
        help="bygg data/processed ur data/raw",
        description="Läser de publicerade ögonblicksbilderna i data/raw och skriver de städade "
        "tabellerna i data/processed.",
    )
    _add_folders(build, "mapp att skriva till")
    build.set_defaults(func=_cmd_build)
    validate = sub.add_parser(
        "validate",
        help="kontrollera rådatas kontrollsummor och de bearbetade tabellerna",
        description="Jämför varje rådatafils sha256 med data/raw/manifest.csv och kontrollerar "
        "de bearbetade tabellernas kolumner och värden.",
    )
    _add_folders(validate, "mapp med bearbetade tabeller")
    validate.set_defaults(func=_cmd_validate)
    fetch = sub.add_parser(
        "fetch",
        help="lägg till rådata: allt en utvärdering behöver från Kolada och SCB (--config, kräver "
        "internet), Brå-filer du laddat ned eller en ifylld enkätmall",
        description="Lägger till nya ögonblicksbilder i data/raw med ursprung och kontrollsumma. "
        "Med --config hämtas allt utvärderingsfilen behöver från Kolada och SCB; bra-xlsx, "
        "bra-csv och enkat registrerar en fil du har laddat ned eller fyllt i.",
        epilog="exempel:\n"
        "  medlofte fetch --config evaluations/knivsta-2024-2025.toml\n"
        "  medlofte fetch --config evaluations/knivsta-2024-2025.toml --municipality 0305\n"
        "  medlofte fetch --config evaluations/knivsta-2024-2025.toml --dry-run\n"
        "  medlofte fetch bra-xlsx --file Knivsta.xlsx\n"
        '  medlofte fetch enkat --file enkater.xlsx --origin "Polisens trygghetsmätning 2024"',
    )
    fetch.add_argument(
        "source",
        nargs="?",
        choices=["kolada", "scb", "bra-xlsx", "bra-csv", "enkat"],
        help="källa (utelämnas med --config)",
    )
    fetch.add_argument(
        "--config", metavar="FIL", help="utvärderingsfil: hämta det den behöver (Kolada + SCB)"
    )
    fetch.add_argument("--dry-run", action="store_true", help="lista anropen utan att skicka något")
    fetch.add_argument(
        "--municipality",
        nargs="+",
        metavar="KOD",
        help="kommunkod(er), fyra siffror; med --config ersätter en kod utvärderingens",
    )
    fetch.add_argument("--years", help="kolada/scb: år, t.ex. 2015-2025 eller 2022,2024")
    fetch.add_argument("--kpis", nargs="*", help="kolada: Koladas nyckeltal")
    fetch.add_argument("--by-age-sex", action="store_true", help="scb: efter ålder och kön")
    fetch.add_argument("--file", help="bra-xlsx, bra-csv, enkat: filen att lägga till")
    fetch.add_argument(
        "--origin",
        default="https://bra.se/statistik/indikatorer-for-kommuners-lagesbild",
        help="var filen kommer ifrån (enkat: de rapporter siffrorna är hämtade ur)",
    )
    fetch.add_argument("--raw", default=str(RAW_DIR), metavar="MAPP", help="mapp med rådata")
    fetch.set_defaults(func=_cmd_fetch)
    report = sub.add_parser(
        "report",
        help="kör notebooks för en utvärdering och skriv dess HTML-rapport",
        description="Kontrollerar utvärderingsfilen, kör notebooks och skriver rapporten. En "
        "annan kommun (--municipality) skrivs till reports/kommuner/.",
        epilog="exempel:\n  medlofte report\n  medlofte report --municipality 2080\n"
        "  medlofte report evaluations/demo-dalarna.toml --municipality 2080",
    )
    report.add_argument(
        "config",
        nargs="?",
        default=SHIPPED_EVALUATIONS[0],
        help="utvärderingsfil, relativt projektet",
    )
    report.add_argument(
        "--municipality",
        metavar="KOD",
        help="utvärdera en annan kommun (fyrsiffrig kommunkod, t.ex. 0305)",
    )
    report.add_argument("--all", action="store_true", help="alla utvärderingar som följer med")
    report.add_argument(
        "--no-execute",
        action="store_true",
        help="exportera de redan körda notebooks utan att köra dem",
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
