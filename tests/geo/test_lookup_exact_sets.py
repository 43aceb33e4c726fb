"""The grid index identifies sets of features exactly, even when its fast keys collide (issue 14, item 11).

Cells wholly inside the same polygons share a *signature*. Sets are grouped by sums
of random 64-bit keys; before, a collision of two sums silently merged two different
sets, and every point in the merged cells got the other set's answer. Here the keys
are forced to collide (all zero, or only two values) and the index must still give
every cell its own exact set, and every lookup the same answer as with good keys.
"""

from __future__ import annotations

import numpy as np
import pytest

import geo.lookup_index
from geo import Dataset
from geo.lookup_index import build_geometry_index


def _signature_sets(index: geo.lookup_index.GeometryIndex) -> list[tuple[int, tuple[int, ...]]]:
    """Per padded cell with a signature: its (district, sorted feature ids), as plain tuples."""
    sets = [
        (int(index.sig_district[s]), tuple(index.sig_features[index.sig_ptr[s] : index.sig_ptr[s + 1]].tolist()))
        for s in range(len(index.sig_district))
    ]
    codes = index.cells
    fixed = codes[codes >= 0]
    mixed = index.mixed_sig[-codes[codes < 0] - 1]
    return [sets[c] for c in fixed.tolist()] + [sets[c] for c in mixed.tolist()]


def _collide(kind: str):
    def keys(n_feat: int, n_district: int) -> tuple[np.ndarray, np.ndarray]:
        if kind == "zero":  # every set sums to 0: one class for everything
            return np.zeros(n_feat, np.uint64), np.zeros(n_district + 1, np.uint64)
        # two values only: many different sets of the same size share a sum
        return (np.arange(n_feat) % 2).astype(np.uint64), np.zeros(n_district + 1, np.uint64)

    return keys


@pytest.mark.parametrize("kind", ["zero", "parity"])
def test_forced_collisions_keep_every_set_apart(demo_ds: Dataset, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    honest = build_geometry_index(demo_ds)
    monkeypatch.setattr(geo.lookup_index, "_set_keys", _collide(kind))
    collided = build_geometry_index(demo_ds)
    assert _signature_sets(collided) == _signature_sets(honest)
    # The sets are distinct: one signature per distinct (district, features), none merged.
    distinct = {
        (int(collided.sig_district[s]), tuple(collided.sig_features[collided.sig_ptr[s] : collided.sig_ptr[s + 1]]))
        for s in range(len(collided.sig_district))
    }
    assert len(distinct) == len(collided.sig_district) == len(honest.sig_district)


def test_some_cells_share_a_set_and_some_do_not(demo_ds: Dataset) -> None:
    """The demo has what the test above needs: several polygon sets over many cells."""
    index = build_geometry_index(demo_ds)
    with_polygons = [s for s in range(len(index.sig_district)) if index.sig_ptr[s + 1] > index.sig_ptr[s]]
    assert len(with_polygons) > 10
