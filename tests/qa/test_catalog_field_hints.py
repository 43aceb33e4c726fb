"""A catalog naming a property the file does not have says which ones it does have.

Writing a catalog for a foreign file is mostly guessing property names; a
wrong case (``responsible`` for ``Responsible``) only got "is not a property
of any feature", and the user had to open the file to see what was there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geo import load_dataset

WARDS = Path(__file__).resolve().parents[1] / "data" / "qa" / "wards_lv95"


def _messages_with(tmp_path: Path, old: str, new: str) -> list[str]:
    folder = tmp_path / "wards"
    shutil.copytree(WARDS, folder)
    catalog = folder / "catalog.toml"
    text = catalog.read_text(encoding="utf-8")
    assert old in text
    catalog.write_text(text.replace(old, new), encoding="utf-8")
    return [f.message for f in load_dataset(folder).findings if f.code == "field_missing"]


@pytest.mark.parametrize(
    ("old", "new", "hint"),
    [
        ('unit_field = "Responsible"', 'unit_field = "responsible"', "did you mean 'Responsible'?"),  # wrong case
        ('id_field = "WARD_NO"', 'id_field = "WARDNO"', "did you mean 'WARD_NO'?"),  # a missing underscore
        ('name_field = "WARD_NAME"', 'name_field = "Name"', "did you mean 'WARD_NAME'?"),  # a part of the name
        # nothing like it: the properties are listed
        ('name_field = "WARD_NAME"', 'name_field = "Titel"', "the properties are: WARD_NO, WARD_NAME, Responsible"),
        ('fallback_unit_field = "Zuständig"', 'fallback_unit_field = "zustandig"', "did you mean 'Zuständig'?"),
    ],
)
def test_missing_property_names_the_ones_there_are(tmp_path: Path, old: str, new: str, hint: str) -> None:
    messages = _messages_with(tmp_path, old, new)
    assert any(hint in m for m in messages), messages
