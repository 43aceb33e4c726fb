"""Benchmark: memory of a real server across many reloads (issue 15: each reload kept ~45 MB).

Starts ``respmap serve`` (one worker, a copy of the dataset in a temporary folder,
an admin token), touches what a day of use builds (a lookup, a batch lookup, the
coverage, the map page and its payload, OGC items) and then calls
``POST /admin/reload`` again and again, touching the same routes after each. It
prints the worker's resident set size (VmRSS from ``/proc``) after 5 and after
50 reloads, and the growth per reload in between. The reference a competent
user would accept: a server that frees the old snapshot, so RSS after 50
reloads within a few MB of after 5 (allocator noise, not a slope).

    python bench/reload.py                      # the demo, 50 reloads
    python bench/reload.py --reloads 100 --scale 10
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from scaled_data import dataset_folder

REPO = Path(__file__).resolve().parents[1]
TOKEN = "bench-reload-token"
TOUCHED = (
    "/lookup?lon=109.0292&lat=32.6853",
    "/coverage",
    "/map",
    "/ogc/collections/back_streets/items?limit=50",
    "/units",
)
TARGET_GROWTH_MB = 10.0


def rss_mb(pid: int) -> float:
    """Resident set size of a process, in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def touch(client: httpx.Client) -> None:
    for path in TOUCHED:
        client.get(path).raise_for_status()
    client.post("/lookup", json={"points": [{"lon": 109.0292, "lat": 32.6853}]}).raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=50)
    parser.add_argument("--scale", type=int, default=1, help="1: the demo; n: the demo generated n times larger")
    args = parser.parse_args()
    if args.reloads < 5:
        parser.error("--reloads must be at least 5")
    work = Path(tempfile.mkdtemp(prefix="respmap-bench-reload-"))
    data = work / "data"
    shutil.copytree(dataset_folder(args.scale), data)
    port = free_port()
    env = {**os.environ, "RESPMAP_ADMIN_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "api.cli", "serve", "--dataset", str(data), "--port", str(port)]
    command += ["--log-level", "warning"]
    server = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=120.0, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    pid = client.get("/healthz").json()["worker_pid"]
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.3)
            touch(client)
            print(f"dataset {data.name} (scale {args.scale}); worker {pid}; RSS at start {rss_mb(pid):.1f} MB")
            figures: dict[int, float] = {}
            started = time.perf_counter()
            for n in range(1, args.reloads + 1):
                client.post("/admin/reload").raise_for_status()
                touch(client)
                if n in (5, args.reloads) or n % 10 == 0:
                    figures[n] = rss_mb(pid)
                    print(f"after {n:4d} reloads: RSS {figures[n]:8.1f} MB", flush=True)
            seconds = time.perf_counter() - started
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    growth = figures[args.reloads] - figures[5]
    per_reload = growth / (args.reloads - 5)
    print(
        f"\nRSS after 5 reloads {figures[5]:.1f} MB, after {args.reloads} {figures[args.reloads]:.1f} MB: "
        f"{growth:+.1f} MB ({per_reload:+.2f} MB per reload; {seconds / args.reloads:.2f} s per reload)"
    )
    print(f"reference: a server that frees each old snapshot grows < {TARGET_GROWTH_MB:.0f} MB over the run")
    verdict = "OK" if growth < TARGET_GROWTH_MB else "GROWS"
    print(f"verdict: {verdict}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
