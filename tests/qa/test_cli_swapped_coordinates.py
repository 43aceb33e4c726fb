"""``respmap lookup LAT LON`` (latitude first, as map apps copy it) says the numbers look swapped.

Google and Baidu maps copy "32.69, 109.03", latitude first; respmap takes
longitude first and answered only "latitude 109.03 is out of range (-90 to
90)", leaving the user to guess why.
"""

from __future__ import annotations

import pytest

from api.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["32.69", "109.03"],  # two arguments
        ["32.69, 109.03"],  # one, as copied
    ],
)
def test_swapped_coordinates_get_a_hint(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code = main(["lookup", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert "out of range" in err and "swapped" in err and "109.03 32.69" in err


def test_plainly_wrong_latitude_gets_no_swap_hint(capsys: pytest.CaptureFixture[str]) -> None:
    # 100 and 200: swapping would not help either
    code = main(["lookup", "100", "200"])
    err = capsys.readouterr().err
    assert code == 2 and "out of range" in err and "swapped" not in err
