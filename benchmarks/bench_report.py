"""Where the time goes in the main command, processed data -> finished HTML report.

For each shipped evaluation: configuration check, kernel start-up, execution per notebook,
HTML export. The notebooks are copied to a temporary folder first, so the committed notebooks
and `reports/` are left untouched. Target: under 60 s per evaluation.

    python benchmarks/bench_report.py
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from medlofte_analysis.config import NOTEBOOKS_DIR, PROJECT_ROOT
from medlofte_analysis.report import REPORT_ORDER, ReportResult, run_report

CONFIGS: tuple[str, ...] = ("evaluations/knivsta-2024-2025.toml", "evaluations/demo-dalarna.toml")
TARGET_SECONDS: float = 60.0


def copy_notebooks(folder: Path) -> Path:
    """Copy the report's notebooks to `folder/notebooks` (run_report executes them there)."""
    target = folder / "notebooks"
    target.mkdir()
    for name in REPORT_ORDER:
        shutil.copy2(NOTEBOOKS_DIR / name, target / name)
    return target


def print_result(config: str, result: ReportResult) -> None:
    """One block of figures per evaluation."""
    timings = result.notebook_timings
    startup = sum(timing.kernel_startup for timing in timings)
    shutdown = sum(timing.shutdown_and_save for timing in timings)
    print(f"\n{config}")
    print(f"  {'config check':<40} {result.check_seconds:6.2f} s")
    print(f"  {'kernel start-up (all notebooks)':<40} {startup:6.2f} s")
    for timing in timings:
        print(
            f"  {'execute ' + timing.name:<40} {timing.execution:6.2f} s"
            f"   (kernel start-up {timing.kernel_startup:.2f} s)"
        )
    print(f"  {'kernel stop + save (all notebooks)':<40} {shutdown:6.2f} s")
    print(f"  {'export HTML':<40} {result.export_seconds:6.2f} s")
    print(f"  {'PDF, citizen page, results export':<40} {result.publish_seconds:6.2f} s")
    verdict = "OK" if result.total_seconds < TARGET_SECONDS else "OVER TARGET"
    print(f"  {'total':<40} {result.total_seconds:6.2f} s   {verdict} (< {TARGET_SECONDS:.0f} s)")


def main() -> int:
    """Benchmark every shipped evaluation that exists."""
    missing = [name for name in REPORT_ORDER if not (NOTEBOOKS_DIR / name).exists()]
    if missing:
        print(f"skipped: notebooks missing in notebooks/: {', '.join(missing)}")
        return 0
    for config in CONFIGS:
        if not (PROJECT_ROOT / config).exists():
            print(f"\n{config}\n  skipped: the configuration does not exist yet")
            continue
        with tempfile.TemporaryDirectory() as folder:
            notebooks = copy_notebooks(Path(folder))
            result = run_report(config, reports_dir=Path(folder), notebooks_dir=notebooks)
        print_result(config, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
