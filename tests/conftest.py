"""Fixtures shared by every test package: the demo and the mini dataset.

Loading is done once per session; a Dataset is immutable, so sharing it
between tests is safe.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import Dataset, load_dataset

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
DEMO_DIR = REPO / "layers" / "ankang"
MINI_DIR = TESTS / "data" / "mini"


@pytest.fixture(scope="session")
def demo_ds() -> Dataset:
    """The bundled Ankang demo (synthetic), loaded once."""
    return load_dataset(DEMO_DIR)


@pytest.fixture(scope="session")
def mini_ds() -> Dataset:
    """tests/data/mini: two 1 km districts drawn in EPSG:4545 metres.

    D1 = x 600000..601000, D2 = x 601000..602000, both y 3618000..3619000.
    C1 and C2 are 10 m squares overlapping by 25 m² (units U1 and U2); C3 is
    held by nobody. Street S1 is 1200 m long: U1 holds 0-400 m, U2 400-1000 m,
    1000-1200 m nobody; U3 supervises all of it. S2 changed from U1 to U3 on
    2026-01-01.
    """
    return load_dataset(MINI_DIR)
