"""Long commands show a progress line on a terminal and stay silent when piped.

``respmap build`` was silent for 80 s on the demo. Now loading, coverage, the
report kit and the atlas show one tqdm line on stderr, but only when stderr is
a terminal (a pseudo-terminal here, with a real window size): piped into a log
or a script, stderr carries nothing but real messages.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
TIMEOUT_S = 600


def respmap(*argv: str) -> list[str]:
    return [sys.executable, "-m", "api.cli", "--dataset", str(MINI), *argv]


def on_terminal(command: list[str], cwd: Path) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal 100 columns wide; (exit code, what the terminal showed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=slave, env=_env())
    os.close(slave)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    return process.wait(timeout=TIMEOUT_S), shown.decode("utf-8", errors="replace")


def piped(command: list[str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, env=_env())
    return done.returncode, done.stderr


def _env() -> dict[str, str]:
    from tests.api.http_server import REPO

    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("coverage",), ("loading: streets", "coverage:", "workload", "tables")),  # every stage named
        (("build", "-o", "kit"), ("loading", "step")),  # the 80-second command
        (("render", "--atlas", "-o", "atlas.pdf"), ("atlas",)),  # a page per unit
    ],
)
def test_progress_on_a_terminal_and_silence_in_a_pipe(
    tmp_path: Path, argv: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    code, shown = on_terminal(respmap(*argv), tmp_path)
    assert code == 0, shown[-2000:]
    for word in expected:
        assert word in shown, (word, shown[-2000:])
    assert "\r" in shown  # one line, redrawn in place
    code, stderr = piped(respmap(*argv), tmp_path)
    assert code == 0, stderr[-2000:]
    assert "\r" not in stderr and "step" not in stderr and "loading" not in stderr
