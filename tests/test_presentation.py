"""Reader-facing text: Swedish notes, rounded tables, honest summaries."""

import html as html_module
import re

import pandas as pd
import pytest

from medlofte_analysis.evaluate import Evaluation, run_evaluation
from medlofte_analysis.presentation import (
    UNKNOWN_NOTE_SV,
    answer_markdown,
    note_sv,
    results_table,
    scorecard_html,
    show,
    source_sv,
    summary_markdown,
    table_html,
)
from medlofte_analysis.stats.proportions import (
    difference_from_published_intervals,
    newcombe_difference,
)


@pytest.fixture(scope="module")
def demo() -> Evaluation:
    return run_evaluation("evaluations/demo-dalarna.toml")


def test_statistics_notes_are_translated_to_swedish():
    note = "Trend 2017–2022 (6 år). pre-period includes pandemic years 2020–2021"
    assert note_sv(note) == "Trend 2017–2022 (6 år). Förperioden innehåller pandemiåren 2020–2021"


def test_an_unknown_english_note_becomes_a_generic_swedish_sentence():
    assert note_sv("GLM did not converge") == UNKNOWN_NOTE_SV


def test_an_unknown_reason_code_becomes_a_generic_swedish_sentence():
    assert note_sv("new_reason_code") == UNKNOWN_NOTE_SV


def test_a_known_clause_is_kept_beside_an_unknown_one():
    note = "ett enda basår. the model did not converge at all"
    assert note_sv(note) == f"ett enda basår. {UNKNOWN_NOTE_SV[0].upper()}{UNKNOWN_NOTE_SV[1:]}"


def test_a_sentence_inside_a_note_starts_with_a_capital():
    note = "överspridning lånad (se före–efter). förperioden innehåller pandemiåren; t.ex. en"
    assert note_sv(note) == (
        "överspridning lånad (se före–efter). Förperioden innehåller pandemiåren; t.ex. en"
    )


def test_one_event_takes_the_singular():
    assert note_sv("1 händelser 2022, 4 2024") == "1 händelse 2022, 4 2024"


def test_numbers_in_notes_get_a_decimal_comma_and_grouped_thousands():
    note = "1510 händelser 2022; överspridning 37.59 från trendanpassningen"
    assert note_sv(note) == "1\u202f510 händelser 2022; överspridning 37,59 från trendanpassningen"


def test_english_fragments_seen_in_the_demonstration_are_translated():
    note = (
        "7 comparison unit(s) with zero counts in all years dropped (no information): 2021, "
        "2023; target has zero counts in the follow-up: ratio of rate ratios is 0 and the Wald "
        "interval undefined (use an exact conditional method)"
    )
    text = note_sv(note)
    assert text.startswith("7 jämförelsekommuner saknar händelser alla år")
    assert UNKNOWN_NOTE_SV not in text


@pytest.mark.parametrize(
    "method",
    [
        newcombe_difference(0.30, 400, 0.25, 380).method,
        newcombe_difference(0.30, 0, 0.25, 380).method,
        difference_from_published_intervals(0.30, 0.26, 0.34, 0.25, 0.21, 0.29).method,
    ],
)
def test_survey_methods_written_into_notes_are_swedish(method):
    text = note_sv(f"NTU 2022 → 2024. {method}")
    assert UNKNOWN_NOTE_SV not in text
    assert not any(word in text for word in ("derived", "scale", "method", "inverted", "MOVER"))


def test_shipped_source_descriptions_are_swedish():
    row = {
        "source_id": "kolada_rkolada",
        "title": "Kolada KPI metadata",
        "note": "Metadata only; no Knivsta values.",
        "publisher": "Kolada (RKA)",
        "retrieved": "2026-04-16 (repository commit date)",
    }
    assert source_sv(row)["note"].startswith("Bara metadata")


def test_a_table_right_aligns_number_columns_and_left_aligns_text():
    html = table_html(pd.DataFrame({"Mått": ["Rån"], "Antal": ["1\u202f510"]}))
    assert '<td class="text" data-label="Mått">Rån</td>' in html
    assert '<td class="tal" data-label="Antal">1\u202f510</td>' in html


def test_each_cell_names_its_column_for_a_phone():
    # On a phone a row is a card, each value beside its column's name (report CSS).
    html = table_html(pd.DataFrame({"Mått": ["Rån", "Stöld"], "Antal": ["1", "2"]}))
    assert html.count('data-label="Mått"') == 2 and html.count('data-label="Antal"') == 2
    assert "data-label" not in html.split("<tbody>")[0]  # the header row needs none


def test_a_column_name_is_escaped_in_its_label():
    html = table_html(pd.DataFrame({'Före & "efter" <br>': ["x"]}))
    assert 'data-label="Före &amp; &quot;efter&quot; &lt;br&gt;"' in html


def test_the_row_of_an_empty_table_has_no_column_name():
    html = table_html(pd.DataFrame(columns=["Mått", "Antal"]))
    assert "data-label" not in html


def test_a_table_marks_its_running_text_column_for_the_printed_page():
    note, label = (
        "Överspridning skattad gemensamt ur 15 kommuners år. " * 3,
        "Rån mot person, unga " * 5,
    )
    html = table_html(pd.DataFrame({"Mått": [label], "Antal": ["1"], "Anmärkning": [note]}))
    assert html.count('class="text lang"') == 2  # the note's header and cell only
    assert '<th class="text lang">Anmärkning</th>' in html and '<th class="text">Mått</th>' in html


def test_a_table_with_a_note_names_how_many_columns_share_the_line_above_it():
    note = "Överspridning skattad gemensamt ur 15 kommuners år. " * 3
    html = table_html(pd.DataFrame({"Mått": ["Rån"], "Antal": ["1"], "Anmärkning": [note]}))
    assert html.startswith('<table class="tabell med-anmarkning kolumner-2">')


def test_a_cell_may_break_after_a_slash():
    html = table_html(pd.DataFrame({"Skattning": ["kvot (kommunen/jämförelsegruppen): 2,62"]}))
    assert "(kommunen/<wbr>jämförelsegruppen)" in html


def test_an_empty_table_says_it_has_nothing_to_show():
    html = table_html(pd.DataFrame(columns=["Mått", "Antal"]))
    assert '<td class="text" colspan="2">Inga uppgifter att visa.</td>' in html


def test_a_table_of_short_texts_has_no_running_text_column():
    assert "lang" not in table_html(pd.DataFrame({"Mått": ["Rån"], "Källa": ["Brå"]}))


def test_a_shown_table_has_a_caption_and_a_source_line():
    html = show(pd.DataFrame({"a": ["x"]}), caption="Något", source="Brå").data
    assert 'data-typ="Tabell">Tabell.</span> Något' in html
    assert '<p class="kalla">Källa: Brå</p>' in html


def test_results_table_carries_its_caption_and_source(demo):
    table = results_table(demo, "narkotika")
    assert table.attrs["caption"].startswith("Insatser i samverkan mot narkotika")
    assert "Brå" in table.attrs["source"]


def test_results_table_has_no_decimal_point(demo):
    table = results_table(demo, "unga")
    text = " ".join(table.astype(str).to_numpy().ravel())
    assert not __import__("re").search(r"\d\.\d", text)


def test_scorecard_has_one_row_per_primary_outcome(demo):
    html = scorecard_html(demo).data
    assert html.count("<tr>") == 1 + len(demo.config.primary)


def test_scorecard_cells_name_their_columns_for_a_phone(demo):
    html = scorecard_html(demo).data
    head, body = html.split("<tbody>")
    headers = re.findall(r'<th class="[^"]*">(.*?)</th>', head)
    assert len(headers) == 5 and headers[1].startswith("Före (")
    for row in re.findall(r"<tr>(.*?)</tr>", body):
        assert re.findall(r'<td[^>]* data-label="([^"]*)"', row) == headers


def test_scorecard_shows_before_after_change_interval_and_a_symbol(demo):
    html = scorecard_html(demo).data
    assert "→" in html and "%-intervall" in html
    assert '<span class="symbol" aria-hidden="true">○</span> Ingen påvisbar förändring' in html


def test_answer_is_three_to_five_sentences(demo):
    sentences = [s for s in answer_markdown(demo).split(". ") if s.strip()]
    assert 3 <= len(sentences) <= 5


def test_knivsta_summary_says_the_data_are_missing_not_that_nothing_worked(shipped_processed_dir):
    text = summary_markdown(
        run_evaluation("evaluations/knivsta-2024-2025.toml", processed_dir=shipped_processed_dir)
    )
    assert text.startswith("**Underlaget räcker inte för att bedöma något av de 7 primära")
    assert "inget besked om att löftet saknat effekt" in text


def test_demonstration_summary_gives_each_primary_outcome_with_interval_and_q(
    shipped_processed_dir,
):
    text = summary_markdown(
        run_evaluation("evaluations/demo-dalarna.toml", processed_dir=shipped_processed_dir)
    )
    assert text.startswith("Av 7 primära utfall kunde 7 bedömas")
    assert "- **Narkotikabrott**: ingen påvisbar förändring" in text
    assert "95 %-intervall" in text and "q = " in text


def test_summary_says_implementation_cannot_be_judged_without_a_log(tmp_path):
    text = summary_markdown(run_evaluation("evaluations/knivsta-2024-2025.toml"), tmp_path)
    assert text.endswith(
        "Genomförandet kan inte bedömas: det finns ingen aktivitetslogg för Knivsta "
        "(se avsnittet Genomförande)."
    )


def test_the_size_note_follows_the_municipality(shipped_processed_dir):
    from medlofte_analysis.presentation import reading_guide_markdown

    falun = run_evaluation(
        "evaluations/knivsta-2024-2025.toml", "2080", processed_dir=shipped_processed_dir
    )
    assert "För en kommun med omkring 60\u202f000 invånare är den här omkring +" in (
        reading_guide_markdown(falun)
    )


def test_a_pledge_borrowed_from_another_municipality_says_whose_it_is(shipped_processed_dir):
    from medlofte_analysis.presentation import pledge_markdown

    habo = run_evaluation(
        "evaluations/knivsta-2024-2025.toml", "0305", processed_dir=shipped_processed_dir
    )
    assert pledge_markdown(habo, "narkotika") == (
        "Knivstas löfte, vars fokusområde här används för Håbo: "
        "*Insatser i samverkan mot narkotika.*"
    )


def test_trends_without_any_value_are_named_not_drawn(monkeypatch):
    from matplotlib.figure import Figure

    from medlofte_analysis import presentation

    shown: list[object] = []
    monkeypatch.setattr(presentation, "display", lambda obj, **_: shown.append(obj))
    evaluation = run_evaluation("evaluations/knivsta-2024-2025.toml")
    presentation.show_trends(evaluation, "unga")
    figures = [obj for obj in shown if isinstance(obj, Figure)]
    note = html_module.unescape(shown[-1].data)
    names = evaluation.inputs.catalog.set_index("indicator_id")["name_sv"]
    named = [i for i in evaluation.config.focus_areas["unga"] if names[i] in note]
    assert note.startswith('<p class="saknas">Inget diagram för')
    assert len(figures) + len(named) == len(evaluation.config.focus_areas["unga"])


def test_one_dropped_comparison_municipality_takes_the_singular():
    note = "1 comparison unit(s) with zero counts in all years dropped (no information): 2021"
    assert note_sv(note) == (
        "1 jämförelsekommun saknar händelser alla år och ger ingen information; den räknas "
        "inte (2021)"
    )


def test_the_scorecard_shows_the_followup_its_source_covers(shipped_processed_dir):
    # Falun on Knivsta's focus areas: Brå's lägesbild ends in 2024, so the follow-up is 2024.
    from medlofte_analysis.presentation import scorecard_html

    falun = run_evaluation(
        "evaluations/knivsta-2024-2025.toml", "2080", processed_dir=shipped_processed_dir
    )
    html = scorecard_html(falun).data
    row = html[html.index("Skadegörelsebrott") :].split("</tr>")[0]
    assert "invånare (2024)" in row and "saknas" not in row
