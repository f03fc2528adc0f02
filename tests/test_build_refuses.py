"""No silent wrong data: the build refuses what it cannot use, naming the file and the row.

Every damaged file below is a SYNTHETIC edit of a copy of a shipped snapshot (tests/fuzz_harness).
"""

import pytest
from fuzz_harness import RawCopy, snapshot

from medlofte_analysis.build import (
    KOLADA_GROUPS,
    KOLADA_JUVAHEM,
    KOLADA_MUNICIPALITIES,
    LAGESBILD_LONG,
    POPULATION_2010_2016,
    build,
    build_tables,
)
from medlofte_analysis.errors import InputError


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    return RawCopy(tmp_path_factory.mktemp("raw"))


@pytest.fixture()
def raw(copy):
    yield copy
    copy.restore()


def _lines(raw, relative):
    return raw.original(relative).decode("utf-8").splitlines(keepends=True)


def _edit(raw, relative, line_number, old, new):
    lines = _lines(raw, relative)
    assert old in lines[line_number], lines[line_number]
    lines[line_number] = lines[line_number].replace(old, new, 1)
    raw.replace_text(relative, "".join(lines))


def test_a_conflicting_duplicate_row_is_refused_with_file_and_key(raw):
    lines = _lines(raw, KOLADA_JUVAHEM)
    raw.replace_text(KOLADA_JUVAHEM, "".join(lines) + lines[1].replace("11331.30988", "999"))
    with pytest.raises(InputError, match=r"kolada_N07540.*municipality_code=0114.*year=2025"):
        build_tables(raw.raw)


def test_an_identical_duplicate_row_is_dropped_and_said_in_the_record(raw):
    lines = _lines(raw, KOLADA_JUVAHEM)
    raw.replace_text(KOLADA_JUVAHEM, "".join(lines) + lines[1])
    record = build_tables(raw.raw).record
    assert record["identical_duplicate_rows_dropped"] == {KOLADA_JUVAHEM: 1}


@pytest.mark.parametrize("bad", ["Infinity", "1e309", "inf", "nan", "-1e400"])
def test_a_non_finite_number_is_refused_naming_the_cell(raw, bad):
    _edit(raw, KOLADA_JUVAHEM, 1, "11331.30988", bad)
    with pytest.raises(InputError, match=r"row 2, column value"):
        build_tables(raw.raw)


@pytest.mark.parametrize("bad", ["tjugo", "2022.5", "3022", "", "1850"])
def test_an_impossible_year_in_a_count_row_is_refused_not_dropped(raw, bad):
    # Line 2 is "Avesta,Antal,2017,Totalt antal anmälda brott,2282.0,...": a count row.
    _edit(raw, LAGESBILD_LONG, 1, ",2017,", f",{bad},")
    with pytest.raises(InputError, match=r"row 2, column ar.*four-digit year"):
        build_tables(raw.raw)


@pytest.mark.parametrize(
    ("relative", "line", "old"),
    [(KOLADA_JUVAHEM, 1, ",2025,"), (POPULATION_2010_2016, 1, ",2010,")],
)
def test_a_non_numeric_year_is_an_input_error_not_a_traceback(raw, relative, line, old):
    _edit(raw, relative, line, old, ",20x5,")
    with pytest.raises(InputError, match=r"row 2, column (year|År)"):
        build_tables(raw.raw)


def test_a_count_row_without_its_rate_row_is_refused(raw):
    lines = _lines(raw, LAGESBILD_LONG)
    rate = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("Avesta,Antal per 100 000 inv,2017,Totalt antal anmälda brott,")
    )
    raw.replace_text(LAGESBILD_LONG, "".join(lines[:rate] + lines[rate + 1 :]))
    with pytest.raises(InputError, match=r"'Antal' row for 'Totalt antal anmälda brott', 2017"):
        build_tables(raw.raw)


def test_an_orphan_population_row_is_refused_not_dropped(raw):
    lines = _lines(raw, KOLADA_JUVAHEM)
    population = next(i for i, line in enumerate(lines) if ",N01951," in line)
    raw.replace_text(
        KOLADA_JUVAHEM,
        "".join(lines) + lines[population].replace(lines[population][:4], "9999", 1),
    )
    with pytest.raises(InputError, match=r"municipality_code=9999.*a municipality or county code"):
        build_tables(raw.raw)


def test_a_truncated_municipality_list_is_caught(raw):
    lines = _lines(raw, KOLADA_MUNICIPALITIES)
    raw.replace_text(KOLADA_MUNICIPALITIES, "".join(lines[:-30]))
    with pytest.raises(
        InputError,
        match=r"kolada_municipalities.*all 290 municipalities.*found .260 municipalities",
    ):
        build_tables(raw.raw)


def test_a_truncated_group_file_is_caught(raw):
    lines = _lines(raw, KOLADA_GROUPS)
    raw.replace_text(KOLADA_GROUPS, "".join(lines[: len(lines) // 50]))
    with pytest.raises(InputError, match=r"every municipality in at least one group"):
        build_tables(raw.raw)


def test_a_failed_build_writes_nothing(raw, tmp_path):
    out = tmp_path / "processed"
    build(raw.raw, out)
    before = snapshot(tmp_path)
    _edit(raw, KOLADA_JUVAHEM, 1, "11331.30988", "Infinity")
    with pytest.raises(InputError):
        build(raw.raw, out)
    assert snapshot(tmp_path) == before


def test_a_file_cut_in_the_middle_of_a_row_is_caught(raw):
    data = raw.original(KOLADA_JUVAHEM)
    raw.replace(KOLADA_JUVAHEM, data[: data.rindex(b",", 0, len(data) - 40)])
    with pytest.raises(InputError, match=r"row \d+: expected 8 fields like the header"):
        build_tables(raw.raw)


def test_a_row_with_extra_fields_is_refused_not_shifted(raw):
    _edit(raw, KOLADA_JUVAHEM, 1, "0114,", "0114,0114,")
    with pytest.raises(InputError, match=r"row 2: expected 8 fields.*found '9 fields'"):
        build_tables(raw.raw)


def _survey(indicators, groups):
    import pandas as pd

    n = len(indicators)
    return pd.DataFrame(
        {
            "municipality_code": ["0330"] * n,
            "year": [2022] * n,
            "indicator_id": indicators,
            "group": groups,
            "share_percent": [10.0] * n,
            "ci_lower": [float("nan")] * n,
            "ci_upper": [float("nan")] * n,
            "n_respondents": [100.0] * n,
            "missing_reason": [""] * n,
        }
    )


def test_a_non_survey_indicator_in_the_survey_template_is_refused():
    from medlofte_analysis.build import survey_to_tidy
    from medlofte_analysis.catalog import load_catalog

    frame = _survey(["lhu_narkotika_ak9", "kolada_n07544"], ["åk 9", "alla"])
    with pytest.raises(InputError, match=r"data row 2 .*survey indicator.*kolada_n07544"):
        survey_to_tidy(frame, load_catalog(), "enkater.xlsx")


def test_two_survey_groups_for_one_key_are_refused_not_replaced():
    from medlofte_analysis.build import survey_to_tidy
    from medlofte_analysis.catalog import load_catalog

    frame = _survey(["lhu_narkotika_ak9", "lhu_narkotika_ak9"], ["åk 9", "gy 2"])
    with pytest.raises(InputError, match=r"data rows \[1, 2\].*one result per.*'åk 9', 'gy 2'"):
        survey_to_tidy(frame, load_catalog(), "enkater.xlsx")


@pytest.mark.parametrize(
    "text",
    ['a,b\n1,"unterminated\n2,3\n', "a,b\n\r,1\n", 'a,b\n1,x"y"z\n"'],
    ids=["open-quote", "bare-carriage-return", "stray-quote"],
)
def test_malformed_csv_quoting_is_an_input_error(tmp_path, text):
    # Found by the fuzz benchmark: pandas' ParserError and csv.Error reached the user.
    from medlofte_analysis.cleaning import read_csv_strict

    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"f\.csv"):
        read_csv_strict(path, ("a", "b"))


def test_a_sources_row_broken_by_a_carriage_return_is_an_input_error(tmp_path):
    # Found by the fuzz benchmark: a bare \r in sources.csv gave a TypeError in the report.
    from medlofte_analysis.manifest import read_sources

    (tmp_path / "sources.csv").write_text(
        "source_id,publisher,title,origin,retrieved,licence,attribution,confidence,note\n"
        "s,Brå,T,\rhttps://bra.se,2026,CC0,Källa: Brå,high,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"sources\.csv: row 2: expected 9 fields"):
        read_sources(tmp_path)
