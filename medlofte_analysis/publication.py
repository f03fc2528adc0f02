"""What a published copy says about itself: dates, version, contact; and every file written
beside the HTML report.

- Date of the data: the years the evaluation covers, the newest year with a value for the
  municipality, and the newest retrieval date among the raw sources (`data/raw/sources.csv`).
- Date of the report: `SOURCE_DATE_EPOCH` when set (the reproducible-builds convention),
  else today's date (UTC). The PDF's creation date is that day at 00:00 UTC, so a rerun on the
  same day with the same inputs gives the same bytes.
- Version: the package version and the git commit the report was made with, when known.
- Contact: the evaluation file's optional `contact` key.

`write_publications` writes, for one evaluation: `<id>.pdf` (the report, A4),
`<id>-medborgare.html` and `<id>-medborgare.pdf` (the citizen page), `<id>-resultat.xlsx` and
`<id>-resultat.csv` (the results for Excel).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from medlofte_analysis.config import RAW_DIR
from medlofte_analysis.evaluate import Evaluation, years_label
from medlofte_analysis.report import data_date_text as report_data_date
from medlofte_analysis.report import report_day as report_date
from medlofte_analysis.report import version_text

NO_CONTACT = "kontaktuppgift saknas i utvärderingsfilen"


@dataclass(frozen=True)
class PublicationInfo:
    """The facts on a published copy's cover."""

    title: str
    municipality: str
    period: str
    data_date: str
    report_date: dt.date
    version: str
    contact: str
    config_path: str
    demonstration: bool

    @property
    def timestamp(self) -> dt.datetime:
        """The PDF's creation date: the report date at 00:00 UTC."""
        return dt.datetime.combine(self.report_date, dt.time(0), tzinfo=dt.UTC)


def data_date_text(evaluation: Evaluation, raw_dir: Path = RAW_DIR) -> str:
    """The same data date as the HTML report's header (`report.data_date_text`)."""
    return report_data_date(evaluation.config, evaluation.inputs.indicators, raw_dir)


def publication_info(
    evaluation: Evaluation,
    date: dt.date | None = None,
    version: str | None = None,
    raw_dir: Path = RAW_DIR,
) -> PublicationInfo:
    """The cover facts of an evaluation (date and version may be fixed, e.g. in tests)."""
    config = evaluation.config
    return PublicationInfo(
        title=config.title,
        municipality=f"{evaluation.municipality_name} (kommunkod {config.municipality})",
        period=(
            f"basår {years_label(config.baseline_years)}, uppföljning "
            f"{years_label(config.followup_years)}"
        ),
        data_date=data_date_text(evaluation, raw_dir),
        report_date=date or report_date(),
        version=version if version is not None else version_text(),
        contact=config.contact or NO_CONTACT,
        config_path=config.path,
        demonstration=config.kind == "demonstration",
    )


def write_publications(
    evaluation: Evaluation,
    notebooks: Sequence[Path],
    reports_dir: Path,
    info: PublicationInfo | None = None,
) -> tuple[Path, ...]:
    """Write the PDF report, the citizen page (HTML, PDF) and the results export."""
    from medlofte_analysis.citizen_page import write_citizen_page
    from medlofte_analysis.report_pdf import write_report_pdf
    from medlofte_analysis.results_export import write_results

    info = info or publication_info(evaluation)
    reports_dir = Path(reports_dir)
    report = write_report_pdf(notebooks, reports_dir / f"{evaluation.config.id}.pdf", info)
    citizen = write_citizen_page(evaluation, reports_dir, info)
    return (report, *citizen, *write_results(evaluation, reports_dir))
