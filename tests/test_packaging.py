"""The assistant installs like any Python app: `python -m build` makes an sdist and a wheel, and the
wheel, installed into a fresh virtual environment outside the checkout, runs a session and speaks.

The fresh environment borrows this environment's dependencies through a `.pth` file (so the test
needs no network), but the `assistant` it imports is the wheel's own copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import wave
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 600.0
"""Seconds any one step may take on a busy machine."""

pytestmark = pytest.mark.slow


def _checkout_files() -> list[str]:
    """The checkout's files as git sees them: tracked, or new and not ignored."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the files to package cannot be listed")
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    return [name for name in listing.split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel), built by `python -m build` from a copy of the checkout (the checkout is left alone)."""
    pytest.importorskip("build", reason="`build` is in the dev extra: scripts/setup dev")
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    for name in _checkout_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    out = work / "dist"
    # No isolation: setuptools comes from this environment (the dev extra), so nothing is downloaded.
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def fresh(dists: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with only the wheel installed; returns its folder."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=TIMEOUT)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(dists[1])],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # The dependencies: this environment's site-packages, after the fresh one's on sys.path. Its own
    # .pth files (the editable install's finder among them) are not read from a folder added this way.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=TIMEOUT,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "dev-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return venv


def _run(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command of the fresh environment, run outside the checkout, with nothing of ours on the path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(cwd), XDG_DATA_HOME=str(cwd / "data"), XDG_CACHE_HOME=str(cwd / "cache"))
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def test_the_wheel_and_the_sdist_hold_every_file_the_package_reads(dists: tuple[Path, Path]) -> None:
    sdist, wheel = dists
    package_files = [name for name in _checkout_files() if name.startswith("assistant/")]
    data = [name for name in package_files if not name.endswith(".py")]
    assert any(name.endswith(".wav") for name in data) and any(name.endswith(".yaml") for name in data)

    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    assert sorted(set(package_files) - in_wheel) == []  # a file missing here is missing after `pip install .`
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert sorted(set(package_files) - in_sdist) == []


def test_the_installed_assistant_is_the_wheels_and_runs_a_session(fresh: Path, tmp_path: Path) -> None:
    where = _run(fresh, tmp_path, "python", "-c", "import assistant; print(assistant.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(fresh)

    version = _run(fresh, tmp_path, "assistant", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("assistant ") and version.stdout.split()[1][0].isdigit()

    session = _run(fresh, tmp_path, "assistant", "run", "--text", "--auto", "--fast", "1000", "--data-dir", "progress")
    assert session.returncode == 0, session.stderr
    assert "Step 5: Rebuild intimate moments" in session.stdout
    assert (tmp_path / "progress" / "journal.sqlite3").is_file()


def _sound(path: Path) -> tuple[float, int]:
    """Seconds of a 16-bit WAV and its loudest sample."""
    with wave.open(str(path), "rb") as wav:
        seconds = wav.getnframes() / wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return seconds, int(np.abs(samples.astype(np.int32)).max(initial=0))


def test_the_installed_assistant_speaks_into_a_recording(fresh: Path, tmp_path: Path) -> None:
    said = _run(fresh, tmp_path, "assistant", "say", "--record-to", "line.wav", "Welcome. Take your time.")
    assert said.returncode == 0, said.stdout + said.stderr

    seconds, loudest = _sound(tmp_path / "line.wav")
    assert 0.5 < seconds < 30, said.stdout
    assert loudest > 3000  # speech, not a header over silence


def test_the_installed_assistant_records_a_whole_rehearsal(fresh: Path, tmp_path: Path) -> None:
    # As issue 28 found it: with the chimes left in the clone, this wrote a 44-byte WAV and said nothing.
    session = _run(
        fresh, tmp_path, "assistant", "run", "--auto", "--fast", "1000", "--record-to", "s.wav", "--data-dir", "p"
    )
    assert session.returncode == 0, session.stderr
    assert "Nothing is recorded" not in session.stdout

    seconds, loudest = _sound(tmp_path / "s.wav")
    assert seconds > 60 and loudest > 3000  # minutes of speech, chimes and the pauses between them
