"""How an assessment turns indicators into points: ``[assessment]`` in ``catalog.toml``, or the built-in default.

City rules (考核办法) score each unit out of 100 from a few indicators, each
with a weight, a threshold for full marks and a deduction below it; for
example "on-time rate: 50 points; 70 % or more scores full marks; one point
off for every percentage point below". respmap scores the same way:

==================  ======  ====================================  =========================================
indicator           weight  full marks when                       deduction
==================  ======  ====================================  =========================================
on_time_rate        50      at least 70 % closed on time          1 point per percentage point below
close_rate          20      at least 90 % of the cases closed      1 point per percentage point below
overdue_open        15      no case overdue and open at the end   1 point per such case
rework              5       no case sent back                     0.5 point per send-back
density             10      at most 2 cases per 10,000 m² a month 1 point per case per 10,000 m² a month above
==================  ======  ====================================  =========================================

A component never goes below 0 nor above its weight. A rate with nothing to
measure (no case was due: 0 / 0) scores full marks: a unit with no cases on
the ground it holds is doing well, not missing. Density is cases per
10,000 m² of held ground per 30 days, so a month and a year are scored alike;
a unit holding no area (only points) scores density full marks.

A dataset overrides any of it (keys left out keep their default)::

    [assessment]
    best_worst = 3                 # how many best and worst units a bulletin names
    worst_overdue = 10             # how many overdue cases a bulletin lists, with photos

    [assessment.on_time_rate]
    weight = 50
    full_at_percent = 70
    points_per_percent = 1

    [assessment.overdue_open]
    weight = 15
    points_per_case = 1

    [assessment.density]
    weight = 10
    full_at_per_10000m2_month = 2
    points_per_case_per_10000m2_month = 1

The section is read from ``catalog.toml`` directly (the typed catalog does not
carry it). Mistakes are reported as :class:`AssessmentRulesError` naming the
file, the table and the key, e.g. ``catalog.toml [assessment.on_time_rate]
weight: must be a number >= 0, not 'fifty'``.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from geo.dataset import Dataset

CATALOG_FILE = "catalog.toml"


class AssessmentRulesError(ValueError):
    """``[assessment]`` in catalog.toml cannot be used; the message names the file, table and key."""


@dataclass(frozen=True, slots=True)
class RateRule:
    """A rate where higher is better: full ``weight`` at ``full_at_percent`` or more, then a deduction per point."""

    weight: float
    full_at_percent: float
    points_per_percent: float

    def points(self, rate: np.ndarray) -> np.ndarray:
        """Points for rates in 0..1 (NaN: nothing to measure, full marks)."""
        rate = np.asarray(rate, dtype=float)
        short_percent = np.maximum(self.full_at_percent - rate * 100.0, 0.0)
        points = np.clip(self.weight - short_percent * self.points_per_percent, 0.0, self.weight)
        return np.where(np.isnan(rate), self.weight, points)


@dataclass(frozen=True, slots=True)
class CountRule:
    """A count where fewer is better: ``points_per_case`` off ``weight`` per case."""

    weight: float
    points_per_case: float

    def points(self, count: np.ndarray) -> np.ndarray:
        count = np.asarray(count, dtype=float)
        return np.clip(self.weight - count * self.points_per_case, 0.0, self.weight)


@dataclass(frozen=True, slots=True)
class DensityRule:
    """Cases per 10,000 m² of held ground per 30 days: full marks up to a threshold, a deduction above."""

    weight: float
    full_at_per_10000m2_month: float
    points_per_case_per_10000m2_month: float

    def points(self, density: np.ndarray) -> np.ndarray:
        """Points for densities (NaN: no held area to measure on, full marks)."""
        density = np.asarray(density, dtype=float)
        over = np.maximum(density - self.full_at_per_10000m2_month, 0.0)
        points = np.clip(self.weight - over * self.points_per_case_per_10000m2_month, 0.0, self.weight)
        return np.where(np.isnan(density), self.weight, points)


@dataclass(frozen=True, slots=True)
class AssessmentRules:
    """Weights and thresholds of the score; ``source`` says where they came from."""

    on_time_rate: RateRule = field(default_factory=lambda: RateRule(50.0, 70.0, 1.0))
    close_rate: RateRule = field(default_factory=lambda: RateRule(20.0, 90.0, 1.0))
    overdue_open: CountRule = field(default_factory=lambda: CountRule(15.0, 1.0))
    rework: CountRule = field(default_factory=lambda: CountRule(5.0, 0.5))
    density: DensityRule = field(default_factory=lambda: DensityRule(10.0, 2.0, 1.0))
    best_worst: int = 3
    worst_overdue: int = 10
    source: str = "default"

    @property
    def max_score(self) -> float:
        """The score of a unit with full marks everywhere (100 by default)."""
        return sum(getattr(self, name).weight for name in COMPONENTS)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready rules, as shown beside every assessment so that a score can be checked by hand."""
        out: dict[str, Any] = {name: asdict(getattr(self, name)) for name in COMPONENTS}
        out.update(
            best_worst=self.best_worst, worst_overdue=self.worst_overdue, max_score=self.max_score, source=self.source
        )
        return out


# Score components in the order documents show them.
COMPONENTS: tuple[str, ...] = ("on_time_rate", "close_rate", "overdue_open", "rework", "density")
_KEYS: dict[str, tuple[str, ...]] = {
    "on_time_rate": ("weight", "full_at_percent", "points_per_percent"),
    "close_rate": ("weight", "full_at_percent", "points_per_percent"),
    "overdue_open": ("weight", "points_per_case"),
    "rework": ("weight", "points_per_case"),
    "density": ("weight", "full_at_per_10000m2_month", "points_per_case_per_10000m2_month"),
}
_LIMITS: dict[str, float] = {"weight": 1000.0, "full_at_percent": 100.0}


def rules_from_toml(raw: dict[str, Any], source: str = CATALOG_FILE) -> AssessmentRules:
    """Rules from a parsed catalog (the whole TOML document); no ``[assessment]`` gives the default.

    Raises:
        AssessmentRulesError: an unknown table or key, or a value that is not a sensible number.
    """
    section = raw.get("assessment")
    if section is None:
        return AssessmentRules()
    if not isinstance(section, dict):
        raise AssessmentRulesError(f"{source}: [assessment] must be a table")
    rules = AssessmentRules(source=source)
    for key, value in section.items():
        if key in COMPONENTS:
            if not isinstance(value, dict):
                raise AssessmentRulesError(f"{source}: [assessment.{key}] must be a table")
            current = getattr(rules, key)
            changes: dict[str, float] = {}
            for option, number in value.items():
                if option not in _KEYS[key]:
                    raise AssessmentRulesError(
                        f"{source} [assessment.{key}] {option}: unknown key (known: {', '.join(_KEYS[key])})"
                    )
                changes[option] = _number(number, source, f"[assessment.{key}] {option}", _LIMITS.get(option))
            rules = replace(rules, **{key: replace(current, **changes)})
        elif key in ("best_worst", "worst_overdue"):
            count = _number(value, source, f"[assessment] {key}", 1000.0)
            if count != int(count):
                raise AssessmentRulesError(f"{source} [assessment] {key}: must be a whole number, not {value!r}")
            rules = replace(rules, **{key: int(count)})
        else:
            known = ", ".join((*COMPONENTS, "best_worst", "worst_overdue"))
            raise AssessmentRulesError(f"{source} [assessment] {key}: unknown key (known: {known})")
    if rules.max_score <= 0:
        raise AssessmentRulesError(f"{source} [assessment]: the weights add up to 0; give at least one a weight")
    return rules


def _number(value: object, source: str, where: str, upper: float | None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise AssessmentRulesError(f"{source} {where}: must be a number >= 0, not {str(value)[:40]!r}")
    number = float(value)
    if number < 0:
        raise AssessmentRulesError(f"{source} {where}: must be a number >= 0, not {value!r}")
    if upper is not None and number > upper:
        raise AssessmentRulesError(f"{source} {where}: {value!r} is more than {upper:g}")
    return number


def rules_for(ds: Dataset | None) -> AssessmentRules:
    """The rules of a dataset: its ``catalog.toml`` ``[assessment]``, else the default."""
    if ds is None:
        return AssessmentRules()
    path = Path(ds.path) / CATALOG_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return AssessmentRules()  # the loader has already reported an unreadable catalog
    return rules_from_toml(raw, str(path))
