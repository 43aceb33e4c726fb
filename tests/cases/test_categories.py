"""Categories are data: the built-in national set, a dataset's categories.csv, and bad files named."""

from __future__ import annotations

import shutil

import pytest

from cases.categories import BUILT_IN, CategoryError, load_categories
from tests.conftest import MINI_DIR


def test_built_in_set_without_a_file(mini_ds):
    found = load_categories(mini_ds.path)
    assert found.source == "built-in" and found.items == BUILT_IN
    assert found.get("exposed_garbage").name == "暴露垃圾"
    assert found.get("dirty_water").applies_to == ("riverbank_segments",)


def test_dataset_file_with_chinese_headers_gbk_and_layers(tmp_path):
    shutil.copytree(MINI_DIR, tmp_path / "ds")
    text = "code,name,group,deadline_hours,severity,applies_to\nbins,垃圾桶满溢,环卫设施,6,2,streets;compounds\nads,小广告,宣传,48,,\n"
    (tmp_path / "ds" / "categories.csv").write_bytes(text.encode("gb18030"))
    found = load_categories(tmp_path / "ds")
    assert found.source == "categories.csv"
    assert [(c.code, c.name, c.deadline_hours, c.severity, c.applies_to) for c in found.items] == [
        ("bins", "垃圾桶满溢", 6.0, 2, ("streets", "compounds")),
        ("ads", "小广告", 48.0, 2, ()),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # the deadline is what makes a case overdue: it must be a positive number of hours
        ("code,name,deadline_hours\nx,甲,soon\n", "row 2 (x): deadline_hours"),
        ("code,name,deadline_hours\nx,甲,2\nx,乙,3\n", "row 3: code 'x' appears twice"),
        ("code,name\nx,甲\n", "required column(s) deadline_hours missing"),
        ("code,name,deadline_hours,severity\nx,甲,2,9\n", "severity must be 1, 2 or 3"),
    ],
)
def test_bad_category_files_are_named_by_row_and_field(tmp_path, text, message):
    shutil.copytree(MINI_DIR, tmp_path / "ds")
    (tmp_path / "ds" / "categories.csv").write_text(text, encoding="utf-8")
    with pytest.raises(CategoryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_categories(tmp_path / "ds")
