"""Long fuzz profile (a script, not a test): thousands of mutated inputs, counted.

Mutates copies (in a temporary folder) of the shipped CSV snapshots, the shipped evaluation
files, generated survey workbooks and the sources table that `fetch --origin` writes, using the
same Hypothesis strategies as the quick profile in tests/test_fuzz.py. Prints, per target and in
total: inputs tried, accepted, refused with the project's own error, foreign exceptions (any
other exception type: a traceback the user would see), files written by a refused input, and
live markup in the rendered sources appendix. Done when foreign, written and markup are all 0.

Deterministic for a given --seed. Run:  .venv/bin/python benchmarks/bench_fuzz.py [--n 3000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fuzz_harness import (  # noqa: E402
    CSV_TARGETS,
    MARKUP,
    Outcome,
    RawCopy,
    csv_mutations,
    survey_cells,
    toml_mutations,
    try_build,
    try_config,
    try_sources_markup,
    try_survey,
)

from medlofte_analysis.build import build  # noqa: E402
from medlofte_analysis.evaluate import load_inputs  # noqa: E402


class Tally:
    """Counts per target, and the first few foreign exceptions for the report."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter] = {}
        self.examples: list[str] = []

    def add(self, target: str, outcome: Outcome, detail: str = "") -> None:
        counts = self.counts.setdefault(target, Counter())
        counts["tried"] += 1
        counts["accepted"] += outcome.accepted
        counts["refused"] += not outcome.accepted and not outcome.foreign
        counts["foreign"] += bool(outcome.foreign)
        counts["written"] += bool(outcome.written)
        counts["markup"] += bool(outcome.markup)
        if (outcome.foreign or outcome.written or outcome.markup) and len(self.examples) < 20:
            self.examples.append(
                f"{target} {detail[:160]}: {outcome.foreign or outcome.written or outcome.markup}"
            )

    def print(self) -> None:
        columns = ("tried", "accepted", "refused", "foreign", "written", "markup")
        print(f"{'target':<72}" + "".join(f"{c:>9}" for c in columns))
        total = Counter()
        for target, counts in self.counts.items():
            total.update(counts)
            print(f"{target:<72}" + "".join(f"{counts[c]:>9}" for c in columns))
        print(f"{'TOTAL':<72}" + "".join(f"{total[c]:>9}" for c in columns))
        for example in self.examples:
            print("  !", example)


def _run(strategy: st.SearchStrategy, examples: int, seed: int, body) -> None:
    """Feed `examples` draws of `strategy` to `body` (no shrinking: we count, not minimise)."""

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=("generate",),
    )
    @given(value=strategy)
    def run(value):
        body(value)

    run._hypothesis_internal_use_seed = seed
    started = time.perf_counter()
    run()
    print(f"  {examples} inputs in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="inputs in total (default 3000)")
    parser.add_argument("--seed", type=int, default=20261127)
    args = parser.parse_args()
    tally = Tally()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="medlofte-fuzz-") as folder:
        folder = Path(folder)
        copy = RawCopy(folder)
        processed = folder / "out" / "processed"
        build(copy.raw, processed)
        inputs = load_inputs()
        budget = {"csv": args.n // 2, "toml": args.n // 4, "survey": args.n // 10}
        budget["markup"] = args.n - sum(budget.values())

        for relative in CSV_TARGETS:

            def one_csv(mutation, relative=relative):
                op, data, detail = mutation
                tally.add(relative, try_build(copy, relative, data, processed), f"{op} {detail}")

            _run(
                csv_mutations(copy.original(relative)),
                budget["csv"] // len(CSV_TARGETS),
                args.seed,
                one_csv,
            )
        for name in ("knivsta-2024-2025.toml", "demo-dalarna.toml"):
            original = (ROOT / "evaluations" / name).read_text(encoding="utf-8")

            def one_toml(mutation, name=name):
                op, text = mutation
                tally.add(f"evaluations/{name}", try_config(text, folder, inputs), op)

            _run(toml_mutations(original), budget["toml"] // 2, args.seed, one_toml)

        def one_survey(rows):
            tally.add("survey workbook (generated)", try_survey(rows, folder), repr(rows))

        rows = st.lists(st.lists(survey_cells(), min_size=11, max_size=11), max_size=4)
        _run(rows, budget["survey"], args.seed, one_survey)

        def one_markup(case):
            column, value = case
            tally.add(
                "sources.csv → sources appendix HTML",
                try_sources_markup(copy, column, value),
                f"{column}={value!r}",
            )

        values = st.one_of(
            st.sampled_from(MARKUP),
            st.tuples(st.text(max_size=10), st.sampled_from(MARKUP), st.text(max_size=10)).map(
                "".join
            ),
        )
        columns = st.sampled_from(("title", "publisher", "origin", "attribution", "note"))
        _run(st.tuples(columns, values), budget["markup"], args.seed, one_markup)
    tally.print()
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
