"""Benchmark: the case loop over HTTP, on SQLite and on PostgreSQL, beside bare inserts of the same rows.

For each backend it starts a real ``respmap serve --workers 2`` (on 127.0.0.1, the demo
dataset, a fresh store: a SQLite file in a temporary folder, or a database in a throw-away
PostgreSQL cluster started as ``tests/postgres.py`` does) and measures:

1. **Creating cases**: ``POST /cases`` as an inspector, each at a random point inside the
   districts, driven by wrk (16 connections). Every request is attributed (respmap's lookup
   at that point and date), stored with its units and its two events (report, dispatch) in
   one transaction, and answered with the whole case. Figures: cases/s, p50, p99.
   The reference, in this process: the *same rows* (read back from the store: cases, their
   units, their events) inserted into an empty store of the same backend with SQLAlchemy
   core, (a) as one ``executemany`` per table in one transaction (the database's raw speed),
   (b) one transaction per case (the floor for "one transaction per state change").
2. **Listing for one unit**: 100,000 cases held by one unit (plus 20,000 of other units)
   written straight into the store, then ``GET /cases?unit_id=U&limit=100`` with that unit's
   token, driven by wrk with one connection (judged), then four: p50, p99.

Targets (issue 10): >= 300 creates/s with attribution on SQLite, >= 1,000/s on PostgreSQL,
listing p99 < 50 ms. The machine's cores are shared by the server, wrk and this process;
the PostgreSQL cluster runs with fsync off, as the tests' cluster does (both the server and
the reference run on it, so the ratio is fair; absolute commits are flattered).

    python bench/cases.py                              # both backends, 10 s runs
    python bench/cases.py --backends sqlite --seconds 5 --list-cases 20000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import shapely  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from bench.api import SUMMARY_LUA, cpu_seconds, free_port, stop_server, wait_until_up  # noqa: E402
from cases.migrate import upgrade  # noqa: E402
from cases.models import Case, CaseUnit, Event, User  # noqa: E402
from cases.store import Store, make_engine, open_store, store_config  # noqa: E402
from cases.unit_counts import recount  # noqa: E402
from cases.users import add_user  # noqa: E402
from cases.workflow import OPEN_STATES  # noqa: E402
from geo import Dataset, load_dataset  # noqa: E402

DEMO = REPO / "layers" / "ankang"
CREATE_CONNECTIONS = 16
LIST_CONNECTIONS = (1, 4)  # one clerk at a time (judged), then four at once
POINTS = 4000
OTHER_UNIT_CASES = 20_000
TARGET_CREATES = {"sqlite": 300.0, "postgresql": 1000.0}
TARGET_LIST_P99_MS = 50.0

CREATE_LUA = """
local points = {{ {points} }}
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
init = function(args)
  math.randomseed(os.time() * 1000 + (seed or 0))
end
local headers = {{ ["Content-Type"] = "application/json", ["Authorization"] = "Bearer {token}" }}
request = function()
  local p = points[math.random(#points)]
  local body = string.format('{{"lon": %.7f, "lat": %.7f, "category": "exposed_garbage", "note": "bench"}}', p[1], p[2])
  return wrk.format("POST", "/cases", headers, body)
end
"""

LIST_LUA = """
local headers = {{ ["Authorization"] = "Bearer {token}" }}
request = function()
  return wrk.format("GET", "/cases?unit_id={unit}&limit=100", headers)
end
"""


# ----------------------------------------------------------------------------- set-up


def district_points(ds: Dataset, count: int, seed: int = 7) -> list[tuple[float, float]]:
    """Random WGS-84 points inside the districts (cases there are attributed, never refused): three in
    four inside a duty zone (inspectors report on streets, in villages and compounds), the rest anywhere."""
    rng = random.Random(seed)
    frame = shapely.union_all(ds.frame.geometry.values)
    zones = [z for z in ds.zones_on().geometry.values if z is not None and not z.is_empty]
    shapely.prepare(frame)
    points: list[tuple[float, float]] = []
    while len(points) < count:
        area = rng.choice(zones) if len(points) % 4 else frame
        min_lon, min_lat, max_lon, max_lat = shapely.bounds(area)
        lon, lat = rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)
        if shapely.contains_xy(area, lon, lat) and shapely.contains_xy(frame, lon, lat):
            points.append((lon, lat))
    return points


def busiest_unit(ds: Dataset) -> str:
    """The unit that leads the most places: the one whose clerk lists the most cases."""
    zones = ds.duty_zones
    return str(zones.loc[zones["role"] == "lead", "unit_id"].value_counts().index[0])


@contextmanager
def postgres_cluster(wanted: bool) -> Iterator[Any]:
    if not wanted:
        yield None
        return
    from tests.postgres import PostgresCluster

    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def new_database(backend: str, cluster: Any, folder: Path, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / f'{name}.sqlite3'}"
    return cluster.new_database()


def start_server(dataset: Path, port: int, workers: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    """``respmap serve``; its output goes to ``log`` (wrk's stop cuts requests short, which uvicorn logs)."""
    command = [
        sys.executable, "-m", "api.cli", "serve", "--dataset", str(dataset), "--port", str(port),
        "--workers", str(workers), "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as output:
        return subprocess.Popen(
            command,
            cwd=REPO,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def database_pids() -> set[int]:
    """PostgreSQL's processes on this machine (the cluster's backends serve the server's connections)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/comm"):
        try:
            if stat.read_text().strip() == "postgres":
                found.add(int(stat.parent.name))
        except OSError:
            continue
    return found


def machine_busy_s() -> tuple[float, float]:
    """CPU seconds spent busy and in all, summed over the machine's cores (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    idle = fields[3] + fields[4]
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


def _cpu_of(pids: set[int]) -> float:
    alive = {pid for pid in pids if Path(f"/proc/{pid}").exists()}
    try:
        return cpu_seconds(alive)
    except OSError:  # a backend ended meanwhile
        return 0.0


def run_wrk(url: str, seconds: float, connections: int, script: Path, pids: set[int] | None = None) -> dict:
    """One wrk run; with ``pids``, also the CPU per request of the server, of PostgreSQL and of the machine."""
    cpu_before = cpu_seconds(pids) if pids else 0.0
    database = database_pids()
    database_before = _cpu_of(database)
    busy_before, all_before = machine_busy_s()
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    busy_after, all_after = machine_busy_s()
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    result["rps"] = result["requests"] / result["seconds"]
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    if pids:
        requests = max(result["requests"], 1)
        result["cpu_ms"] = (cpu_seconds(pids) - cpu_before) / requests * 1e3
        result["database_cpu_ms"] = (_cpu_of(database) - database_before) / requests * 1e3
        result["machine_busy"] = (busy_after - busy_before) / max(all_after - all_before, 1e-9)
    return result


# ----------------------------------------------------------------------------- the reference


def stored_rows(store: Store) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """Every case, case unit and event in the store, and the users they refer to, as column dicts (ids kept)."""
    tables = (Case.__table__, CaseUnit.__table__, Event.__table__, User.__table__)
    with store.engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            [dict(row._mapping) for row in connection.execute(select(table).order_by(table.c.id))] for table in tables
        )


def bare_inserts(url: str, data_dir: Path, stored: tuple[list[dict], ...]) -> dict[str, float]:
    """The same rows into an empty store of the same backend: executemany, then one transaction per case."""
    cases, units, events, users = stored
    rows = (cases, units, events)
    engine = make_engine(store_config(url=url, data_dir=data_dir))
    try:
        upgrade(engine)
        with engine.begin() as connection:
            connection.execute(insert(User.__table__), users)  # the reporters the cases refer to
        tables = (Case.__table__, CaseUnit.__table__, Event.__table__)
        started = time.perf_counter()
        with engine.begin() as connection:
            for table, table_rows in zip(tables, rows, strict=True):
                connection.execute(insert(table), table_rows)
        many_s = time.perf_counter() - started
        with engine.begin() as connection:
            for table in reversed(tables):
                connection.execute(table.delete())
        units_of: dict[int, list[dict]] = {}
        events_of: dict[int, list[dict]] = {}
        for unit in units:
            units_of.setdefault(unit["case_pk"], []).append(unit)
        for event in events:
            events_of.setdefault(event["case_pk"], []).append(event)
        started = time.perf_counter()
        for case in cases:
            with engine.begin() as connection:
                connection.execute(insert(Case.__table__), [case])
                connection.execute(insert(CaseUnit.__table__), units_of.get(case["id"], []))
                connection.execute(insert(Event.__table__), events_of.get(case["id"], []))
        single_s = time.perf_counter() - started
    finally:
        engine.dispose()
    return {"executemany": len(cases) / many_s, "per_case": len(cases) / single_s}


# ----------------------------------------------------------------------------- listing data


def fill_for_listing(store: Store, unit_id: str, unit_name: str, count: int, others: list[str]) -> float:
    """``count`` cases held by ``unit_id`` and :data:`OTHER_UNIT_CASES` of other units, written straight
    into the store (states and deadlines mixed as in a real year); returns the seconds it took."""
    rng = random.Random(11)
    now = dt.datetime.now(dt.UTC)
    # A year of a busy unit: nearly all closed within their hours; a few open, rejected or waiting.
    states = ["closed"] * 90 + ["rejected"] * 2 + ["dispatched"] * 4 + ["rectified"] * 2 + ["postponed"] + ["reported"]
    with store.engine.connect() as connection:
        first_id = (connection.execute(select(func.max(Case.id))).scalar() or 0) + 1
    started = time.perf_counter()
    total = count + OTHER_UNIT_CASES
    batch = 5000
    for start in range(0, total, batch):
        cases, units, events = [], [], []
        for n in range(start, min(start + batch, total)):
            pk = first_id + n
            holder = unit_id if n < count else others[n % len(others)]
            reported = now - dt.timedelta(minutes=rng.randint(0, 525_600))
            state = rng.choice(states)
            due = None if state == "reported" else reported + dt.timedelta(hours=rng.choice((2, 4, 24, 72)))
            cases.append(
                {
                    "id": pk,
                    "case_id": f"B{reported:%Y%m%d}-{pk:07d}",
                    "category": "exposed_garbage",
                    "category_name": "暴露垃圾",
                    "severity": 2,
                    "source": "inspector",
                    "state": state,
                    "version": 2,
                    "reported_at": reported,
                    "received_at": reported,
                    "due_at": due,
                    "lon": 109.0 + rng.random() * 0.05,
                    "lat": 32.68 + rng.random() * 0.04,
                    "given_lon": 109.0,
                    "given_lat": 32.7,
                    "given_crs": "wgs84",
                    "location_source": "given",
                    "district_id": "D01",
                    "district_name": "片区",
                    "layer": "back_streets",
                    "feature_id": "BS001",
                    "feature_name": "街巷",
                    "stretch_from_m": None,
                    "stretch_to_m": None,
                    "fallback": False,
                    "forced": False,
                    "attribution_date": reported.date(),
                    "dataset_hash": "bench",
                    "note": "bench",
                    "reporter_id": None,
                    "reporter_contact": None,
                    "idempotency_key": None,
                    "attribution": {},
                }
            )
            units.append(
                {
                    "case_pk": pk,
                    "unit_id": holder,
                    "unit_name": unit_name,
                    "role": "lead",
                    "since": reported,
                    "until": None,
                    "case_state": state,  # the case's copies (cases.models.CaseUnit)
                    "case_open": state in OPEN_STATES,
                    "due_at": due,
                    "reported_at": reported,
                }
            )
            events.append(
                {
                    "case_pk": pk,
                    "seq": 1,
                    "at": reported,
                    "recorded_at": reported,
                    "action": "report",
                    "from_state": None,
                    "to_state": "reported",
                    "actor_id": None,
                    "by_role": "inspector",
                    "note": "",
                    "due_at": None,
                    "unit_id": None,
                }
            )
        with store.engine.begin() as connection:
            connection.execute(insert(Case.__table__), cases)
            connection.execute(insert(CaseUnit.__table__), units)
            connection.execute(insert(Event.__table__), events)
    with store.engine.begin() as connection:
        recount(connection)  # rows written around the service: its counts set once, as after a bulk load
    if store.backend == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # what autovacuum does after a bulk insert (autovacuum_vacuum_insert_threshold, PostgreSQL 13+)
            connection.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


# ----------------------------------------------------------------------------- one backend


def bench_backend(backend: str, cluster: Any, ds: Dataset, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    folder = work / backend
    folder.mkdir()
    url = new_database(backend, cluster, folder, "store")
    store = open_store(config=store_config(url=url, data_dir=folder / "data"))  # migrated before the workers start
    _, inspector_token = add_user(store, "bench-inspector", "inspector")
    unit_id = busiest_unit(ds)
    _, unit_token = add_user(store, "bench-unit", "unit", unit_id)
    points = district_points(ds, POINTS)
    create_script = folder / "create.lua"
    create_script.write_text(
        CREATE_LUA.format(points=", ".join(f"{{{lon:.7f}, {lat:.7f}}}" for lon, lat in points), token=inspector_token)
        + SUMMARY_LUA,
        encoding="utf-8",
    )
    list_script = folder / "list.lua"
    list_script.write_text(LIST_LUA.format(token=unit_token, unit=unit_id) + SUMMARY_LUA, encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"RESPMAP_DATABASE_URL": url, "RESPMAP_DATA_DIR": str(folder / "data")}
    process = start_server(args.dataset, port, args.workers, env, folder / "server.log")
    result: dict[str, Any] = {"backend": backend, "unit": unit_id}
    try:
        pids = wait_until_up(base, args.workers, process)
        probe = httpx.post(
            f"{base}/cases",
            json={"lon": points[0][0], "lat": points[0][1], "category": "exposed_garbage"},
            headers={"Authorization": f"Bearer {inspector_token}"},
            timeout=30,
        )
        assert probe.status_code == 201, probe.text[:300]
        run_wrk(base, 2, CREATE_CONNECTIONS, create_script)  # warm-up: connections, pools, caches
        with store.engine.connect() as connection:
            before = connection.execute(select(func.count()).select_from(Case)).scalar_one()
        creates = run_wrk(base, args.seconds, CREATE_CONNECTIONS, create_script, pids)
        time.sleep(1.0)  # requests in flight when wrk stopped finish
        with store.engine.connect() as connection:
            stored = connection.execute(select(func.count()).select_from(Case)).scalar_one() - before
        result["creates"] = creates
        result["stored_during_run"] = stored
        rows = stored_rows(store)
        result["cases_copied"] = len(rows[0])
        result["bare"] = bare_inserts(new_database(backend, cluster, folder, "bare"), folder / "bare-data", rows)

        unit_name = str(ds.units.loc[ds.units["unit_id"] == unit_id, "name"].iloc[0])
        others = [u for u in ds.units["unit_id"].astype(str) if u != unit_id][:50]
        result["fill_s"] = fill_for_listing(store, unit_id, unit_name, args.list_cases, others)
        check = httpx.get(
            f"{base}/cases",
            params={"unit_id": unit_id, "limit": 100},
            headers={"Authorization": f"Bearer {unit_token}"},
            timeout=60,
        )
        assert check.status_code == 200, check.text[:300]
        result["visible_to_unit"] = check.json()["numberMatched"]
        run_wrk(base, 2, 1, list_script)
        result["listing"] = {c: run_wrk(base, args.seconds, c, list_script, pids) for c in LIST_CONNECTIONS}
    finally:
        stop_server(process)
        store.dispose()
    return result


def describe(name: str, run: dict) -> str:
    return (
        f"{name:<44} {run['rps']:>8.0f} /s   p50 {run['p50_us'] / 1000:7.1f} ms   p99 {run['p99_us'] / 1000:7.1f} ms"
        f"   errors {run['errors']}   server CPU {run.get('cpu_ms', 0):.1f} ms/request"
        + (f", PostgreSQL {run['database_cpu_ms']:.1f} ms" if run.get("database_cpu_ms", 0) >= 0.05 else "")
        + (f"; cores busy {run['machine_busy']:.0%}" if "machine_busy" in run else "")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEMO, help="dataset folder (default: the demo)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each wrk run")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite, postgresql or both")
    parser.add_argument("--list-cases", type=int, default=100_000, help="cases held by the listing unit")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if unknown := [b for b in backends if b not in TARGET_CREATES]:
        raise SystemExit(f"unknown backend {unknown[0]!r}: sqlite, postgresql")
    ds = load_dataset(args.dataset)
    print(f"dataset {ds.name}: {len(ds.duty_zones)} duty zones; server: respmap serve --workers {args.workers}")
    print(f"creates: wrk -c{CREATE_CONNECTIONS}, listing: wrk -c1 and -c4, {args.seconds:g} s runs")
    work = Path(tempfile.mkdtemp(prefix="respmap-bench-cases-"))
    results = []
    try:
        with postgres_cluster("postgresql" in backends) as cluster:
            for backend in backends:
                print(f"\n== {backend}")
                result = bench_backend(backend, cluster, ds, args, work)
                results.append(result)
                creates, bare = result["creates"], result["bare"]
                print(describe("POST /cases (attributed, 2 events, answered)", creates))
                print(f"  cases stored during the run: {result['stored_during_run']}")
                print(
                    f"  same {result['cases_copied']} cases, bare SQLAlchemy core in this process: "
                    f"executemany {bare['executemany']:.0f} cases/s, one transaction per case {bare['per_case']:.0f} cases/s"
                )
                print(
                    f"  ratio HTTP / bare: {creates['rps'] / bare['per_case']:.1%} of one-transaction-per-case, "
                    f"{creates['rps'] / bare['executemany']:.2%} of executemany"
                )
                print(
                    f"  listing: {args.list_cases:,} cases of unit {result['unit']} + {OTHER_UNIT_CASES:,} of others "
                    f"written in {result['fill_s']:.1f} s; the unit sees {result['visible_to_unit']:,}"
                )
                for connections, listing in result["listing"].items():
                    print(describe(f"GET /cases?unit_id={result['unit']}&limit=100, -c{connections}", listing))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    checks = {}
    for result in results:
        backend = result["backend"]
        target = TARGET_CREATES[backend]
        checks[f"{backend}: creates >= {target:,.0f}/s ({result['creates']['rps']:.0f}/s)"] = (
            result["creates"]["rps"] >= target
        )
        checks[f"{backend}: no failed create"] = result["creates"]["errors"] == 0
        p99 = result["listing"][LIST_CONNECTIONS[0]]["p99_us"] / 1000
        checks[f"{backend}: listing p99 < {TARGET_LIST_P99_MS:g} ms ({p99:.1f} ms)"] = p99 < TARGET_LIST_P99_MS
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
