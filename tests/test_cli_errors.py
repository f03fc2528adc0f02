"""Every expected fault ends a command with one Swedish line and an exit status, never a traceback.

Faults of the machine (full disk, no permission) are simulated by making the build raise the
OSError the operating system would raise.
"""

import errno
import subprocess
import sys

import pytest
from fuzz_harness import RawCopy

from medlofte_analysis import build as build_module
from medlofte_analysis.cli import main


def _fail_build_with(monkeypatch, error):
    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(build_module, "build", failing)


def _one_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "x/indicators.csv"), 1, "disken är full"),
        (OSError(errno.EROFS, "Read-only file system", "data/processed"), 1, "ingen behörighet"),
        (
            PermissionError(errno.EACCES, "Permission denied", "data"),
            1,
            r"ingen behörighet.*\(data\)",
        ),
        (KeyboardInterrupt(), 130, "avbrutet"),
        (UnicodeDecodeError("utf-8", b"\xe5", 0, 1, "invalid start byte"), 2, "UTF-8"),
        (MemoryError(), 1, "minnet"),
        (RuntimeError("oväntat"), 70, "internt fel.*MEDLOFTE_DEBUG=1"),
    ],
)
def test_a_fault_is_one_swedish_line_with_its_status(monkeypatch, capsys, error, status, message):
    monkeypatch.delenv("MEDLOFTE_DEBUG", raising=False)
    _fail_build_with(monkeypatch, error)
    assert main(["build", "--processed", "unused"]) == status
    assert __import__("re").search(message, _one_line(capsys))


def test_the_traceback_is_kept_with_medlofte_debug(monkeypatch):
    monkeypatch.setenv("MEDLOFTE_DEBUG", "1")
    _fail_build_with(monkeypatch, RuntimeError("oväntat"))
    with pytest.raises(RuntimeError):
        main(["build", "--processed", "unused"])


def test_non_numeric_years_are_refused_before_any_request(capsys):
    assert main(["fetch", "kolada", "--years", "20x5-2025"]) == 2
    assert "--years" in _one_line(capsys)


def test_a_manifest_not_in_utf8_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MEDLOFTE_DEBUG", raising=False)
    raw = RawCopy(tmp_path).raw
    manifest = raw / "manifest.csv"
    manifest.write_bytes(manifest.read_bytes() + "åäö,x\n".encode("latin-1"))
    assert main(["build", "--raw", str(raw), "--processed", str(tmp_path / "out")]) == 2
    assert "UTF-8" in _one_line(capsys)
    assert not (tmp_path / "out").exists()


def test_a_missing_raw_folder_in_a_real_process_is_one_line(tmp_path):
    command = ["build", "--raw", str(tmp_path / "x"), "--processed", str(tmp_path / "out")]
    done = subprocess.run(
        [sys.executable, "-m", "medlofte_analysis", *command],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr
    assert done.stderr.startswith("medlofte: ") and done.stderr.count("\n") == 1, done.stderr
