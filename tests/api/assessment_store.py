"""A case store filled through the real engine at known times, for the assessment's CLI and HTTP tests.

November 2026 on tests/data/mini (Ankang time; exposed garbage has a 2-hour deadline):

- A on street S1 0-400 m (U1): reported 11-02 09:00, rectified 10:30, closed 11:00 exactly at the deadline;
- B on S1 400-1000 m (U2): reported 11-03 09:00, rectified 10:50, closed 11:01: one minute late;
- C in compound C1 (U1): reported 11-05 09:00 with a photo, nothing since: overdue and open;
- D in compound C3, held by nobody (HQ2, the fallback): reported 11-06 09:00, rectified and closed in time.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from pyproj import Transformer

from cases.categories import load_categories
from cases.service import CaseService, Upload
from cases.store import Store, open_store, store_config
from cases.users import Actor, add_user
from geo import Dataset

MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
BEIJING = dt.timezone(dt.timedelta(hours=8))
TO_LONLAT = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
POINTS = {
    "A": (600200.0, 3618800.0),  # S1 0-400 m: U1
    "B": (600700.0, 3618800.0),  # S1 400-1000 m: U2
    "C": (600102.0, 3618102.0),  # compound C1: U1
    "D": (601550.0, 3618550.0),  # compound C3: nobody, so HQ2
}


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2026-{text}").replace(tzinfo=BEIJING).astimezone(dt.UTC)


@dataclass
class FilledStore:
    url: str
    data_dir: Path
    store: Store
    ids: dict[str, str]
    admin_token: str
    unit_token: str


class _Clock:
    def __init__(self) -> None:
        self.now = local("11-01 08:00")

    def __call__(self) -> dt.datetime:
        return self.now


def photo_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def filled_store(migrated_sqlite: Path, tmp_path: Path, mini_ds: Dataset) -> Iterator[FilledStore]:
    target = tmp_path / "store.sqlite3"
    shutil.copyfile(migrated_sqlite, target)
    url = f"sqlite:///{target}"
    store = open_store(config=store_config(url=url, data_dir=tmp_path / "data"))
    clock = _Clock()
    service = CaseService(store, mini_ds, load_categories(mini_ds.path), clock=clock)
    office = Actor(None, "office", "admin")
    ids: dict[str, str] = {}

    def report(key: str, at: str, photo: bytes | None = None) -> None:
        clock.now = local(at)
        lon, lat = TO_LONLAT.transform(*POINTS[key])
        upload = Upload(photo, "c.jpg") if photo else None
        case = service.create(office, lon=lon, lat=lat, category="exposed_garbage", at=clock.now, photo=upload)
        ids[key] = case["case_id"]

    def act(key: str, at: str, action: str) -> None:
        clock.now = local(at)
        service.act(office, ids[key], action, note="ok")

    report("A", "11-02T09:00")
    act("A", "11-02T10:30", "rectify")
    act("A", "11-02T11:00", "close")
    report("B", "11-03T09:00")
    act("B", "11-03T10:50", "rectify")
    act("B", "11-03T11:01", "close")
    report("C", "11-05T09:00", photo_bytes())
    report("D", "11-06T09:00")
    act("D", "11-06T09:30", "rectify")
    act("D", "11-06T10:00", "close")
    admin_token = add_user(store, "chief", "admin")[1]
    unit_token = add_user(store, "u1-clerk", "unit", unit_id="U1")[1]
    try:
        yield FilledStore(url, tmp_path / "data", store, ids, admin_token, unit_token)
    finally:
        store.dispose()
