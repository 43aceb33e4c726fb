"""Benchmark: the HTTP API under load, GET /lookup against the bare endpoint of the same app.

Starts a real server (``respmap serve --workers 2`` on 127.0.0.1, a copy of
the dataset in a temporary folder) and drives it with wrk (Debian package) at
32 connections on loopback:

1. ``GET /healthz/ping``: a constant answer, the cost of the HTTP stack alone
   (the reference: the fastest this app can answer anything);
2. ``GET /lookup`` with a random point over the dataset's districts for every
   request (a Lua script draws them);
3. ``GET /lookup`` again while ``POST /admin/reload`` swaps in a changed copy
   of the data half-way through: every failed request is counted.

Ping and lookup runs are interleaved for a few rounds (other processes on a
shared machine disturb single runs); it prints requests/s, p50, p99 and
errors of every run, then judges the medians against the targets: lookup >=
70 % of ping's requests/s, lookup p99 < 25 ms, no errors, and no failed
request across the reload.

    python bench/api.py                       # the demo: 5 rounds of 4 s runs, then the reload run
    python bench/api.py --seconds 10 --rounds 3 --dataset layers/ankang
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "layers" / "ankang"
CONNECTIONS = 32
TARGET_RATIO = 0.70
TARGET_P99_MS = 25.0

# wrk prints this line (JSON) from done(): throughput, latency percentiles (µs) and error counts.
SUMMARY_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_us": %d, "p99_us": %d, "max_us": %d, '
    .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""

RANDOM_POINTS_LUA = """
local min_lon, min_lat, max_lon, max_lat = {min_lon}, {min_lat}, {max_lon}, {max_lat}
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
init = function(args)
  math.randomseed(os.time() * 1000 + (seed or 0))
end
request = function()
  local lon = min_lon + math.random() * (max_lon - min_lon)
  local lat = min_lat + math.random() * (max_lat - min_lat)
  return wrk.format("GET", string.format("{path}?lon=%.6f&lat=%.6f", lon, lat))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(dataset: Path, port: int, token: str, workers: int) -> subprocess.Popen:
    env = {**os.environ, "RESPMAP_ADMIN_TOKEN": token}
    command = [
        sys.executable, "-m", "api.cli", "serve", "--dataset", str(dataset), "--port", str(port),
        "--workers", str(workers), "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)


def wait_until_up(base: str, workers: int, process: subprocess.Popen, timeout_s: float = 180.0) -> set[int]:
    """Until every worker has answered /healthz (each new connection may reach another worker); their pids."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            seen.add(httpx.get(f"{base}/healthz", timeout=5).json()["worker_pid"])
            if len(seen) >= workers:
                return seen
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server did not start within {timeout_s} s")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def cpu_seconds(pids: set[int]) -> float:
    """User + system CPU time the server's workers have used so far."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, seconds: float, threads: int, script: Path, pids: set[int] | None = None) -> dict:
    cpu_before = cpu_seconds(pids) if pids else 0.0
    command = ["wrk", f"-t{threads}", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "5s", "-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    result["rps"] = result["requests"] / result["seconds"]
    if pids:  # CPU per request does not depend on what else the machine runs
        result["cpu_us"] = (cpu_seconds(pids) - cpu_before) / max(result["requests"], 1) * 1e6
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    return result


def describe(name: str, result: dict) -> str:
    return (
        f"{name:<28} {result['rps']:>9.0f} req/s   p50 {result['p50_us'] / 1000:6.2f} ms   "
        f"p99 {result['p99_us'] / 1000:6.2f} ms   errors {result['errors']}"
        + (f"   server CPU {result['cpu_us']:5.0f} us/request" if "cpu_us" in result else "")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEMO, help="dataset folder (default: the demo)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each wrk run")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (the machine's cores are shared)")
    parser.add_argument("--rounds", type=int, default=5, help="ping/lookup rounds, interleaved; medians are judged")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    from geo import load_dataset

    work = Path(tempfile.mkdtemp(prefix="respmap-bench-api-"))
    data = work / "data"
    shutil.copytree(args.dataset, data)
    ds = load_dataset(data)
    if ds.frame is None:
        raise SystemExit("the dataset has no districts to draw points in")
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in ds.frame.total_bounds)
    ping_script = work / "ping.lua"
    # Both endpoints get requests made by the same Lua code (ping ignores the query), so
    # wrk's own cost, which shares the two cores with the server, is the same for both.
    ping_script.write_text(
        RANDOM_POINTS_LUA.format(
            path="/healthz/ping", min_lon=min_lon, min_lat=min_lat, max_lon=max_lon, max_lat=max_lat
        )
        + SUMMARY_LUA,
        encoding="utf-8",
    )
    lookup_script = work / "lookup.lua"
    lookup_script.write_text(
        RANDOM_POINTS_LUA.format(path="/lookup", min_lon=min_lon, min_lat=min_lat, max_lon=max_lon, max_lat=max_lat)
        + SUMMARY_LUA,
        encoding="utf-8",
    )

    token = secrets.token_urlsafe(24)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"dataset {ds.name} ({sum(ds.feature_counts().values())} features, {len(ds.duty_zones)} zones)")
    print(
        f"server: respmap serve --workers {args.workers} on {base}; wrk -t{args.threads} -c{CONNECTIONS}, {args.seconds:g} s runs"
    )
    started = time.perf_counter()
    process = start_server(data, port, token, args.workers)
    try:
        pids = wait_until_up(base, args.workers, process)
        print(f"server up in {time.perf_counter() - started:.1f} s")
        sample = httpx.get(f"{base}/lookup", params={"lon": (min_lon + max_lon) / 2, "lat": (min_lat + max_lat) / 2})
        assert sample.status_code == 200 and "matches" in sample.json(), sample.text[:300]
        run_wrk(f"{base}/healthz/ping", 2, args.threads, ping_script)  # warm-up: connections, caches
        run_wrk(base, 2, args.threads, lookup_script)

        pings, lookups = [], []
        for _ in range(args.rounds):
            pings.append(run_wrk(f"{base}/healthz/ping", args.seconds, args.threads, ping_script, pids))
            lookups.append(run_wrk(base, args.seconds, args.threads, lookup_script, pids))
        for index, (ping, lookup) in enumerate(zip(pings, lookups, strict=True), start=1):
            print(describe(f"round {index}: GET /healthz/ping", ping))
            print(describe(f"round {index}: GET /lookup", lookup))
        # Medians over the interleaved rounds: one round disturbed by another process does not decide.
        ping_rps = statistics.median(r["rps"] for r in pings)
        lookup_rps = statistics.median(r["rps"] for r in lookups)
        ratio = lookup_rps / ping_rps
        ping_p99_ms = statistics.median(r["p99_us"] for r in pings) / 1000
        lookup_p50_ms = statistics.median(r["p50_us"] for r in lookups) / 1000
        lookup_p99_ms = statistics.median(r["p99_us"] for r in lookups) / 1000
        cpu_ratio = statistics.median(r["cpu_us"] for r in pings) / statistics.median(r["cpu_us"] for r in lookups)
        lookup_errors = sum(r["errors"] for r in lookups) + sum(r["errors"] for r in pings)

        reload_result, reload_outcome, hashes = reload_under_load(base, data, token, args, lookup_script)
        print(describe("GET /lookup across a reload", reload_result))
        print(f"reload: {reload_outcome.get('answer', 'no answer')}; workers now serve {hashes}")
    finally:
        stop_server(process)
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(
        f"median of {args.rounds} rounds: ping {ping_rps:.0f} req/s (p99 {ping_p99_ms:.2f} ms), lookup {lookup_rps:.0f} req/s (p50 {lookup_p50_ms:.2f} ms, p99 {lookup_p99_ms:.2f} ms)"
    )
    print(f"lookup / ping requests/s: {lookup_rps:.0f} / {ping_rps:.0f} = {ratio:.0%} (target >= {TARGET_RATIO:.0%})")
    print(f"ping / lookup server CPU per request: {cpu_ratio:.0%} (what the ratio would be with the cores to itself)")
    checks = {
        f"lookup >= {TARGET_RATIO:.0%} of ping": ratio >= TARGET_RATIO,
        f"lookup p99 < {TARGET_P99_MS:g} ms": lookup_p99_ms < TARGET_P99_MS,
        "no errors": lookup_errors == 0,
        "no failed request across the reload": reload_result["errors"] == 0,
        "every worker serves the reloaded data": (
            len(hashes) >= args.workers and set(hashes.values()) == {reload_outcome.get("new_hash")}
        ),
    }
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


def reload_under_load(
    base: str, data: Path, token: str, args: argparse.Namespace, script: Path
) -> tuple[dict, dict[str, str], dict[int, str]]:
    """A lookup run during which POST /admin/reload swaps in changed data half-way; then every worker's hash."""
    rename_first_unit(data / "units.csv")
    outcome: dict[str, str] = {}

    def reload_later() -> None:
        time.sleep(args.seconds / 2)
        answer = httpx.post(f"{base}/admin/reload", headers={"Authorization": f"Bearer {token}"}, timeout=120)
        body = answer.json()
        outcome["new_hash"] = body.get("content_hash", "")
        outcome["answer"] = f"HTTP {answer.status_code} " + json.dumps(
            {key: body.get(key) for key in ("changed", "previous_hash", "content_hash")}
        )

    thread = threading.Thread(target=reload_later)
    thread.start()
    result = run_wrk(base, args.seconds, args.threads, script)
    thread.join()
    hashes: dict[int, str] = {}
    deadline = time.monotonic() + 30  # the other workers follow within about a second
    while time.monotonic() < deadline:
        health = httpx.get(f"{base}/healthz", timeout=10).json()
        hashes[health["worker_pid"]] = health["content_hash"]
        if len(hashes) >= args.workers and set(hashes.values()) == {outcome.get("new_hash")}:
            break
        time.sleep(0.1)
    return result, outcome, hashes


def rename_first_unit(units_csv: Path) -> None:
    """Change the data: the first unit's name gets a suffix (so the content hash changes)."""
    with units_csv.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    name_column = rows[0].index("name")
    rows[1][name_column] += "（基准测试）"
    with units_csv.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(rows)


if __name__ == "__main__":
    sys.exit(main())
