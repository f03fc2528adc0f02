"""Every workbook is refused at the door if it is unsafe or holds personal data.

All workbooks here are SYNTHETIC test data generated with openpyxl in tmp_path. The identity
numbers are Skatteverket's published test number 19121212-1212 ("Tolvan Tolvansson") and
numbers whose check digit python-stdnum computes, none of them a real person's. The person names
are invented combinations of common Swedish given names and surnames.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.comments import Comment
from stdnum import luhn

from medlofte_analysis import workbooks
from medlofte_analysis.config import PROJECT_ROOT
from medlofte_analysis.errors import InputError, PersonalDataError
from medlofte_analysis.personal_data import find_person_name
from medlofte_analysis.workbooks import WorkbookError, check_folder, check_workbook

TOLVAN = "19121212-1212"  # Skatteverket's test personnummer
COORDINATION = "121272" + "121" + luhn.calc_check_digit("121272121")  # samordningsnummer: 12 + 60


def _book(tmp_path: Path, rows: list[list[object]], name: str = "test.xlsx") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def _refusal(path: Path) -> str:
    with pytest.raises(PersonalDataError) as caught:
        check_workbook(path)
    return str(caught.value)


@pytest.mark.parametrize(
    "written",
    [
        TOLVAN,
        "121212-1212",
        "121212+1212",
        "1212121212",
        "191212121212",
        "19121212\u20131212",  # en dash
        "19121212 1212",
        "121212 - 1212",
        "1912 12 12-1212",
        "gäller 121212-1212, se akten",
        COORDINATION,
        COORDINATION[:6] + "-" + COORDINATION[6:],
    ],
)
def test_identity_numbers_in_every_written_form_are_refused(tmp_path, written):
    message = _refusal(_book(tmp_path, [["kommentar"], [written]]))
    assert "blad Data cell A2" in message
    assert re.search(r"(person|samordnings)nummer \(\d{6,8}[-+\u2013]?\*\*\*\*\)", message)


@pytest.mark.parametrize("number", [191212121212, 1212121212])
def test_identity_numbers_typed_as_numbers_are_refused(tmp_path, number):
    assert "cell A2" in _refusal(_book(tmp_path, [["antal"], [number]]))


def test_the_message_is_one_swedish_sentence_with_the_value_masked(tmp_path):
    path = _book(tmp_path, [["kommentar"], [TOLVAN]])
    assert _refusal(path) == (
        f"Personuppgifter i {path}, blad Data cell A2: ett personnummer (19121212-****); ta bort "
        "uppgiften, filen läses inte in."
    )


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01",
        "12 kontroller 2024",
        "20241301",
        "850101-1234",  # a date, but the Luhn check fails
        "Tabell 3, sida 12",
        "2022–2025",
        "64 hastighetskontroller 2024-2025",
    ],
)
def test_dates_amounts_and_years_are_not_personal_data(tmp_path, text):
    check_workbook(_book(tmp_path, [["kommentar", "antal"], [text, 2024]]))


@pytest.mark.parametrize(
    ("text", "kind", "masked"),
    [
        ("anna.svensson@example.se", "en e-postadress", "a***@example.se"),
        ("ring 070-123 45 67", "ett telefonnummer", "070-*** ** **"),
        ("+46 70 123 45 67", "ett telefonnummer", "+46 7* *** ** **"),
        ("08-123 456 78", "ett telefonnummer", "08-1** *** **"),
    ],
)
def test_email_addresses_and_phone_numbers_are_refused(tmp_path, text, kind, masked):
    assert f"{kind} ({masked})" in _refusal(_book(tmp_path, [["kommentar"], [text]]))


@pytest.mark.parametrize(
    "header", ["Namn", "Handläggare", "Kontaktperson", "E-post", "Förnamn", "deltagarnamn"]
)
def test_name_like_column_headers_are_refused(tmp_path, header):
    message = _refusal(_book(tmp_path, [["kommunkod", header], ["0330", "x"]]))
    assert f"cell B1: en kolumn för personuppgifter ({header})" in message


@pytest.mark.parametrize("header", ["Kommunnamn", "ansvarig", "antal deltagare", "aktivitet"])
def test_ordinary_column_headers_pass(tmp_path, header):
    check_workbook(_book(tmp_path, [["kommunkod", header], ["0330", "x"]]))


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Möte med rektor Anna Lindqvist om trygghetsvandring", "A*** L********"),
        ("Erik Johansson", "E*** J********"),
        ("Kontakt: Maria Andersson", "M**** A********"),
        ("Anna Maria Lindqvist", "A*** M**** L********"),
        ("Anna-Karin Berg-Nilsson ringer", "A***-K**** B***-N******"),
        ("enligt Erik Johanssons anteckningar", "E*** J*********"),
        ("Per Wennerström deltog", "P** W**********"),  # not among the 500: a surname ending
        ("Carl af Ugglas", "C*** a* U*****"),
    ],
)
def test_a_full_name_in_free_text_is_found_and_masked(text, masked):
    assert find_person_name(text).masked == masked


@pytest.mark.parametrize(
    "text", ["Anna", "ring Per om schemat", "Maj", "Anna och Erik", "Hej Maria!"]
)
def test_a_given_name_alone_is_not_a_name(text):
    assert find_person_name(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Knivsta kommun",
        "Trygghetsvandring Alsike och Vassunda",
        "Mora Dalarna",
        "Region Uppsala",
        "Polisen Knivsta",
        "Liv & hälsa ung (Region Uppsala)",
        "NTU (Brå)",
        "Länsstyrelsen Uppsala",
        "Fältgruppen",
        "Rektor",
        "Maj Juni Juli Augusti",
        "Kostnad Per Person",
        "Möte Med Polisen",
        "SSPF-möte",
        "Hastighetskontroll vid skola",
        "Andersson ringde",  # a surname alone
    ],
)
def test_places_organisations_months_and_activities_are_not_names(text):
    assert find_person_name(text) is None


def test_a_name_in_a_note_cell_is_refused_naming_file_sheet_and_cell(tmp_path):
    path = _book(tmp_path, [["kommentar"], ["Möte med rektor Anna Lindqvist om trygghetsvandring"]])
    assert _refusal(path) == (
        f"Personuppgifter i {path}, blad Data cell A2: ett personnamn (A*** L********); ta bort "
        "uppgiften, filen läses inte in."
    )


def _noted(tmp_path, text, author):
    """A workbook with a note on A1 (Excel's legacy comment)."""
    workbook = openpyxl.Workbook()
    workbook.active.append(["kommentar"])
    workbook.active["A1"].comment = Comment(text, author)
    path = tmp_path / "note.xlsx"
    workbook.save(path)
    return path


def test_a_name_in_a_comment_is_refused(tmp_path):
    path = _noted(tmp_path, "Fråga Erik Johansson", "test")
    assert "blad Sheet kommentaren i cell A1: ett personnamn (E*** J********)" in _refusal(path)


def test_the_author_and_last_editor_excel_writes_are_not_refused(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.properties.creator = "Anna Lindqvist"
    workbook.properties.lastModifiedBy = "Erik Johansson"
    path = tmp_path / "authors.xlsx"
    workbook.save(path)
    check_workbook(path)


def test_the_author_line_excel_writes_at_the_top_of_a_note_is_not_refused(tmp_path):
    check_workbook(_noted(tmp_path, "Anna Lindqvist:\nkontrollerad", "Anna Lindqvist"))


def test_a_name_in_a_property_the_user_fills_in_is_refused(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.properties.title = "Logg från Maria Andersson"
    path = tmp_path / "title.xlsx"
    workbook.save(path)
    assert "dokumentegenskapen title: ett personnamn (M**** A********)" in _refusal(path)


@pytest.mark.parametrize("name", ["enkatresultat_mall.xlsx", "aktivitetslogg_mall.xlsx"])
def test_the_shipped_templates_pass_the_check(name):
    check_workbook(PROJECT_ROOT / "templates" / name)


def _with_extra_sheet(tmp_path: Path, title: str, rows: list[list[object]], state: str) -> Path:
    workbook = openpyxl.Workbook()
    workbook.active.append(["kommentar"])
    extra = workbook.create_sheet(title)
    for row in rows:
        extra.append(row)
    extra.sheet_state = state
    path = tmp_path / "extra.xlsx"
    workbook.save(path)
    return path


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_sheet_is_scanned(tmp_path, state):
    path = _with_extra_sheet(tmp_path, "Gömd", [["anteckning"], ["x", TOLVAN]], state)
    assert "blad Gömd cell B2" in _refusal(path)


def test_a_name_column_on_an_extra_sheet_is_refused(tmp_path):
    path = _with_extra_sheet(tmp_path, "Kontakter", [["Kontaktperson", "Roll"]], "visible")
    assert "blad Kontakter cell A1" in _refusal(path)


def test_a_cell_comment_is_scanned(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["kommentar"])
    workbook.active["A1"].comment = Comment(f"gäller {TOLVAN}", "test")
    path = tmp_path / "comment.xlsx"
    workbook.save(path)
    assert "blad Sheet kommentaren i cell A1: ett personnummer" in _refusal(path)


@pytest.mark.parametrize("field", ["title", "subject", "description", "keywords"])
def test_document_properties_are_scanned(tmp_path, field):
    workbook = openpyxl.Workbook()
    setattr(workbook.properties, field, f"Ärende {TOLVAN}")
    path = tmp_path / "props.xlsx"
    workbook.save(path)
    assert "dokumentegenskapen" in _refusal(path)


def test_formula_text_is_scanned(tmp_path):
    message = _refusal(_book(tmp_path, [["kommentar"], [f'=CONCAT("{TOLVAN}")']]))
    assert "cell A2 (formel)" in message


def test_a_formula_result_cached_by_excel_is_scanned(tmp_path):
    # openpyxl writes formulas without results; add the cached value Excel would store.
    path = _book(tmp_path, [["kommentar"], ['="19121212"&"-"&"1212"']])
    source = zipfile.ZipFile(path)
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode().replace('<c r="A2">', '<c r="A2" t="str">')
                data = text.replace("<v />", f"<v>{TOLVAN}</v>").encode()
            archive.writestr(info, data)
    path.write_bytes(output.getvalue())
    assert "blad Data cell A2: ett personnummer" in _refusal(path)


def test_a_zip_bomb_is_refused_before_decompression(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (4 * 2**20))
    with pytest.raises(WorkbookError, match="zipbomb"):
        check_workbook(path)


def test_a_workbook_expanding_beyond_the_total_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(workbooks, "MAX_UNCOMPRESSED_BYTES", 1000)
    with pytest.raises(WorkbookError, match="packas upp till"):
        check_workbook(_book(tmp_path, [["a"]]))


def test_a_file_above_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(workbooks, "MAX_FILE_BYTES", 100)
    with pytest.raises(WorkbookError, match="högst"):
        check_workbook(_book(tmp_path, [["a"]]))


def test_too_many_rows_are_refused(tmp_path):
    path = _book(tmp_path, [[str(number)] for number in range(30)])
    with pytest.raises(WorkbookError, match="fler än 20 rader"):
        check_workbook(path, max_rows=20)


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("kommunkod;år\n", encoding="utf-8")
    with pytest.raises(WorkbookError, match="ingen Excelarbetsbok"):
        check_workbook(path)


def test_refusals_are_input_errors_so_the_cli_prints_one_line(tmp_path):
    assert issubclass(PersonalDataError, InputError) and issubclass(WorkbookError, InputError)


def test_check_folder_finds_a_workbook_in_a_subfolder(tmp_path):
    (tmp_path / "enkater").mkdir()
    _book(tmp_path / "enkater", [["kommentar"], [TOLVAN]])
    with pytest.raises(PersonalDataError, match="enkater"):
        check_folder(tmp_path)


def test_check_folder_accepts_a_missing_folder(tmp_path):
    check_folder(tmp_path / "saknas")


def _filled_survey_template(tmp_path: Path) -> Path:
    from medlofte_analysis.templates_excel import survey_template

    path = tmp_path / "enkater.xlsx"
    path.write_bytes(survey_template())
    workbook = openpyxl.load_workbook(path)
    workbook["Resultat"]["K2"] = f"kontakt {TOLVAN}"
    workbook.save(path)
    return path


def test_fetch_enkat_refuses_before_anything_is_copied(tmp_path, capsys):
    from medlofte_analysis.cli import main

    raw = tmp_path / "raw"
    raw.mkdir()
    status = main(
        ["fetch", "enkat", "--file", str(_filled_survey_template(tmp_path))]
        + [
            "--raw",
            str(raw),
            "--origin",
            "test",
        ]
    )
    error = capsys.readouterr().err.strip()
    assert status == 2 and list(raw.iterdir()) == []
    assert error.count("\n") == 0 and "blad Resultat cell K2: ett personnummer" in error


def test_the_report_checks_every_workbook_before_a_kernel_starts(tmp_path):
    from medlofte_analysis.report import check_workbooks_before_report

    manual = tmp_path / "manual"
    manual.mkdir()
    _book(manual, [["kommentar"], [TOLVAN]], name="aktivitetslogg.xlsx")
    with pytest.raises(PersonalDataError, match="aktivitetslogg.xlsx, blad Data cell A2"):
        check_workbooks_before_report(raw_dir=tmp_path / "raw", manual_dir=manual)
