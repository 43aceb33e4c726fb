"""The case engine's errors; ``api/errors.py`` maps each to an HTTP status."""

from __future__ import annotations

from typing import Any


class CaseError(Exception):
    """Base: a message for people and structured details."""

    code = "case_error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class CaseNotFoundError(CaseError):
    """No such case, or one the caller may not see (the same answer: 404)."""

    code = "not_found"


class ForbiddenError(CaseError):
    """The caller's role may not do this (403)."""

    code = "forbidden"


class ConflictError(CaseError):
    """The case is not in a state that allows this, or changed meanwhile (409)."""

    code = "conflict"


class InvalidCaseError(CaseError):
    """A request that cannot become a case or an event: bad category, time, unit, note (422)."""

    code = "invalid_case"
