"""The case loop as a state machine, and who may take each step.

After the national practice of digital urban management (信息收集 → 立案 → 派遣 → 处置 → 核查 → 结案):

    reported   --dispatch--> dispatched        (派遣; a public report waits here for the office)
    reported   --reject----> rejected          (不予立案)
    dispatched --rectify---> rectified         (处置反馈: the unit's note and photo)
    dispatched --postpone--> postponed         (缓办: the office sets a new deadline)
    dispatched --dispute---> dispatched        (the unit says the place is not its own; the office decides)
    dispatched --reassign--> dispatched        (to another unit, with a fresh deadline; recorded)
    postponed  --rectify / dispute / reassign / dispatch (resume) as from dispatched
    rectified  --close-----> closed            (核查结案 after the inspector's check)
    rectified  --send_back-> dispatched        (返工: rework, counted; the deadline stays)
    any open   --comment---> (same state)      (a note on the record)

Pure data and functions: :mod:`cases.service` applies them inside a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "inspector", "unit", "planner")
STATES = ("reported", "dispatched", "rejected", "rectified", "postponed", "closed")
OPEN_STATES = frozenset({"reported", "dispatched", "rectified", "postponed"})
# Cases whose deadline runs: a rectified case waits for the inspector, not for the unit.
RUNNING_STATES = frozenset({"dispatched", "postponed"})
FINAL_STATES = frozenset({"rejected", "closed"})

# action -> {from_state: to_state}
TRANSITIONS: dict[str, dict[str, str]] = {
    "dispatch": {"reported": "dispatched", "postponed": "dispatched"},
    "reject": {"reported": "rejected"},
    "rectify": {"dispatched": "rectified", "postponed": "rectified"},
    "dispute": {"dispatched": "dispatched", "postponed": "postponed"},
    "postpone": {"dispatched": "postponed"},
    "reassign": {"reported": "dispatched", "dispatched": "dispatched", "postponed": "dispatched"},
    "close": {"rectified": "closed"},
    "send_back": {"rectified": "dispatched"},
    "comment": {state: state for state in OPEN_STATES},
}
ACTIONS = tuple(TRANSITIONS)

# Who may take which step (DESIGN §8): inspectors check, units rectify or dispute, the office all.
ALLOWED_ROLES: dict[str, frozenset[str]] = {
    "dispatch": frozenset({"admin"}),
    "reject": frozenset({"admin"}),
    "postpone": frozenset({"admin"}),
    "reassign": frozenset({"admin"}),
    "rectify": frozenset({"admin", "unit"}),
    "dispute": frozenset({"admin", "unit"}),
    "close": frozenset({"admin", "inspector"}),
    "send_back": frozenset({"admin", "inspector"}),
    "comment": frozenset({"admin", "inspector", "unit"}),
}
# Roles that may report a case with a token (the public reports through Open311, anonymously).
REPORTING_ROLES = frozenset({"admin", "inspector"})
# Actions that need more than a note.
NEEDS_DUE = frozenset({"postpone"})
NEEDS_UNIT = frozenset({"reassign"})
NEEDS_NOTE = frozenset({"dispute", "reject", "send_back"})

ACTION_NAMES_ZH = {
    "report": "上报",
    "dispatch": "派遣",
    "reject": "不予立案",
    "rectify": "处置反馈",
    "dispute": "申请改派",
    "postpone": "缓办",
    "reassign": "改派",
    "close": "核查结案",
    "send_back": "返工",
    "comment": "备注",
}
STATE_NAMES_ZH = {
    "reported": "已上报",
    "dispatched": "已派遣",
    "rejected": "不予立案",
    "rectified": "待核查",
    "postponed": "缓办",
    "closed": "已结案",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a step cannot be taken: ``kind`` is ``role`` (403) or ``state`` (409)."""

    kind: str
    message: str
    allowed: tuple[str, ...]


def allowed_actions(state: str, role: str) -> tuple[str, ...]:
    """The steps ``role`` may take on a case in ``state``, in the order of :data:`ACTIONS`."""
    return tuple(a for a in ACTIONS if state in TRANSITIONS[a] and role in ALLOWED_ROLES[a])


def check(action: str, state: str, role: str) -> Refusal | None:
    """None when ``role`` may take ``action`` on a case in ``state``; else why not."""
    if action not in TRANSITIONS:
        return Refusal("unknown", f"unknown action {action!r}; actions are {', '.join(ACTIONS)}", ACTIONS)
    if role not in ALLOWED_ROLES[action]:
        return Refusal("role", f"a {role} may not {action} a case", allowed_actions(state, role))
    if state not in TRANSITIONS[action]:
        allowed = allowed_actions(state, role)
        shown = ", ".join(allowed) or "nothing"
        return Refusal("state", f"a {state} case cannot be {action}: allowed now: {shown}", allowed)
    return None


def next_state(action: str, state: str) -> str:
    return TRANSITIONS[action][state]
