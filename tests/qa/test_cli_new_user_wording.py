"""What a new user reads from the command line on datasets unlike the demo.

* A dataset with no frame (no districts) is not "outside every district" at
  every point, and a point on a street is not also 0 m from its "nearest zone".
* A command run on a dataset with errors says so on stderr instead of quietly
  answering from the part that loaded (only ``validate`` and ``serve`` did).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from api.cli import main

QA = Path(__file__).resolve().parents[1] / "data" / "qa"
FRAMELESS = str(QA / "frameless_bng")


def _run(capsys: pytest.CaptureFixture[str], dataset: str, *argv: str) -> tuple[int, str, str]:
    code = main(["--dataset", dataset, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_frameless_dataset_point_on_a_street(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, FRAMELESS, "lookup", "530500", "180005", "--crs", "EPSG:27700")
    assert code == 0
    assert "district" not in out
    assert "nearest" not in out
    assert "Oxford Street" in out and "Westminster City Council" in out


def test_frameless_dataset_point_near_nothing_names_the_nearest(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, FRAMELESS, "lookup", "530500", "180500", "--crs", "EPSG:27700")
    assert code == 0
    assert "district" not in out
    assert "nearest zone: Facilities Public toilet, Soho Square (F01), 390" in out


def test_commands_on_a_dataset_with_errors_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(QA / "frameless_bng", broken)
    (broken / "assignments.csv").write_text(
        "feature_id,unit_id,role\n10000,WCC,lead\nF01,NOBODY,lead\n", encoding="utf-8"
    )
    code, out, err = _run(capsys, str(broken), "lookup", "530500", "180005", "--crs", "EPSG:27700")
    assert code == 0 and "Oxford Street" in out
    assert "warning" in err and "1 error(s)" in err and "NOBODY" in err and "respmap validate" in err
    code, out, err = _run(capsys, str(broken), "lookup", "530500", "180005", "--crs", "EPSG:27700", "--json")
    assert out.startswith("{") and "1 error(s)" in err  # stdout stays one JSON object


def test_clean_dataset_gives_no_warning(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, FRAMELESS, "lookup", "530500", "180005", "--crs", "EPSG:27700")
    assert code == 0 and err == ""
