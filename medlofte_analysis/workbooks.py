"""Open an Excel workbook safely: bounded resources first, then no personal data, then openpyxl.

Every workbook the project reads (survey results, the activity log, Brå's lägesbild workbooks,
any other) goes through `open_workbook`, which:

1. refuses a file larger than `MAX_FILE_BYTES`, a file that is not a zip archive, and a zip bomb:
   the members' *declared* uncompressed sizes are read from the zip directory before anything is
   decompressed (total at most `MAX_UNCOMPRESSED_BYTES`; a member above 1 MiB may not expand more
   than `MAX_RATIO` times);
2. scans every place where personal data can hide (`check_workbook`): every cell of every sheet
   incl. hidden ones, both the cached values of formulas and the formula text, cell comments and
   the document properties (core, app and custom), streaming in read-only mode with a row limit;
3. only then opens it with openpyxl.

A refusal is a `PersonalDataError` or an `InputError` with one Swedish sentence naming the file,
the sheet and the cell, the value masked. A person's full name written in a cell, a comment or a
property the user fills in is refused like the rest (`personal_data.find_person_name`: a common
Swedish given name followed by a surname; a given name alone is not). Not checked for names, on
purpose: the names Excel itself writes, i.e. the author and last editor in the document
properties (`NAME_EXEMPT_PROPERTIES`) and the "Author Name:" line Excel puts at the top of a note
(a legacy comment) by the note's author; identity numbers, e-mail and phone numbers are still
refused there too.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

import openpyxl
from defusedxml import ElementTree

from medlofte_analysis.errors import InputError, PersonalDataError
from medlofte_analysis.personal_data import (
    Finding,
    find_number_cell,
    find_person_name,
    find_personal_data,
    is_personal_header,
)

MAX_FILE_BYTES: int = 25 * 2**20
MAX_UNCOMPRESSED_BYTES: int = 256 * 2**20
MAX_RATIO: int = 200
MAX_ROWS: int = 200_000
PROPERTY_PARTS: tuple[str, ...] = ("docProps/core.xml", "docProps/app.xml", "docProps/custom.xml")
# Properties Excel fills in itself with the user's (or the licence holder's) name.
NAME_EXEMPT_PROPERTIES: frozenset[str] = frozenset({"creator", "lastModifiedBy", "Company"})
RELATIONSHIP_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


class WorkbookError(InputError):
    """A workbook refused before it is read: not a workbook, too large, or a zip bomb."""

    def __init__(self, path: str | Path, message: str) -> None:
        super().__init__(path, None, message)
        self.args = (f"{path}: {message}",)

    def __str__(self) -> str:
        return str(self.args[0])


def check_bounds(path: Path) -> None:
    """Refuse a file that is too large, not a zip archive, or expands too much (zip bomb)."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise WorkbookError(path, "filen finns inte eller kan inte läsas.") from error
    if size > MAX_FILE_BYTES:
        raise WorkbookError(
            path,
            f"filen är {size // 2**20} MiB; en arbetsbok får vara högst "
            f"{MAX_FILE_BYTES // 2**20} MiB.",
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise WorkbookError(path, "filen är ingen Excelarbetsbok (.xlsx).") from error
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 2**20 and ratio > MAX_RATIO:
            raise WorkbookError(
                path,
                f"delen {member.filename} packas upp {ratio:.0f} gånger större än den "
                f"lagrade storleken (högst {MAX_RATIO}); filen liknar en zipbomb och läses inte.",
            )
    if total > MAX_UNCOMPRESSED_BYTES:
        raise WorkbookError(
            path,
            f"innehållet packas upp till {total // 2**20} MiB (högst "
            f"{MAX_UNCOMPRESSED_BYTES // 2**20} MiB); filen läses inte.",
        )


def _refuse(path: Path, where: str, finding: Finding) -> PersonalDataError:
    return PersonalDataError(path, where, finding.kind, finding.masked)


def _cell_finding(value: object, header_row: bool) -> Finding | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return find_number_cell(value)
    if not isinstance(value, str):
        return None  # dates and times are not identity numbers
    if header_row and is_personal_header(value):
        return Finding("en kolumn för personuppgifter", value.strip())
    return find_personal_data(value)


def _scan_cells(path: Path, data_only: bool, max_rows: int) -> None:
    """Stream every sheet (hidden ones too) in read-only mode; cached values or formula text."""
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as error:  # openpyxl raises several types for a broken workbook
        raise WorkbookError(path, "filen är ingen läsbar Excelarbetsbok (.xlsx).") from error
    try:
        for sheet in workbook.worksheets:
            header_seen = False
            for count, row in enumerate(sheet.iter_rows(), start=1):
                if count > max_rows:
                    raise WorkbookError(
                        path,
                        f"bladet {sheet.title} har fler än {max_rows} rader; filen läses inte.",
                    )
                header_row = not header_seen and any(
                    getattr(cell, "value", None) is not None for cell in row
                )
                for cell in row:
                    value = getattr(cell, "value", None)
                    if not data_only and not (isinstance(value, str) and value.startswith("=")):
                        continue  # the second pass looks at formula text only
                    finding = _cell_finding(value, header_row)
                    if finding is not None:
                        where = f"blad {sheet.title} cell {cell.coordinate}"
                        if not data_only:
                            where += " (formel)"
                        raise _refuse(path, where, finding)
                header_seen = header_seen or header_row
    finally:
        workbook.close()


def _xml(archive: zipfile.ZipFile, name: str):  # noqa: ANN202 (an ElementTree element)
    return ElementTree.fromstring(archive.read(name))


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Id → target part (resolved to a zip member name) of a part's relationships."""
    folder = PurePosixPath(part).parent
    rels = folder / "_rels" / (PurePosixPath(part).name + ".rels")
    if str(rels) not in archive.namelist():
        return {}
    targets: dict[str, str] = {}
    for rel in _xml(archive, str(rels)):
        target = rel.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else str(folder / target)
        parts: list[str] = []
        for piece in resolved.split("/"):
            if piece == "..":
                parts = parts[:-1]
            elif piece not in ("", "."):
                parts.append(piece)
        targets[rel.get("Id", "")] = "/".join(parts) + "|" + rel.get("Type", "")
    return targets


def _comment_parts(archive: zipfile.ZipFile) -> Iterator[tuple[str, str]]:
    """(sheet title, comments part) for every sheet with legacy or threaded comments."""
    if "xl/workbook.xml" not in archive.namelist():
        return
    sheets = _relationships(archive, "xl/workbook.xml")
    for sheet in _xml(archive, "xl/workbook.xml").iter():
        if not sheet.tag.endswith("}sheet"):
            continue
        target = sheets.get(sheet.get(f"{RELATIONSHIP_NS}id", ""), "|").split("|")[0]
        for rel in _relationships(archive, target).values():
            member, kind = rel.split("|")
            if kind.lower().endswith(("/comments", "/threadedcomment")):
                if member in archive.namelist():
                    yield sheet.get("name", "?"), member


def _texts(element) -> Iterable[str]:  # noqa: ANN001 (an ElementTree element)
    return (text for text in element.itertext() if text and text.strip())


def _comment_finding(text: str, author: str) -> Finding | None:
    """Personal data in a comment; a leading "Author:" line that Excel wrote is not a name."""
    body = text.lstrip()
    if author and body.startswith(author + ":"):
        body = body[len(author) + 1 :]
    return find_personal_data(text, names=False) or find_person_name(body)


def _scan_parts(path: Path) -> None:
    """Cell comments (legacy and threaded) and the document properties."""
    with zipfile.ZipFile(path) as archive:
        for sheet_title, member in _comment_parts(archive):
            root = _xml(archive, member)
            authors = [
                author.text or "" for author in root.iter() if author.tag.endswith("}author")
            ]
            for comment in root.iter():
                if not comment.tag.endswith(("}comment", "}threadedComment")):
                    continue
                author_id = comment.get("authorId", "")
                known = author_id.isdigit() and int(author_id) < len(authors)
                author = authors[int(author_id)] if known else ""
                finding = _comment_finding(" ".join(_texts(comment)), author)
                if finding is not None:
                    where = f"blad {sheet_title} kommentaren i cell {comment.get('ref', '?')}"
                    raise _refuse(path, where, finding)
        for member in PROPERTY_PARTS:
            if member not in archive.namelist():
                continue
            for element in _xml(archive, member).iter():
                name = element.tag.split("}")[-1]
                for text in _texts(element) if len(element) == 0 else ():
                    finding = find_personal_data(text, names=name not in NAME_EXEMPT_PROPERTIES)
                    if finding is not None:
                        raise _refuse(path, f"dokumentegenskapen {name}", finding)


def check_workbook(path: str | Path, max_rows: int = MAX_ROWS) -> None:
    """Refuse (WorkbookError, PersonalDataError) a workbook that is unsafe or holds personal data.

    Cheap checks first: the zip directory's declared sizes, then the XML parts of comments and
    properties, then the cells streamed twice (cached values, then formula text).
    """
    path = Path(path)
    check_bounds(path)
    try:
        _scan_parts(path)
    except ElementTree.ParseError as error:
        raise WorkbookError(path, "filen är ingen läsbar Excelarbetsbok (.xlsx).") from error
    except (ValueError, KeyError, zipfile.BadZipFile) as error:
        if isinstance(error, InputError):
            raise
        raise WorkbookError(path, "filen är ingen läsbar Excelarbetsbok (.xlsx).") from error
    _scan_cells(path, data_only=True, max_rows=max_rows)
    _scan_cells(path, data_only=False, max_rows=max_rows)


def open_workbook(
    path: str | Path, *, read_only: bool = True, max_rows: int = MAX_ROWS
) -> openpyxl.Workbook:
    """Check the workbook (`check_workbook`), then open it with cached values (data_only)."""
    path = Path(path)
    check_workbook(path, max_rows=max_rows)
    try:
        return openpyxl.load_workbook(path, read_only=read_only, data_only=True)
    except Exception as error:  # openpyxl raises several types for a broken workbook
        raise WorkbookError(path, "filen är ingen läsbar Excelarbetsbok (.xlsx).") from error


def check_folder(folder: Path) -> None:
    """Check every .xlsx under `folder` (none if it does not exist), in a stable order."""
    if not Path(folder).is_dir():
        return
    for path in sorted(Path(folder).rglob("*.xlsx")):
        if not any(part.startswith(".") for part in path.relative_to(folder).parts):
            check_workbook(path)
