"""Hand-made case sets for assessment tests, in the shape of ``cases.frames.case_frames``.

Times are written in Ankang local time (``"11-02 09:00"`` is 2026-11-02 09:00
Asia/Shanghai) and stored in UTC, as the store does.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from geo.assessment import CaseFrames

TIMEZONE = "Asia/Shanghai"
YEAR = 2026


def local(text: str) -> pd.Timestamp:
    """``"11-02 09:00"`` (in 2026) or a full ``"2025-12-20 09:00"`` as a UTC timestamp."""
    full = text if text.count("-") == 2 else f"{YEAR}-{text}"
    return pd.Timestamp(full).tz_localize(TIMEZONE).tz_convert("UTC")


class CaseBook:
    """Builds the three frames one case at a time, keeping the state machine's bookkeeping honest."""

    def __init__(self) -> None:
        self.cases: list[dict[str, Any]] = []
        self.units: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self._state: dict[str, str] = {}

    def report(
        self,
        case_id: str,
        at: str,
        units: tuple[str, ...] = ("U1",),
        *,
        district: str | None = "D1",
        layer: str | None = "compounds",
        deadline_h: float = 24,
        source: str = "inspector",
    ) -> CaseBook:
        """A case reported (and, unless public, dispatched at once with its deadline)."""
        when = local(at)
        self.cases.append(
            {
                "case_id": case_id,
                "category": "exposed_garbage",
                "category_name": "暴露垃圾",
                "severity": 2,
                "source": source,
                "reported_at": when,
                "district_id": district,
                "lon": 108.0 + len(self.cases) * 0.001,
                "lat": 32.7,
                "layer": layer,
                "feature_id": None,
                "feature_name": None,
                "fallback": False,
            }
        )
        for position, unit_id in enumerate(units):
            role = "lead" if position == 0 else "shared"
            self.units.append({"case_id": case_id, "unit_id": unit_id, "role": role, "since": when, "until": pd.NaT})
        self._event(case_id, when, "report", "reported", by_role="inspector" if source != "public" else "public")
        if source != "public":
            self._event(case_id, when, "dispatch", "dispatched", due=when + pd.Timedelta(hours=deadline_h))
        return self

    def act(self, case_id: str, at: str, action: str, *, due: str | None = None) -> CaseBook:
        """Any action other than reassign; ``due`` for postpone (the new deadline given by the office)."""
        to_state = {
            "dispatch": "dispatched",
            "reject": "rejected",
            "rectify": "rectified",
            "dispute": self._state[case_id],
            "postpone": "postponed",
            "close": "closed",
            "send_back": "dispatched",
        }[action]
        self._event(case_id, local(at), action, to_state, due=local(due) if due else None)
        return self

    def reassign(self, case_id: str, at: str, unit_id: str, *, deadline_h: float = 24) -> CaseBook:
        when = local(at)
        for row in self.units:
            if row["case_id"] == case_id and pd.isna(row["until"]):
                row["until"] = when
        self.units.append({"case_id": case_id, "unit_id": unit_id, "role": "manual", "since": when, "until": pd.NaT})
        self._event(case_id, when, "reassign", "dispatched", due=when + pd.Timedelta(hours=deadline_h), unit=unit_id)
        return self

    def _event(
        self,
        case_id: str,
        at: pd.Timestamp,
        action: str,
        to_state: str,
        *,
        due: pd.Timestamp | None = None,
        unit: str | None = None,
        by_role: str = "admin",
    ) -> None:
        seq = sum(1 for e in self.events if e["case_id"] == case_id) + 1
        self.events.append(
            {
                "case_id": case_id,
                "seq": seq,
                "at": at,
                "action": action,
                "from_state": self._state.get(case_id),
                "to_state": to_state,
                "due_at": due if due is not None else pd.NaT,
                "unit_id": unit,
                "by_role": by_role,
            }
        )
        self._state[case_id] = to_state

    def frames(self) -> CaseFrames:
        cases = pd.DataFrame(self.cases, columns=CASE_COLUMNS)
        cases["reported_at"] = pd.to_datetime(cases["reported_at"], utc=True)
        due = {}
        for event in self.events:
            if not pd.isna(event["due_at"]):
                due[event["case_id"]] = event["due_at"]
        cases["state"] = cases["case_id"].map(self._state)
        cases["due_at"] = pd.to_datetime(cases["case_id"].map(due), utc=True)
        units = pd.DataFrame(self.units, columns=["case_id", "unit_id", "role", "since", "until"])
        for column in ("since", "until"):
            units[column] = pd.to_datetime(units[column], utc=True)
        events = pd.DataFrame(self.events, columns=EVENT_COLUMNS)
        for column in ("at", "due_at"):
            events[column] = pd.to_datetime(events[column], utc=True)
        return CaseFrames(cases=cases, case_units=units, events=events)


CASE_COLUMNS = [
    "case_id",
    "category",
    "category_name",
    "severity",
    "source",
    "reported_at",
    "district_id",
    "lon",
    "lat",
    "layer",
    "feature_id",
    "feature_name",
    "fallback",
]
EVENT_COLUMNS = ["case_id", "seq", "at", "action", "from_state", "to_state", "due_at", "unit_id", "by_role"]


def empty_frames() -> CaseFrames:
    """A store with no cases at all."""
    return CaseBook().frames()
