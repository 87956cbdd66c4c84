"""scripts/setup, which both README commands run first, in a stand-in repository: no packages
are installed, `dpkg-query` and the virtual environment's python are fakes that only say what
they were asked."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def stand_in(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """(repository, log of the fake python's calls, environment) with every system package there."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup", repo / "scripts" / "setup")
    (repo / "pyproject.toml").write_text("[project]\nname = 'stand-in'\n")
    log = tmp_path / "python.log"
    python = repo / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\n')
    python.chmod(0o755)
    tools = tmp_path / "bin"
    tools.mkdir()
    dpkg_query = tools / "dpkg-query"
    dpkg_query.write_text("#!/bin/sh\necho 'install ok installed'\n")
    dpkg_query.chmod(0o755)
    return repo, log, {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}"}


def setup(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/setup", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=60
    )


def test_setup_for_a_session_installs_the_package_once(stand_in: tuple[Path, Path, dict[str, str]]) -> None:
    repo, log, env = stand_in
    done = setup(repo, env)
    assert done.returncode == 0, done.stderr
    assert "-m pip install -q -e ." in log.read_text().splitlines()
    assert (repo / ".venv" / ".installed").exists()
    calls = log.read_text()
    assert setup(repo, env).returncode == 0
    assert log.read_text() == calls  # nothing changed: nothing installed again


def test_setup_for_the_tests_adds_the_dev_extras(stand_in: tuple[Path, Path, dict[str, str]]) -> None:
    repo, log, env = stand_in
    done = setup(repo, env, "dev")
    assert done.returncode == 0, done.stderr
    assert "-m pip install -q -e .[dev]" in log.read_text().splitlines()
    assert (repo / ".venv" / ".installed-dev").exists()
