"""The planners' edit tools come only with served maps, with their words in both languages.

A map written to a file has no server to send a change to: it carries neither the script nor the
page data. A served page carries both, and the addresses sit under the server's root path.
"""

from __future__ import annotations

import json
import re

from geo import Dataset
from maps.interactive import DATA_ELEMENT_ID, MapOptions, render_map
from maps.planner_edit import EDIT_LABELS, PlannerEdit


def _data(html: str) -> dict:
    found = re.search(rf'<script type="application/json" id="{DATA_ELEMENT_ID}">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_a_file_map_has_no_edit_tools(mini_ds: Dataset) -> None:
    html = render_map(mini_ds, MapOptions())
    assert "planner-edit" not in html and "planner_edit" not in _data(html)


def test_a_served_map_carries_the_tools_under_its_root_path(mini_ds: Dataset) -> None:
    html = render_map(
        mini_ds, MapOptions(), inline=False, prefix="/respmap", planner_edit=PlannerEdit.served("/respmap")
    )
    assert "/respmap/assets/respmap/planner-edit.js" in html and "/respmap/assets/respmap/planner-edit.css" in html
    spec = _data(html)["planner_edit"]
    assert spec["roles"] == ["planner", "admin"]
    assert spec["urls"]["changes"] == "/respmap/assignments/changes"
    assert spec["urls"]["at"] == "/respmap/assignments/at"
    assert spec["labels"]["edit_button"] == "编辑责任"


def test_both_languages_have_every_word() -> None:
    assert set(EDIT_LABELS["zh"]) == set(EDIT_LABELS["en"])
    assert all(text.strip() for words in EDIT_LABELS.values() for text in words.values())
