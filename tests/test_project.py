"""Project set-up: environment.yml installs what pyproject.toml does; the CLI answers --help."""

import re
import subprocess
import sys
import tomllib

from medlofte_analysis.config import PROJECT_ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_and_pyproject_list_the_same_dependencies():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = {_name(r) for r in project["project"]["dependencies"]}
    wanted |= {_name(r) for r in project["project"]["optional-dependencies"]["dev"]}
    text = (PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8")
    lines = text.split("dependencies:", 1)[1].splitlines()
    listed = {
        _name(line.strip()[2:])
        for line in lines
        if re.match(r"^  - [a-z]|^      - [a-z]", line)  # conda packages, then pip-only ones
        and _name(line.strip()[2:]).rstrip(":") not in {"pip", "python"}
    }
    assert listed == wanted


def test_cli_help_lists_the_commands():
    out = subprocess.run(
        [sys.executable, "-m", "medlofte_analysis", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for command in ("build", "validate"):
        assert command in out


def test_cli_validate_passes_on_the_committed_data():
    done = subprocess.run(
        [sys.executable, "-m", "medlofte_analysis", "validate"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK:")
