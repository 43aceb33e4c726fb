"""A GeoPackage holding several layers: each catalog layer reads the one it names.

The districts and the wards of a city often come in one .gpkg. respmap read
the file's first layer for every catalog entry (pyogrio's warning "More than
one layer found" leaking onto the terminal), so the wards were the districts
and every ward property was "not a property". ``layer_name = "..."`` in a
``[[layer]]`` now picks the layer; without it, a layer named like the catalog
layer's id is taken, and otherwise the choice is an error listing the layers.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pyogrio
import pytest

from geo import load_dataset

WARDS = Path(__file__).resolve().parents[1] / "data" / "qa" / "wards_lv95"


@pytest.fixture()
def gpkg_dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "gpkg"
    folder.mkdir()
    for name in ("kreise", "wards"):
        frame = pyogrio.read_dataframe(WARDS / f"{name}.geojson")
        pyogrio.write_dataframe(frame, folder / "city.gpkg", layer=f"{name}_2024", append=name == "wards")
    catalog = (WARDS / "catalog.toml").read_text(encoding="utf-8")
    catalog = catalog.replace('file = "kreise.geojson"', 'file = "city.gpkg"\nlayer_name = "kreise_2024"')
    catalog = catalog.replace('file = "wards.geojson"', 'file = "city.gpkg"\nlayer_name = "wards_2024"')
    (folder / "catalog.toml").write_text(catalog, encoding="utf-8")
    return folder


def test_each_catalog_layer_reads_the_layer_it_names(gpkg_dataset: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_dataset(gpkg_dataset)
    assert [f.message for f in ds.findings if f.level == "error"] == []
    assert sorted(ds.layers["wards"]["feature_id"]) == ["1", "2", "3"]
    assert sorted(ds.layers["kreise"]["feature_id"]) == ["K1", "K2"]
    assert not [w for w in caught if "More than one layer" in str(w.message)]


def test_without_a_layer_key_the_choice_is_named(gpkg_dataset: Path) -> None:
    catalog = gpkg_dataset / "catalog.toml"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace('layer_name = "wards_2024"\n', ""), encoding="utf-8")
    ds = load_dataset(gpkg_dataset)
    errors = [f for f in ds.findings if f.code == "layer_ambiguous"]
    assert len(errors) == 1
    assert "kreise_2024, wards_2024" in errors[0].message and 'layer_name = "..."' in errors[0].message
    assert "wards" not in ds.layers


def test_a_layer_named_like_the_catalog_layer_is_taken(gpkg_dataset: Path) -> None:
    frame = pyogrio.read_dataframe(WARDS / "wards.geojson")
    pyogrio.write_dataframe(frame, gpkg_dataset / "city.gpkg", layer="wards", append=True)
    catalog = gpkg_dataset / "catalog.toml"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace('layer_name = "wards_2024"\n', ""), encoding="utf-8")
    ds = load_dataset(gpkg_dataset)
    assert sorted(ds.layers["wards"]["feature_id"]) == ["1", "2", "3"]


def test_an_unknown_layer_name_lists_the_layers(gpkg_dataset: Path) -> None:
    catalog = gpkg_dataset / "catalog.toml"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace('"wards_2024"', '"wards_2025"'), encoding="utf-8")
    ds = load_dataset(gpkg_dataset)
    messages = [f.message for f in ds.findings if f.code == "layer_missing"]
    assert len(messages) == 1 and "wards_2025" in messages[0] and "kreise_2024, wards_2024" in messages[0]
