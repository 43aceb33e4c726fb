"""The coverage map's cases layer: open, overdue, rectified and closed cases, clustered, with filters.

On the served map (``/map``) the page fetches ``GET /cases`` with the browser's session, so
each person sees what the engine lets them see (the office all, an inspector their reports,
a unit its own cases); signed out, the layer offers the sign-in page instead of asking. In a
file written by ``respmap map -o`` the layer exists only when cases are passed in, and then
carries them inside the page (no photos: a file has no server to fetch them from).

Markers are clustered with Leaflet.markercluster (npm, served or inlined like Leaflet, see
:mod:`maps.vendor`); ``maps/assets/cases-layer.js`` draws them, the filter control (state
group, category, period) and the popup (the case's history and photos) with text nodes only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# State groups the layer colours and filters by (a case's group: see ``group_of``).
GROUPS = ("open", "overdue", "rectified", "closed")
GROUP_COLOURS = {"open": "#1f6feb", "overdue": "#d7191c", "rectified": "#1a9641", "closed": "#7f7f7f"}
# At most this many cases in one served answer (GET /cases' own ceiling).
SERVED_LIMIT = 1000

CASE_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "cases_title": "案件",
        "cases_group_open": "办理中",
        "cases_group_overdue": "已超期",
        "cases_group_rectified": "已整改待核查",
        "cases_group_closed": "已结案",
        "cases_category": "类别",
        "cases_all_categories": "全部类别",
        "cases_from": "自",
        "cases_to": "至",
        "cases_sign_in": "登录后显示案件",
        "cases_loading": "正在加载案件…",
        "cases_failed": "无法加载案件",
        "cases_more": "只显示了前 {n} 件",
        "cases_history": "办理经过",
        "cases_due": "限期",
        "cases_reported": "上报于",
        "cases_units": "责任单位",
        "cases_id": "案件",
    },
    "en": {
        "cases_title": "Cases",
        "cases_group_open": "Open",
        "cases_group_overdue": "Overdue",
        "cases_group_rectified": "Rectified, to check",
        "cases_group_closed": "Closed",
        "cases_category": "Category",
        "cases_all_categories": "All categories",
        "cases_from": "From",
        "cases_to": "To",
        "cases_sign_in": "Sign in to see cases",
        "cases_loading": "Loading cases…",
        "cases_failed": "Could not load the cases",
        "cases_more": "Only the first {n} are shown",
        "cases_history": "History",
        "cases_due": "Due",
        "cases_reported": "Reported",
        "cases_units": "Responsible",
        "cases_id": "Case",
    },
}

# What a case carries into a page written to a file (the engine's JSON, minus people).
_STATIC_KEYS = (
    "case_id",
    "state",
    "state_name",
    "category",
    "category_name",
    "lon",
    "lat",
    "reported_at",
    "due_at",
    "overdue",
    "district_name",
    "note",
)
_EVENT_KEYS = ("at", "action", "action_name", "note")


def group_of(case: Mapping[str, Any]) -> str:
    """The layer's group of a case: closed (or rejected), rectified, overdue, else open."""
    state = case.get("state")
    if state in ("closed", "rejected"):
        return "closed"
    if state == "rectified":
        return "rectified"
    return "overdue" if case.get("overdue") else "open"


@dataclass(frozen=True)
class CasesLayer:
    """What the cases layer of one map page shows.

    Served: ``cases_url`` (fetched with the session), ``login_url`` offered when signed out,
    ``categories_url`` for the filter, ``prefix`` put before photo paths. Static: ``cases``,
    the engine's case dicts (``CaseService.get`` / ``list``), drawn from the page itself.
    """

    cases_url: str | None = None
    login_url: str | None = None
    categories_url: str | None = None
    prefix: str = ""
    cases: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    @classmethod
    def served(cls, prefix: str = "") -> CasesLayer:
        """The layer of a page served by ``respmap serve`` under ``prefix``."""
        return cls(
            cases_url=prefix + "/cases",
            login_url=prefix + "/login",
            categories_url=prefix + "/categories",
            prefix=prefix,
        )

    @classmethod
    def static(cls, cases: Iterable[Mapping[str, Any]]) -> CasesLayer:
        return cls(cases=tuple(cases))

    def payload(self, lang: str) -> dict[str, Any]:
        """The page data of the layer (words, colours, and where the cases come from)."""
        words = CASE_LABELS.get(lang, CASE_LABELS["zh"])
        base: dict[str, Any] = {"labels": words, "groups": list(GROUPS), "colours": GROUP_COLOURS}
        if self.cases_url is not None:
            return {
                **base,
                "mode": "served",
                "url": self.cases_url,
                "login_url": self.login_url,
                "categories_url": self.categories_url,
                "prefix": self.prefix,
                "limit": SERVED_LIMIT,
            }
        return {**base, "mode": "static", "cases": [_static_case(c) for c in self.cases]}


def _static_case(case: Mapping[str, Any]) -> dict[str, Any]:
    out = {key: case.get(key) for key in _STATIC_KEYS}
    feature = case.get("feature") or {}
    out["feature"] = {"name": feature.get("name"), "feature_id": feature.get("feature_id")} if feature else None
    out["units"] = [{"unit_id": u.get("unit_id"), "name": u.get("name")} for u in case.get("units") or []]
    out["events"] = [{key: e.get(key) for key in _EVENT_KEYS} for e in case.get("events") or []]
    out["group"] = group_of(case)
    return out
