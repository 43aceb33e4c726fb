"""Text from the dataset cannot drive the user's terminal.

A place named ``... \\x1b[2J\\x1b]0;pwned\\x07`` cleared the screen and retitled
the window when ``respmap lookup`` printed it, and a unit whose name starts
with U+202E (right-to-left override) turned the rest of the line around, phone
number included, in a terminal that honours bidi. Human output shows such
characters as visible escapes; ``--json`` stays exact JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import main
from api.commands.common import terminal_safe

HOSTILE = str(Path(__file__).resolve().parents[1] / "data" / "qa" / "hostile_text")
CONTROLS = ("\x1b", "\x07", "\u202e")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--dataset", HOSTILE, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain 幸福巷, tabs\tand\nnew lines", "plain 幸福巷, tabs\tand\nnew lines"),  # ordinary text untouched
        ("\x1b[2J", "\\x1b[2J"),  # ANSI escape (clear screen)
        ("bell\x07", "bell\\x07"),  # BEL ends an OSC sequence
        ("\x9b31m", "\\x9b31m"),  # the one-byte C1 form of ESC [
        ("\u202eevil", "\\u202eevil"),  # right-to-left override
        ("a\u2066b\u2069", "a\\u2066b\\u2069"),  # bidi isolates
        ("\r overwritten", "\\x0d overwritten"),  # a carriage return can hide the start of a line
    ],
)
def test_terminal_safe(text: str, shown: str) -> None:
    assert terminal_safe(text) == shown


def test_lookup_text_shows_escapes_instead_of_running_them(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "lookup", "109.032", "32.692")
    assert code == 0
    assert not any(c in out for c in CONTROLS)
    assert "\\x1b[2J" in out and "\\u202eevil unit" in out
    assert "0915-3200003" in out  # the phone number itself is intact


def test_lookup_json_stays_exact(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "lookup", "109.032", "32.692", "--json")
    assert code == 0
    names = [u["name"] for m in json.loads(out)["matches"] for u in m["units"]]
    assert "\u202eevil unit" in names


def test_coverage_and_validate_text_show_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["coverage", "--date", "2026-03-01"], ["validate"]):
        _, out, err = _run(capsys, *command)
        assert not any(c in out + err for c in CONTROLS), command
