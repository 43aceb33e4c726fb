"""``pip install .`` (not editable) into a fresh venv, outside the checkout, still runs on the demo.

respmap looked for its demo dataset and its map assets next to the source tree,
so an installed copy found neither. The wheel now carries the demo
(``layers/ankang``), respmap's own scripts and the pinned Leaflet files. Here a
wheel is built from a copy of the sources (the checkout is not written to),
installed with ``--no-deps`` into a new venv that borrows this venv's
dependencies through a ``.pth`` path (no downloads, and not this venv's
editable respmap), and ``validate``, ``map`` and ``render`` run from an empty folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "geo", "api", "maps", "cases", "layers")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info", "data")
TIMEOUT_S = 900


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a fresh venv with respmap installed from a wheel."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    source.mkdir()
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=IGNORED, symlinks=True)
        else:
            shutil.copy2(path, source / name)
    wheels = root / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(wheels), "-q"], cwd=root)
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=root)
    python = venv / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root))
    # This venv's third-party packages, appended after the new venv's own (respmap's wheel wins).
    (purelib / "respmap-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    wheel = next(wheels.glob("respmap-*.whl"))
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], cwd=root)
    return venv / "bin"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RESPMAP_DATASET", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, (
        f"{command[:4]} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout.strip()


def test_the_installed_copy_is_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    where = _run([str(installed / "python"), "-c", "import geo, maps; print(geo.__file__, maps.__file__)"], tmp_path)
    assert str(REPO) not in where and "site-packages" in where


def test_installed_respmap_validates_the_bundled_demo(installed: Path, tmp_path: Path) -> None:
    out = _run([str(installed / "respmap"), "validate"], tmp_path)
    assert "安康市中心城区" in out and "OK" in out
    assert str(REPO) not in out  # the demo the wheel carries, not the checkout's


def test_installed_respmap_draws_maps_offline(installed: Path, tmp_path: Path) -> None:
    _run([str(installed / "respmap"), "map", "-o", "city.html"], tmp_path)
    page = (tmp_path / "city.html").read_text(encoding="utf-8")
    assert "Leaflet" in page and "respmap.init" in page and "https://unpkg" not in page  # inlined, no CDN
    _run([str(installed / "respmap"), "render", "-o", "city.png", "--dpi", "60"], tmp_path)
    assert (tmp_path / "city.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
