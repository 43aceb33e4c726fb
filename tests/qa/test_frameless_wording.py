"""A dataset without districts is told as such, not as a clean or an unknown frame.

``respmap coverage`` on a dataset with no [frame] printed "0 districts, 0 m² in
all; 0 gap(s) ..." (a clean bill of health for a check that was never made),
and ``--district X`` answered "see the districts layer of ..." for a dataset
that has none.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main

FRAMELESS = str(Path(__file__).resolve().parents[1] / "data" / "qa" / "frameless_bng")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--dataset", FRAMELESS, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_coverage_says_the_frame_check_was_not_made(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "coverage", "--date", "2026-03-01")
    assert code == 0
    assert "0 districts" not in out and "0 gap(s)" not in out
    assert "no districts" in out and "not checked" in out


@pytest.mark.parametrize(
    "command",
    [
        ["map", "-o", "{tmp}/m.html", "--district", "D1"],  # interactive map
        ["render", "-o", "{tmp}/m.png", "--district", "D1", "--dpi", "50"],  # static map
    ],
)
def test_district_view_of_a_dataset_without_districts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    code, _, err = _run(capsys, *[part.format(tmp=tmp_path) for part in command])
    assert code == 2
    assert "has no districts" in err and "[frame]" in err
