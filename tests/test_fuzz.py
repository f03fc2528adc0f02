"""Quick fuzz profile: mutated copies of the shipped snapshots, evaluation files and survey
workbooks reach the user only as the project's own input errors, and a refused input writes
nothing. The long profile (thousands of inputs) is `benchmarks/bench_fuzz.py`.

Deterministic (`derandomize=True`, no example database), a few dozen examples per target.
"""

import pytest
from fuzz_harness import (
    CSV_TARGETS,
    MARKUP,
    RawCopy,
    csv_mutations,
    survey_cells,
    toml_mutations,
    try_build,
    try_config,
    try_sources_markup,
    try_survey,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medlofte_analysis.build import build
from medlofte_analysis.config import PROJECT_ROOT
from medlofte_analysis.evaluate import load_inputs

QUICK = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    copy = RawCopy(folder)
    processed = folder / "out" / "processed"
    build(copy.raw, processed)
    return copy, processed, folder


def test_a_mutated_snapshot_is_refused_cleanly_or_built(workspace):
    copy, processed, _ = workspace
    mutations = st.sampled_from(CSV_TARGETS).flatmap(
        lambda relative: st.tuples(st.just(relative), csv_mutations(copy.original(relative)))
    )

    @settings(QUICK, max_examples=24)
    @given(mutation=mutations)
    def check(mutation):
        relative, (op, data, _) = mutation
        outcome = try_build(copy, relative, data, processed)
        assert outcome.foreign == "", (relative, op, outcome.foreign)
        assert outcome.written == [], (relative, op, outcome.written)

    check()


@pytest.mark.parametrize("name", ["knivsta-2024-2025.toml", "demo-dalarna.toml"])
def test_a_mutated_evaluation_file_is_refused_cleanly_or_accepted(tmp_path, name):
    inputs = load_inputs()
    original = (PROJECT_ROOT / "evaluations" / name).read_text(encoding="utf-8")

    @QUICK
    @given(mutation=toml_mutations(original))
    def check(mutation):
        op, text = mutation
        outcome = try_config(text, tmp_path, inputs)
        assert outcome.foreign == "", (op, text, outcome.foreign)

    check()


def test_a_survey_workbook_with_hostile_cells_is_refused_cleanly_or_read(tmp_path):
    @settings(QUICK, max_examples=15)
    @given(rows=st.lists(st.lists(survey_cells(), min_size=11, max_size=11), max_size=3))
    def check(rows):
        outcome = try_survey(rows, tmp_path)
        assert outcome.foreign == "", (rows, outcome.foreign)

    check()


@pytest.mark.parametrize("column", ["title", "publisher", "origin", "attribution", "note"])
@pytest.mark.parametrize("markup", MARKUP)
def test_no_markup_from_sources_survives_into_the_appendix_html(workspace, column, markup):
    copy, _, _ = workspace
    outcome = try_sources_markup(copy, column, f"Källa {markup} slut")
    assert (outcome.foreign, outcome.markup) == ("", [])
