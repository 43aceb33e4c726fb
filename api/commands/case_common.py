"""What the store's sub-commands share (``db``, ``users``, ``cases``): opening the store, acting
as the office, reading times and periods, and turning the engine's errors into one-line
messages with exit code 1 (malformed options stay usage errors, exit code 2)."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from api.commands.common import CommandError, UsageError, dataset_path, terminal_safe

if TYPE_CHECKING:
    from cases.service import CaseService
    from cases.store import Store
    from cases.users import Actor
    from geo import Dataset


@contextmanager
def store_errors() -> Iterator[None]:
    """The engine's refusals as :class:`CommandError` (exit 1): one line, no traceback."""
    from cases.case_export import ExportError
    from cases.categories import CategoryError
    from cases.errors import CaseError
    from cases.photos import PhotoError
    from cases.round_import import RoundFileError
    from cases.store import StoreError
    from cases.users import UserError
    from geo.periods import PeriodError

    try:
        yield
    except CaseError as error:
        message = error.message.replace("(force_unit)", "(--unit ID)")
        raise CommandError(terminal_safe(f"{error.code.replace('_', ' ')}: {message}")) from None
    except (PhotoError, StoreError, CategoryError, UserError, RoundFileError, ExportError) as error:
        raise CommandError(terminal_safe(str(error))) from None
    except PeriodError as error:
        raise UsageError(terminal_safe(str(error))) from None


def open_case_store(args: argparse.Namespace, *, upgrade: bool = True) -> Store:
    """The store of the selected dataset (``RESPMAP_DATABASE_URL`` / ``RESPMAP_DATA_DIR`` first)."""
    from cases.store import open_store

    with store_errors():
        return open_store(dataset_path(args), upgrade=upgrade)


def add_office_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by",
        metavar="NAME",
        help="who in the office acts (recorded on the case when a user of that name is an admin; default: the OS user)",
    )


def office(args: argparse.Namespace, store: Store) -> Actor:
    """The admin the command acts as (:func:`cases.office.office_actor`)."""
    from cases.office import office_actor

    with store_errors():
        return office_actor(store, getattr(args, "by", None))


def case_service(args: argparse.Namespace, store: Store, ds: Dataset) -> CaseService:
    from cases.categories import load_categories
    from cases.service import CaseService

    with store_errors():
        return CaseService(store, ds, load_categories(ds.path))


def parse_time_option(text: str | None, zone: dt.tzinfo, flag: str) -> dt.datetime | None:
    """An ISO time option as UTC (local time without a zone); a usage error naming the flag."""
    from cases.clock import TimeError, parse_time

    if text is None:
        return None
    try:
        return parse_time(text, zone, field=flag)
    except TimeError as error:
        raise UsageError(terminal_safe(str(error))) from None


def period_bounds(
    period: str | None, first: str | None, last: str | None, zone: dt.tzinfo
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``--period`` (2026-11, 2026-Q4, 2026-H2, 2026) or ``--from``/``--to`` dates (both included,
    either may be alone) as UTC bounds ``[start, end)`` of the office's local days."""
    from geo.periods import parse_day, parse_period

    timezone = getattr(zone, "key", "Asia/Shanghai")
    if period:
        if first or last:
            raise UsageError("give either --period or --from/--to, not both")
        with store_errors():
            chosen = parse_period(period, timezone)
        return chosen.start_utc.to_pydatetime(), chosen.end_utc.to_pydatetime()
    start = end = None
    with store_errors():
        if first:
            day = parse_day(first, "--from")
            start = dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
        if last:
            day = parse_day(last, "--to") + dt.timedelta(days=1)
            end = dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
    if start is not None and end is not None and end <= start:
        raise UsageError(f"--to {last} is before --from {first}")
    return start, end


def read_photo(path_text: str | None, limit_mb: float) -> object | None:
    """``--photo FILE`` as an :class:`cases.service.Upload`; size checked before reading."""
    from cases.service import Upload

    if path_text is None:
        return None
    path = Path(path_text)
    try:
        size = path.stat().st_size
        if size > limit_mb * 1024 * 1024:
            raise CommandError(
                terminal_safe(f"{path.name}: {size / 1048576:.1f} MB is over the {limit_mb:g} MB limit for photos")
            )
        return Upload(path.read_bytes(), path.name)
    except FileNotFoundError:
        raise UsageError(terminal_safe(f"--photo {path_text}: no such file")) from None
    except OSError as error:
        raise CommandError(terminal_safe(f"--photo {path_text}: cannot be read ({error.strerror or error})")) from None
