"""Fixtures of the case engine's tests: the mini dataset, a clock the test moves, people."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from cases.categories import load_categories
from cases.service import CaseService
from cases.users import Actor, add_user, authenticate

# 2026-03-02 10:00 in Beijing: inside every assignment of tests/data/mini.
START = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)


class MovableClock:
    """A clock the test sets; every case time comes from it."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class People:
    admin: Actor
    inspector: Actor
    other_inspector: Actor
    unit_u1: Actor
    unit_u2: Actor
    planner: Actor
    tokens: dict[str, str]


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def people(store) -> People:
    tokens = {}
    actors = {}
    for name, role, unit in [
        ("admin", "admin", None),
        ("inspector", "inspector", None),
        ("other_inspector", "inspector", None),
        ("unit_u1", "unit", "U1"),
        ("unit_u2", "unit", "U2"),
        ("planner", "planner", None),
    ]:
        _, token = add_user(store, name, role, unit)
        tokens[name] = token
        actors[name] = authenticate(store, token)
    return People(**actors, tokens=tokens)


@pytest.fixture
def service(store, mini_ds, clock) -> CaseService:
    return CaseService(store, mini_ds, load_categories(mini_ds.path), clock=clock)
