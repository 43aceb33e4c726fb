"""The README's tour runs as written, line by line, on the demo, in an empty folder.

A new user copies the tour's lines one by one; before, ``respmap assign
complaints.csv`` stopped the tour (no such file). Every line of the ``bash``
block under "## A tour" is run here as a real process: each must exit 0. The
server line serves forever, so it runs until ``/healthz`` and ``/`` answer and
is then stopped; its port comes from ``RESPMAP_PORT`` so the line itself stays
as written without meeting a server someone else runs on 8000.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.api.http_server import free_port

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DEMO = REPO / "layers" / "ankang"
LINE_TIMEOUT_S = 900
SERVE_TIMEOUT_S = 120


def tour_lines(readme_text: str) -> list[list[str]]:
    """The commands of the first ``bash`` block after the "## A tour" heading, comments removed."""
    tour = readme_text.split("\n## A tour", 1)
    assert len(tour) == 2, "README.md has no '## A tour' section"
    block = re.search(r"```bash\n(.*?)```", tour[1], flags=re.DOTALL)
    assert block is not None, "the tour has no ```bash block"
    commands = [shlex.split(line, comments=True) for line in block.group(1).splitlines()]
    return [argv for argv in commands if argv]


def respmap_command() -> list[str]:
    """The installed console script beside this Python (as the README's set-up leaves it)."""
    script = Path(sys.executable).with_name("respmap")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "api.cli"]


def test_the_tour_block_is_found_and_starts_with_respmap() -> None:
    lines = tour_lines(README.read_text(encoding="utf-8"))
    assert len(lines) >= 5
    assert all(argv[0] == "respmap" for argv in lines), [argv[0] for argv in lines]
    assert any(argv[1] == "serve" for argv in lines)


def test_every_tour_line_runs_as_written(tmp_path: Path) -> None:
    env = {**os.environ, "RESPMAP_DATASET": str(DEMO), "PYTHONUNBUFFERED": "1"}
    env.pop("RESPMAP_DEBUG", None)
    for argv in tour_lines(README.read_text(encoding="utf-8")):
        command = respmap_command() + argv[1:]
        if argv[1] == "serve":
            _serve_answers(command, tmp_path, env)
            continue
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=LINE_TIMEOUT_S)
        assert done.returncode == 0, f"`{shlex.join(argv)}` exited {done.returncode}:\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr, shlex.join(argv)


def _serve_answers(command: list[str], folder: Path, env: dict[str, str]) -> None:
    port = free_port()
    log = (folder / "serve.log").open("wb")  # a file, not a pipe: a chatty server never blocks on it
    process = subprocess.Popen(
        command,
        cwd=folder,
        # Its port, and its case store in this temporary folder (not beside the bundled demo).
        env={**env, "RESPMAP_PORT": str(port), "RESPMAP_DATA_DIR": str(folder / "store")},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise AssertionError(f"respmap serve exited {process.returncode}: {_tail(folder / 'serve.log')}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"respmap serve did not answer within {SERVE_TIMEOUT_S} s"
            time.sleep(0.3)
        assert httpx.get(f"{base}/", timeout=30).status_code == 200  # the address it prints answers
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
        log.close()


def _tail(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-3000:]
