"""Synthetic cases for the demo (示例数据): months of reports and what became of them.

What: ``make_cases`` draws N cases over the six months before a fixed base date
(2026-06-01 to 2026-11-30, Beijing time), placed on the demo's places the way a campaign's
inspections find them: most on back streets and in urban villages, then compounds,
facilities, the riverbanks and the entrances, a few on ground nobody listed (the district
HQ's).  Each case gets a story: the unit holding the place rectifies it (most within the
category's deadline and an inspector closes it soon after, so most cases close on time; a
few units slowly, leaving some undone), or the inspector sends it back (rework); now and
then a unit disputes the case and the office passes it to the district HQ, or the office
postpones it; cases whose steps fall after the base date are still open.

Two files are written: ``cases.csv`` in the inspection-round format that
``respmap cases import`` reads (ref, lon, lat, crs, category, note, time: the reports
alone), and ``case_events.csv`` (ref, at, action, role, note, due_at, unit_id: the steps after
the report).  ``replay_cases`` puts both into the dataset's case store through
``cases.service.CaseService`` with a clock set to each step's time, so the store holds
the history as if it had happened (dispatch times, deadlines, overdue, rework).

Why: assessment, bulletins and the dashboard need a believable record to show; the
record is deterministic (its own generator, seeded from the demo's seed) and never
changes the dataset files.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from .model import Demo, to_lonlat

ZONE = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
PERIOD_START = dt.datetime(2026, 6, 1, tzinfo=ZONE)
PERIOD_END = dt.datetime(2026, 12, 1, tzinfo=ZONE)  # the base date: every step before it, before today
SLOW_UNITS = 8  # units that rectify late more often than not

# Where inspections find problems: layer, share of cases, categories (code, weight).
PLACES: tuple[tuple[str, float, tuple[tuple[str, float], ...]], ...] = (
    (
        "back_streets",
        0.42,
        (
            ("exposed_garbage", 4),
            ("dirty_road", 3),
            ("street_vending", 2),
            ("illegal_ads", 1.5),
            ("overflowing_bin", 1),
        ),
    ),
    ("urban_villages", 0.27, (("exposed_garbage", 4), ("accumulated_waste", 3), ("illegal_ads", 1), ("dirty_road", 1))),
    ("unmanaged_compounds", 0.14, (("accumulated_waste", 3), ("exposed_garbage", 3), ("illegal_ads", 2))),
    ("facilities", 0.07, (("overflowing_bin", 3), ("dirty_toilet", 3), ("facility_damaged", 1))),
    ("riverbank_segments", 0.05, (("dirty_water", 3), ("exposed_garbage", 1), ("dirty_green", 1))),
    ("city_entrances", 0.02, (("dirty_road", 3), ("dirty_green", 1))),
    ("districts", 0.03, (("exposed_garbage", 2), ("accumulated_waste", 1), ("illegal_ads", 1))),
)
DEADLINE_HOURS = {
    "exposed_garbage": 2,
    "accumulated_waste": 24,
    "dirty_road": 4,
    "dirty_water": 24,
    "dirty_green": 24,
    "illegal_ads": 24,
    "street_vending": 4,
    "overflowing_bin": 4,
    "dirty_toilet": 4,
    "facility_damaged": 72,
}  # the store's built-in categories (cases/categories.py); used to time the stories
NOTES = {
    "exposed_garbage": ("路边堆放生活垃圾", "墙角散落垃圾袋", "巷口有暴露垃圾", "绿化带内有垃圾"),
    "accumulated_waste": ("楼道堆积杂物", "空地积存建筑渣土", "院内积存垃圾多日"),
    "dirty_road": ("路面油污未清", "路面有积水和泥沙", "落叶未清扫"),
    "dirty_water": ("岸边漂浮物较多", "水面有垃圾", "河岸有塑料袋"),
    "dirty_green": ("绿地内有烟头纸屑", "树池内有垃圾"),
    "illegal_ads": ("墙上小广告", "电杆上乱贴广告", "门洞内小广告"),
    "street_vending": ("占道摆摊", "店外占道经营"),
    "overflowing_bin": ("果皮箱满溢", "垃圾桶周边散落垃圾"),
    "dirty_toilet": ("公厕地面不洁", "公厕异味明显"),
    "facility_damaged": ("果皮箱破损", "公厕洗手池损坏"),
}
REWORK_NOTES = ("复查未达标：地面仍有垃圾", "复查未达标：只清理了一部分", "复查发现反弹")
DISPUTE_NOTE = "该点位不在本单位责任范围内，请改派"
POSTPONE_NOTE = "需协调清运车辆，申请延期"
CASE_COLUMNS = ("ref", "lon", "lat", "crs", "category", "note", "time")
EVENT_COLUMNS = ("ref", "at", "action", "role", "note", "due_at", "unit_id")


@dataclass
class Step:
    """One step after the report: when, what, by which role, with what."""

    at: dt.datetime
    action: str
    role: str
    note: str = ""
    due_at: dt.datetime | None = None
    unit_id: str = ""


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(ZONE).isoformat(timespec="seconds")


def _points_on(st: Demo, rng: np.random.Generator, layer: str, n: int) -> tuple[np.ndarray, list[str]]:
    """n points (EPSG:4545) on features of a layer, some features hot spots; and their ids."""
    feats = st.layers[layer]
    weight = rng.gamma(0.8, 1.0, len(feats))
    pick = rng.choice(len(feats), size=n, p=weight / weight.sum())
    out = np.empty((n, 2))
    for i, k in enumerate(pick):
        geom = feats[int(k)].geom
        if geom.geom_type == "LineString":
            p = np.array(geom.interpolate(rng.uniform(0.02, 0.98), normalized=True).coords[0])
            out[i] = p + rng.uniform(-4.0, 4.0, 2)
        elif geom.geom_type == "Point":
            out[i] = np.array(geom.coords[0]) + rng.uniform(-3.0, 3.0, 2)
        else:
            inner = shapely.buffer(geom, -5.0) if layer != "districts" else geom
            x0, y0, x1, y1 = inner.bounds
            while True:
                p = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
                if shapely.contains_xy(inner, p[0], p[1]):
                    break
            out[i] = p
    return out, [str(feats[int(k)].props["id"]) for k in pick]


def make_cases(st: Demo, dataset: Path, n: int) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """N cases and their steps, deterministic for the demo's seed (see the module docstring)."""
    from geo import load_dataset
    from geo.datums import wgs84_to_gcj02

    rng = np.random.default_rng([st.seed, 2])  # its own stream: the dataset files stay as they are
    shares = np.array([share for _, share, _ in PLACES])
    per_layer = rng.multinomial(n, shares / shares.sum())
    points: list[np.ndarray] = []
    layers: list[str] = []
    categories: list[str] = []
    for (layer, _, kinds), k in zip(PLACES, per_layer, strict=True):
        if k == 0:
            continue
        xy, _ = _points_on(st, rng, layer, int(k))
        points.append(xy)
        layers += [layer] * int(k)
        codes = [code for code, _ in kinds]
        w = np.array([weight for _, weight in kinds])
        categories += [codes[int(i)] for i in rng.choice(len(codes), size=int(k), p=w / w.sum())]
    xy = np.vstack(points)
    ll = shapely.get_coordinates(to_lonlat(shapely.points(xy)))
    order = rng.permutation(len(xy))
    ll, categories = ll[order], [categories[int(i)] for i in order]
    # Report times: spread over the period, more in the summer heat, during working hours.
    days = (PERIOD_END - PERIOD_START).days
    day = np.sort(rng.integers(0, days, n))
    minutes = rng.integers(7 * 60 + 30, 18 * 60 + 30, n)
    reported = [PERIOD_START + dt.timedelta(days=int(d), minutes=int(m)) for d, m in zip(day, minutes, strict=True)]
    ds = load_dataset(dataset)
    # Every assignment of the demo in force over the period is open-ended: one date answers for all.
    found = ds.lookup_many(ll[:, 0], ll[:, 1], date=PERIOD_START.date())
    units = [str(u) for u in found["unit_id"]]
    hq_of = dict(zip(ds.frame["district_id"], ds.frame["fallback_unit"], strict=True))
    hqs = [str(hq_of.get(d, "")) for d in found["district_id"]]
    busy = sorted({u for u in units if u and u not in set(hq_of.values())})
    slow = set(rng.choice(busy, size=min(SLOW_UNITS, len(busy)), replace=False).tolist()) if busy else set()
    gcj = rng.random(n) < 0.25  # reported from a Chinese map app
    glon, glat = wgs84_to_gcj02(ll[:, 0], ll[:, 1])
    case_rows: list[dict[str, str]] = []
    event_rows: list[dict[str, str]] = []
    for i in range(n):
        ref = f"DEMO-{i + 1:05d}"
        lon, lat = (float(glon[i]), float(glat[i])) if gcj[i] else (float(ll[i, 0]), float(ll[i, 1]))
        notes = NOTES[categories[i]]
        case_rows.append(
            {
                "ref": ref,
                "lon": f"{lon:.6f}",
                "lat": f"{lat:.6f}",
                "crs": "gcj02" if gcj[i] else "wgs84",
                "category": categories[i],
                "note": notes[int(rng.integers(len(notes)))],
                "time": _iso(reported[i]),
            }
        )
        steps = _story(rng, reported[i], categories[i], units[i] in slow, hqs[i])
        for step in steps:
            if step.at >= PERIOD_END:
                break  # not yet: the case is still open on the base date
            event_rows.append(
                {
                    "ref": ref,
                    "at": _iso(step.at),
                    "action": step.action,
                    "role": step.role,
                    "note": step.note,
                    "due_at": _iso(step.due_at) if step.due_at else "",
                    "unit_id": step.unit_id,
                }
            )
    return case_rows, event_rows


def _story(rng: np.random.Generator, reported: dt.datetime, category: str, slow: bool, hq: str) -> list[Step]:
    """What happens after the report (dispatch is immediate: an inspector reported it)."""
    deadline = dt.timedelta(hours=DEADLINE_HOURS[category])

    def rectify_after(due: dt.timedelta) -> dt.timedelta:
        # Most units well within the deadline; slow ones late more often than not.
        share = 0.55 + rng.gamma(2.0, 0.45) if slow else rng.beta(2.0, 5.0) * 0.9
        return max(due * float(share), dt.timedelta(minutes=10))

    def check_after() -> dt.timedelta:
        # The inspector checks soon: a case counts as on time only when closed before its deadline.
        return deadline * float(rng.uniform(0.05, 0.3)) + dt.timedelta(minutes=float(rng.uniform(5, 40)))

    steps: list[Step] = []
    now = reported
    u = rng.random()
    if u < 0.015 and hq:  # the unit says it is not theirs; the office passes it to the district HQ
        now += deadline * float(rng.uniform(0.05, 0.3))
        steps.append(Step(now, "dispute", "unit", DISPUTE_NOTE))
        now += dt.timedelta(hours=float(rng.uniform(1, 20)))
        steps.append(Step(now, "reassign", "admin", "改派属地片区指挥部", unit_id=hq))
        due_from = now
    elif u < 0.035:  # the office grants more time
        now += deadline * float(rng.uniform(0.2, 0.8))
        due = now + dt.timedelta(hours=72)
        steps.append(Step(now, "postpone", "admin", POSTPONE_NOTE, due_at=due))
        due_from = now
        deadline = dt.timedelta(hours=72)
    else:
        due_from = reported
    if slow and rng.random() < 0.12:
        return steps  # left undone: overdue and open on the base date (the backlog)
    now = due_from + rectify_after(deadline)
    steps.append(Step(now, "rectify", "unit", "已清理"))
    if rng.random() < 0.07:  # sent back once (rework), then done again
        now += check_after()
        notes = REWORK_NOTES
        steps.append(Step(now, "send_back", "inspector", notes[int(rng.integers(len(notes)))]))
        now += rectify_after(deadline)
        steps.append(Step(now, "rectify", "unit", "已重新清理"))
    now += check_after()
    steps.append(Step(now, "close", "inspector", "复查合格"))
    return steps


def write_cases(folder: Path, case_rows: Sequence[dict[str, str]], event_rows: Sequence[dict[str, str]]) -> None:
    """cases.csv (what ``respmap cases import`` reads) and case_events.csv, UTF-8 with LF."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, columns, rows in (
        ("cases.csv", CASE_COLUMNS, case_rows),
        ("case_events.csv", EVENT_COLUMNS, event_rows),
    ):
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


class ReplayError(ValueError):
    """A cases file that cannot be replayed; the message names the file, row and field."""


def _read_rows(path: Path, columns: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """(row number as a spreadsheet shows it, row) of a CSV that must have these columns."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise ReplayError(f"{path.name}: column(s) missing: {', '.join(missing)}")
            return [(number, row) for number, row in enumerate(reader, start=2)]
    except UnicodeDecodeError as error:
        raise ReplayError(f"{path.name}: not UTF-8 ({error.reason} at byte {error.start})") from None


def _field(path: Path, number: int, row: dict[str, str], name: str, parse: Callable[[str], Any]) -> Any:
    try:
        return parse(row[name] or "")
    except (ValueError, TypeError) as error:
        raise ReplayError(f"{path.name} row {number} ({row.get('ref', '')}): {name} {row[name]!r}: {error}") from None


def replay_cases(dataset: Path, folder: Path, *, by: str = "示例数据") -> dict[str, int]:
    """Put cases.csv and case_events.csv into the dataset's case store, each step at its time.

    Resumable: a case already in the store (same ref) is not reported twice, and only the
    steps it does not have yet are taken.  Returns counts of cases created, found already
    there, and steps recorded.  Raises ReplayError (file, row, field) for rows it cannot use
    or steps the store refuses.
    """
    from sqlalchemy import select

    from cases.categories import load_categories
    from cases.errors import CaseError
    from cases.models import Case
    from cases.service import CaseService
    from cases.store import open_store
    from cases.users import Actor
    from geo import load_dataset

    cases_path, events_path = folder / "cases.csv", folder / "case_events.csv"
    cases = _read_rows(cases_path, CASE_COLUMNS)
    steps: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in _read_rows(events_path, EVENT_COLUMNS):
        steps.setdefault(row["ref"], []).append((number, row))
    ds = load_dataset(dataset)
    store = open_store(Path(dataset))
    moment = {"now": PERIOD_START}
    service = CaseService(store, ds, load_categories(Path(dataset)), clock=lambda: moment["now"])
    office = Actor(None, by, "admin")
    inspector = Actor(None, by, "inspector")
    counts = {"created": 0, "already": 0, "steps": 0}
    keys = [f"demo-case:{row['ref']}" for _, row in cases]
    with store.reading() as session:
        present = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            present |= set(session.scalars(select(Case.idempotency_key).where(Case.idempotency_key.in_(chunk))))
    for number, row in cases:
        at = _field(cases_path, number, row, "time", dt.datetime.fromisoformat)
        moment["now"] = at
        try:
            case = service.create(
                office,
                lon=_field(cases_path, number, row, "lon", float),
                lat=_field(cases_path, number, row, "lat", float),
                crs=row["crs"] or "wgs84",
                category=row["category"],
                note=row["note"],
                at=at,
                idempotency_key=(key := f"demo-case:{row['ref']}"),
            )
        except (CaseError, ValueError) as error:  # ValueError: an unknown crs
            message = getattr(error, "message", str(error))
            raise ReplayError(f"{cases_path.name} row {number} ({row['ref']}): {message}") from None
        taken = len(case["events"]) - 2  # report and dispatch come with the case
        counts["already" if key in present else "created"] += 1
        unit = next(
            (u["unit_id"] for u in case["units"] if u["role"] in ("lead", "shared", "fallback", "manual")), None
        )
        for k, (step_number, step) in enumerate(steps.get(row["ref"], [])):
            if step["unit_id"]:
                unit = step["unit_id"]
            if k < taken:
                continue  # recorded by an earlier run
            moment["now"] = _field(events_path, step_number, step, "at", dt.datetime.fromisoformat)
            due = _field(
                events_path, step_number, step, "due_at", lambda s: dt.datetime.fromisoformat(s) if s else None
            )
            actor = {"admin": office, "inspector": inspector}.get(step["role"]) or Actor(None, by, "unit", unit)
            try:
                service.act(
                    actor,
                    case["case_id"],
                    step["action"],
                    note=step["note"],
                    due_at=due,
                    unit_id=step["unit_id"] or None,
                )
            except CaseError as error:
                raise ReplayError(
                    f"{events_path.name} row {step_number} ({step['ref']}, {step['action']}): {error.message}"
                ) from None
            counts["steps"] += 1
    return counts


def summary(case_rows: Sequence[dict[str, str]], event_rows: Sequence[dict[str, str]]) -> str:
    """One line: how many cases, reworks, disputes, postponements and still open."""
    closed = {r["ref"] for r in event_rows if r["action"] == "close"}
    count = {a: sum(1 for r in event_rows if r["action"] == a) for a in ("send_back", "dispute", "postpone")}
    return (
        f"{len(case_rows)} cases, {count['send_back']} sent back, {count['dispute']} disputed, "
        f"{count['postpone']} postponed, {len(case_rows) - len(closed)} open on {PERIOD_END.date()}"
    )
