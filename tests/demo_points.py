"""Places and ids of the bundled demo (``layers/ankang``) that tests rely on, in one place.

What: each point names a spot of the demo and what a lookup there must answer (on the
first stretch of a street split between two units, the same spot in GCJ-02, inside an
urban village, answered by a district HQ only, on a street's unheld stretch, outside
every district), and the ids of the planted problems that ``layers/ankang/README.md``
lists (nobody holds it, two units claim the same ground, an unheld stretch, an idle unit,
units short of staff).

Why: the demo is generated (``layers/generate_demo.py``); when it is regenerated these
values change together, here, and ``tests/data/test_generate_demo.py`` checks every one of
them against the committed demo, so a stale value fails there with its meaning named
rather than somewhere far away.
"""

from __future__ import annotations

from typing import NamedTuple


class DemoPoint(NamedTuple):
    """A spot of the demo: longitude, latitude (WGS-84 unless the name says otherwise)."""

    lon: float
    lat: float


# A back street in the old town split between two lead units (汉江路北段, district D08 老城).
SPLIT_STREET = "BS075"
SPLIT_STREET_UNITS = ("CP01", "DEP29")  # lead of 0-270 m, lead of 270-458.3 m
SPLIT_STREET_CUT_M = 270.0
# Halfway along its first stretch (the README tour's `respmap lookup` point) ...
ON_SPLIT_STRETCH = DemoPoint(109.024234, 32.685286)
# ... and the same spot as a Chinese map app (GCJ-02) gives it, about 500 m away in numbers.
ON_SPLIT_STRETCH_GCJ02 = DemoPoint(109.02908, 32.683202)
SPLIT_STREET_DISTRICT = "D08"

# Inside urban village UV001 程家坪村 (lead SO01), away from every street.
VILLAGE = "UV001"
VILLAGE_LEAD = "SO01"
IN_VILLAGE = DemoPoint(109.004658, 32.713253)

# Inside district D05 far from every place: only its headquarters answers (属地兜底).
FALLBACK_DISTRICT = "D05"
FALLBACK_UNIT = "HQ05"
FALLBACK_ONLY = DemoPoint(109.044, 32.699)

# West of the town: outside every district.
OUTSIDE_FRAME = DemoPoint(108.95, 32.69)

# Planted problems (layers/ankang/README.md, "Planted problems").
UNHELD_COMPOUND = "UC023"  # 1. nobody holds it
OVERLAP_PAIR = ("UC029", "UC030")  # 2. two units claim the same ground ...
OVERLAP_LEADS = ("CM040", "CM038")  # ... their lead units, in the pair's order
OVERLAP_UNITS = ("CM038", "CM040", "DEP03")  # every unit of either compound (UC030 has a shared unit)
GAP_STREET = "BS055"  # 3. held 0-300 m only ...
GAP_HELD_TO_M = 300.0
GAP_LENGTH_M = 494.6  # ... of its length (EPSG:4545, rounded down to 0.1 m)
ON_UNHELD_STRETCH = DemoPoint(108.997561, 32.691845)  # on BS055 at 310 m: nobody holds it
IDLE_UNIT = "DEP33"  # 4. holds nothing
SHORT_UNITS = frozenset({"CM005", "CM008", "CM075", "SO10"})  # short of staff for their workload

COUNTS = {
    "districts": 16,
    "urban_villages": 24,
    "back_streets": 177,
    "unmanaged_compounds": 65,
    "city_entrances": 6,
    "riverbank_segments": 8,
    "facilities": 150,
}
