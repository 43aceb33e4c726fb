"""``respmap assign`` reads the CSV a European Excel writes: semicolons and decimal commas.

Excel in a German, French or Swiss locale saves "CSV" with ``;`` between fields
and ``,`` as the decimal mark; a tab-separated export is common too. assign read
every such file as one column and answered "no longitude column found ... the
columns are: id;lon;lat. Name it with --lon-col", sending the user after the
wrong problem. The separator is now recognised from the header, kept in the
output, and in a ``;`` file a decimal comma in the coordinates is read as one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main

WARDS = str(Path(__file__).resolve().parents[1] / "data" / "qa" / "wards_lv95")


def _assign(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> list[str]:
    source = tmp_path / "tickets.csv"
    source.write_text(text, encoding="utf-8")
    target = tmp_path / "out.csv"
    code = main(["--dataset", WARDS, "assign", str(source), "-o", str(target), "--crs", "EPSG:2056"])
    assert code == 0, capsys.readouterr().err
    return target.read_text(encoding="utf-8-sig").splitlines()


def test_semicolons_and_decimal_commas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = _assign(tmp_path, capsys, "Ticket;X;Y;Notiz\nT1;2683100,5;1247100,25;a, b\nT2;2683700;1247100;\n")
    header = lines[0].split(";")
    assert header[:4] == ["Ticket", "X", "Y", "Notiz"] and "feature_id" in header
    rows = [dict(zip(header, line.split(";"), strict=True)) for line in lines[1:]]
    assert [r["feature_id"] for r in rows] == ["1", "3"]
    assert rows[0]["X"] == "2683100,5" and rows[0]["Notiz"] == "a, b"  # the input's cells as they were


def test_tabs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = _assign(tmp_path, capsys, "Ticket\tx\ty\nT1\t2683100\t1247100\n")
    header = lines[0].split("\t")
    assert dict(zip(header, lines[1].split("\t"), strict=True))["feature_id"] == "1"


def test_commas_stay_the_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a comma file whose notes hold semicolons is still read with commas
    lines = _assign(tmp_path, capsys, 'Ticket,x,y,note\nT1,2683100,1247100,"a; b; c"\n')
    header = lines[0].split(",")
    assert header[:4] == ["Ticket", "x", "y", "note"] and lines[1].startswith("T1,2683100,1247100,a; b; c,")
