"""`medlofte fetch` on the command line: derived from the evaluation, offline-safe, no defaults."""

from __future__ import annotations

import shutil
import time

from replay import closed_port, files_in

from medlofte_analysis.cli import main
from medlofte_analysis.config import RAW_DIR

KNIVSTA = "evaluations/knivsta-2024-2025.toml"


def test_offline_fetch_fails_within_seconds_says_so_and_changes_no_file(
    monkeypatch, tmp_path, capsys
):
    raw = tmp_path / "raw"
    shutil.copytree(RAW_DIR, raw)
    port = closed_port()
    monkeypatch.setenv("MEDLOFTE_KOLADA_URL", f"http://127.0.0.1:{port}/v3")
    monkeypatch.setenv("MEDLOFTE_SCB_URL", f"http://127.0.0.1:{port}/api/v2")
    before = files_in(raw)
    start = time.monotonic()
    assert main(["fetch", "--config", KNIVSTA, "--raw", str(raw)]) == 2
    assert time.monotonic() - start < 10
    assert "ingen anslutning" in capsys.readouterr().err
    assert files_in(raw) == before


def test_dry_run_lists_the_requests_and_sends_none(monkeypatch, capsys):
    monkeypatch.setenv("MEDLOFTE_KOLADA_URL", f"http://127.0.0.1:{closed_port()}/v3")
    assert main(["fetch", "--config", KNIVSTA, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "jämförelsegrupp 0115, 0117, 0140, 1230, 1263, 1401, 1441; län 0003" in out
    assert "/municipality/0330,0115,0117,0140,1230,1263,1401,1441,0003/year/2015," in out
    assert (
        '"valueCodes": ["0330", "0115", "0117", "0140", "1230", "1263", "1401", "1441", "03"]'
        in out
    )


def test_another_municipality_gets_its_own_group_and_county(capsys):
    assert main(["fetch", "--config", KNIVSTA, "--municipality", "0305", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Håbo (0305)") and "0330" not in out.split("\n")[0].split(";")[0]
    assert "/municipality/0305," in out


def test_kolada_without_municipality_does_not_default_to_knivsta(capsys):
    assert main(["fetch", "kolada", "--kpis", "N07540", "--years", "2024"]) == 2
    assert "--municipality" in capsys.readouterr().err


def test_unknown_municipality_is_refused_before_any_request(capsys):
    assert main(["fetch", "--config", KNIVSTA, "--municipality", "9999", "--dry-run"]) == 2
    assert "9999" in capsys.readouterr().err


def test_the_reports_gap_table_gives_a_fetch_command_that_runs(capsys):
    from medlofte_analysis.evaluate import run_evaluation

    evaluation = run_evaluation(KNIVSTA, "0305")
    hints = evaluation.gaps.set_index("indicator_id")["where_to_get"]
    command = f"medlofte fetch --config {KNIVSTA} --municipality 0305"
    assert f"`{command}`" in hints["kolada_n07544"]
    assert "templates/enkatresultat_mall.xlsx" in hints["lhu_narkotika_ak9"]
    assert main([*command.split()[1:], "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("Håbo (0305)")


def test_codes_unknown_to_kolada_are_refused_before_any_request(monkeypatch, capsys):
    monkeypatch.setenv("MEDLOFTE_KOLADA_URL", f"http://127.0.0.1:{closed_port()}/v3")
    args = ["fetch", "kolada", "--kpis", "N07540", "--years", "2024", "--municipality", "9999"]
    assert main(args) == 2
    assert "'9999'" in capsys.readouterr().err
