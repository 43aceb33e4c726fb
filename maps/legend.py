"""The categorical legend of an interactive map: one swatch and label per colour used.

Built here as plain data (colour, label, swatch shape) and drawn in the page
with ``textContent``, so a unit named ``<b>x</b>`` appears as those characters.
Only colours that actually appear on the map get an entry, and every colouring
ends with the overlays that are always there (nobody holds, conflicts, gaps,
district boundaries), so the legend never shows a colour bar or a colour the
map does not use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from maps.palette import CONFLICT_COLOUR, DISTRICT_OUTLINE, FALLBACK_COLOUR, GAP_COLOUR, STATUS_COLOURS, UNHELD_COLOUR
from maps.popups import labels


@dataclass(frozen=True, slots=True)
class LegendEntry:
    colour: str
    label: str
    swatch: str = "fill"  # fill | line | outline | hatch

    def to_json(self) -> list[str]:
        return [self.colour, self.label, self.swatch]


# A legend longer than this is not read; the rest is summarised in one line (search finds any unit).
MAX_UNIT_ENTRIES = 60


@dataclass(slots=True)
class Legend:
    title: str
    entries: list[LegendEntry] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def add(self, colour: str, label: str, swatch: str = "fill") -> None:
        if (colour, label) not in self._seen:
            self._seen.add((colour, label))
            self.entries.append(LegendEntry(colour, label, swatch))

    def to_json(self) -> dict:
        return {"title": self.title, "entries": [e.to_json() for e in self.entries]}


def unit_legend(
    lang: str,
    units: Iterable[tuple[str, str]],
    *,
    has_unheld: bool,
    faint_colour: str | None = None,
    faint_label: str | None = None,
) -> Legend:
    """Legend for colouring by unit: ``units`` are (colour, unit name) pairs in display order."""
    words = labels(lang)
    legend = Legend(words["colour_unit"])
    shown = list(units)
    for colour, name in shown[:MAX_UNIT_ENTRIES]:
        legend.add(colour, name)
    if len(shown) > MAX_UNIT_ENTRIES:
        legend.add("#ffffff", words["more_units"].format(n=len(shown) - MAX_UNIT_ENTRIES), "outline")
    if faint_colour:
        legend.add(faint_colour, faint_label or words["other_units"])
    if has_unheld:
        legend.add(UNHELD_COLOUR, words["nobody"])
    return legend


def grade_legend(lang: str, grades: Iterable[tuple[str, str]], *, has_unheld: bool) -> Legend:
    """Legend for colouring by standard grade: (colour, grade label) pairs, strictest first."""
    words = labels(lang)
    legend = Legend(words["colour_standard"])
    for colour, grade in grades:
        legend.add(colour, grade or words["no_grade"])
    if has_unheld:
        legend.add(UNHELD_COLOUR, words["nobody"], "outline")
    return legend


def status_legend(lang: str, statuses: Iterable[str]) -> Legend:
    """Legend for colouring by coverage status; always lists all four statuses.

    A planner reads "no purple" as "no conflicts" only if purple is in the
    legend, so statuses that do not occur are listed too.
    """
    words = labels(lang)
    legend = Legend(words["colour_coverage"])
    present = set(statuses)
    names = {
        "held": words["held"],
        "unheld": words["nobody"],
        "conflict": words["claimed_twice"],
        "fallback": words["fallback_only"],
    }
    for status in ("held", "unheld", "conflict", "fallback"):
        legend.add(
            STATUS_COLOURS[status], names[status] + ("" if status in present or status == "fallback" else " (0)")
        )
    return legend


def finish(legend: Legend, lang: str, *, has_districts: bool, has_gaps: bool, has_conflicts: bool) -> Legend:
    """Append the overlay entries common to every colouring."""
    words = labels(lang)
    if has_conflicts:
        legend.add(CONFLICT_COLOUR, words["conflict"], "hatch")
    if has_gaps:
        legend.add(GAP_COLOUR, words["gap"], "hatch")
    if has_districts:
        legend.add(DISTRICT_OUTLINE, words["districts_outline"], "outline")
    return legend


__all__ = ["FALLBACK_COLOUR", "Legend", "LegendEntry", "finish", "grade_legend", "status_legend", "unit_legend"]
