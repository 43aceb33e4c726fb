"""`respmap build` adds the last month's assessment and bulletin when the store has cases, and
creates no store when there is none."""

from __future__ import annotations

import argparse
import datetime as dt

from api.commands.build import _period_assessment
from cases.categories import load_categories
from cases.service import CaseService
from geo import load_dataset
from tests.cases.conftest import MovableClock
from tests.conftest import MINI_DIR


def test_no_store_no_assessment_and_no_store_created(tmp_path, monkeypatch, mini_ds):
    monkeypatch.delenv("RESPMAP_DATABASE_URL", raising=False)
    monkeypatch.setenv("RESPMAP_DATA_DIR", str(tmp_path / "never"))
    written = _period_assessment(argparse.Namespace(dataset=MINI_DIR), mini_ds, tmp_path / "kit" / "assessment")
    assert written == [] and not (tmp_path / "never").exists()


def test_last_month_assessment_and_bulletin_from_the_store(tmp_path, monkeypatch, mini_ds, people, store_url):
    monkeypatch.setenv("RESPMAP_DATABASE_URL", store_url)
    monkeypatch.setenv("RESPMAP_DATA_DIR", str(tmp_path / "data"))
    from cases.store import open_store, store_config

    store = open_store(config=store_config(url=store_url, data_dir=tmp_path / "data"))
    clock = MovableClock(dt.datetime(2026, 2, 10, 2, 0, tzinfo=dt.UTC))
    service = CaseService(store, mini_ds, load_categories(mini_ds.path), clock=clock)
    case = service.create(people.inspector, lon=600102.0, lat=3618102.0, crs="EPSG:4545", category="exposed_garbage")
    clock.advance(hours=1)
    service.act(people.unit_u1, case["case_id"], "rectify", note="done")
    store.dispose()
    folder = tmp_path / "kit" / "assessment"
    # the kit assesses the last complete month before the dataset's date: February for 5 March
    in_march = load_dataset(MINI_DIR, status_date=dt.date(2026, 3, 5))
    written = _period_assessment(argparse.Namespace(dataset=MINI_DIR), in_march, folder)
    names = sorted(p.name for p in written)
    assert "bulletin-2026-02.pdf" in names and "bulletin-2026-02.docx" in names
    assert (folder / "assessment.json").is_file()
