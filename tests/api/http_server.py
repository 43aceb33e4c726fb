"""A real ``respmap serve`` process for tests that need one (GDAL, multi-worker reload).

Started on 127.0.0.1 with a free port, waited for until /healthz answers, and
stopped (SIGTERM, then SIGKILL) when the ``with`` block ends, whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(dataset: Path, *, workers: int = 1, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``respmap serve`` on ``dataset``; yield its base URL (``http://127.0.0.1:PORT``)."""
    port = free_port()
    environment = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "api.cli",
        "serve",
        "--dataset",
        str(dataset),
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(
        command, cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, base, workers)
        yield base
    finally:
        _stop(process)


def _wait_until_up(process: subprocess.Popen, base: str, workers: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    seen_pids: set[int] = set()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise RuntimeError(f"respmap serve exited with {process.returncode}:\n{output[-3000:]}")
        try:
            answer = httpx.get(f"{base}/healthz", timeout=2.0)
            if answer.status_code == 200:
                seen_pids.add(answer.json()["worker_pid"])
                if len(seen_pids) >= workers:
                    return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"respmap serve did not answer on {base} within {STARTUP_TIMEOUT_S} s")


def _stop(process: subprocess.Popen) -> None:
    """Stop the server's whole process group (it has one of its own: start_new_session)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
    if process.stdout:
        process.stdout.close()
