"""Names of the synthetic Ankang demo: the pools (``names.toml``) and how names are made.

What: the invented place, unit and person name pools, loaded once from ``names.toml``
(data, not code), and the helpers that turn them into unique names at any ``--scale``:
Chinese numerals, de-duplication with （二）, （三）..., and seeded prefix+suffix pairs.

Why: names are data a reader may want to change (or translate) without touching the
geometry; keeping them apart also keeps the generator's modules about one thing each.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

_POOLS = tomllib.loads((Path(__file__).with_name("names.toml")).read_text(encoding="utf-8"))

DISTRICT_BASES: list[str] = _POOLS["district_bases"]
RIVER_NAME: str = _POOLS["river_name"]
DEPARTMENTS: list[str] = _POOLS["departments"]
IDLE_DEPARTMENT: str = _POOLS["idle_department"]
COUNTIES: list[str] = _POOLS["counties"]
MORE_COUNTIES: list[str] = _POOLS["more_counties"]
COMPANIES: list[str] = _POOLS["companies"]
STREET_PREFIXES: list[str] = _POOLS["street_prefixes"]
STREET_SUFFIXES: list[str] = _POOLS["street_suffixes"]
SURNAMES: list[str] = _POOLS["surnames"]
GIVEN_CHARS: list[str] = _POOLS["given_chars"]
VILLAGE_SUFFIXES: list[str] = _POOLS["village_suffixes"]
COMPOUND_PREFIXES: list[str] = _POOLS["compound_prefixes"]
COMPOUND_SUFFIXES: list[str] = _POOLS["compound_suffixes"]
ENTRANCE_ROADS: list[str] = _POOLS["entrance_roads"]
SIDE_WORD: dict[str, str] = _POOLS["side_word"]
GRADES4: list[str] = _POOLS["grades4"]

_CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """Chinese numeral for 1 <= n < 10000 (used to number repeated place names)."""
    if n <= 0:
        raise ValueError(n)
    if n >= 10000:
        return str(n)
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    out = ""
    gap = False
    for value, word in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit:
            if gap:
                out += "零"
            out += _CN_DIGITS[digit] + word
            gap = False
        elif out:
            gap = True
    return out


def dedupe(names: Sequence[str]) -> list[str]:
    """Make names unique by appending （二）, （三）... to repeats, keeping order."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        candidate, k = name, 1
        while candidate in seen:
            k += 1
            candidate = f"{name}（{cn_number(k)}）"
        seen.add(candidate)
        out.append(candidate)
    return out


def combo_names(
    rng: np.random.Generator,
    n: int,
    prefixes: Sequence[str],
    suffixes: Sequence[str],
    numbered: Callable[[str, str, int], str],
) -> list[str]:
    """n distinct names prefix+suffix in a seeded order; numbered variants once exhausted.

    Why: place names must be unique within a layer at any --scale, yet read
    naturally (幸福巷, then 幸福二巷 when the pool runs out).
    """
    combos = [(p, s) for p in prefixes for s in suffixes]
    order = rng.permutation(len(combos))
    names: list[str] = []
    round_no = 1
    while len(names) < n:
        for i in order:
            p, s = combos[int(i)]
            names.append(p + s if round_no == 1 else numbered(p, s, round_no))
            if len(names) == n:
                break
        round_no += 1
    return dedupe(names)
