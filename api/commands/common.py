"""What every sub-command shares: picking and loading the dataset, the one date rule
(``--date``, else the catalog's ``status_date``, else today), JSON output, atomic
file writes and the two error kinds the CLI turns into exit codes."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo import Dataset, default_dataset_path, load_dataset

if TYPE_CHECKING:
    import pandas as pd

# Characters that drive a terminal rather than print: C0 controls but tab and
# newline (ESC starts colour, clear-screen, title and hyperlink sequences; CR
# hides the start of a line), DEL, C1 controls, and the bidi embeddings,
# overrides and isolates that turn the rest of a line around.
TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with terminal control characters shown as visible escapes (``\\x1b``, ``\\u202e``).

    Names come from data anyone may have typed: printed raw, a place called
    ``"\\x1b[2J..."`` would clear the user's screen, and a unit name starting
    with U+202E would show the phone number after it backwards.
    """
    return TERMINAL_CONTROLS.sub(_visible_escape, text)


def _visible_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def print_text(text: str = "", *, file: Any = None) -> None:
    """Print human-readable output that may hold names from the data (see :func:`terminal_safe`)."""
    print(terminal_safe(text), file=file)


class UsageError(Exception):
    """The user asked for something malformed: exit code 2."""


class CommandError(Exception):
    """The command could not do its job (bad data, unwritable output): exit code 1."""


def dataset_path(args: argparse.Namespace) -> Path:
    """``--dataset``, else ``RESPMAP_DATASET``, else the demo; must be a folder."""
    given = getattr(args, "dataset", None)
    path = Path(given) if given else default_dataset_path()
    if not path.is_dir():
        raise UsageError(f"dataset folder {str(path)[:200]} does not exist")
    return path


DATE_HELP = "the day the figures are for, YYYY-MM-DD (default: the dataset's status_date, else today)"


def add_date_flag(parser: argparse.ArgumentParser) -> None:
    """``--date``: the one date flag every command shares (see :func:`open_dataset`)."""
    parser.add_argument("--date", metavar="YYYY-MM-DD", help=DATE_HELP)


def parse_date_option(text: str | None) -> pd.Timestamp | None:
    """``--date`` as a Timestamp, None when not given; a UsageError naming the value when malformed."""
    import pandas as pd

    if text is None:
        return None
    try:
        value = pd.Timestamp(text)
    except (ValueError, TypeError):
        value = pd.NaT
    if pd.isna(value):
        raise UsageError(f"--date {text[:40]!r} is not a date (use YYYY-MM-DD)")
    return value.normalize()


def date_line(ds: Dataset, lang: str | None = None) -> str:
    """The reference date as printed beside figures: ``状态日期 2026-12-03（今天）`` / ``status on ... (today)``."""
    from maps.wording import date_line as worded

    return worded(ds.reference_date.date().isoformat(), ds.reference_date_source, lang or ds.lang)


@contextlib.contextmanager
def stage_progress(label: str, total: int | None = None) -> Iterator[Callable[[str], None]]:
    """A one-line progress display on stderr, only when stderr is a terminal; yields ``stage(name)``.

    Each call to ``stage`` says a new stage starts (the previous one is done). Piped or
    redirected, nothing is written: logs and scripts see only the command's own output.
    """
    if not sys.stderr.isatty():
        yield lambda _name: None
        return
    from tqdm import tqdm

    # Without a known number of stages a bar means nothing: the stage's name and the time so far.
    bar_format = None if total else "{desc} [{elapsed}]"
    bar = tqdm(
        total=total, desc=label, unit="step", file=sys.stderr, leave=False, dynamic_ncols=True, bar_format=bar_format
    )
    started = False

    def stage(name: str) -> None:
        nonlocal started
        if started:
            bar.update(1)
        started = True
        shown = terminal_safe(name)[:40]
        if total:
            bar.set_postfix_str(shown, refresh=True)
        else:
            bar.set_description_str(f"{label}: {shown}", refresh=True)

    try:
        yield stage
        if started and total:
            bar.update(max(0, total - bar.n))  # the last stage is done too
    finally:
        bar.close()


def open_dataset(args: argparse.Namespace, *, require_ok: bool = False, **options: Any) -> Dataset:
    """Load the selected dataset; with ``require_ok`` refuse one with errors.

    ``args.date`` (``--date``), when the command has one, becomes the dataset's
    reference date: every figure, default and warning of the run is for that day.

    Without ``require_ok`` a dataset with errors is used as far as it loaded,
    with one warning on stderr: answers from it leave out whatever the errors
    dropped (a feature with no geometry, an assignment to an unknown unit), and
    the user must know that before trusting them.
    """
    date = parse_date_option(getattr(args, "date", None))
    if date is not None:
        options.setdefault("status_date", date)
    with stage_progress("loading") as stage:
        ds = load_dataset(dataset_path(args), progress=stage, **options)
    if ds.catalog is not None and ds.ok:
        return ds
    errors = [f for f in ds.findings if f.level == "error"]
    first = "; ".join(f.message for f in errors[:3])
    problem = f"the dataset in {ds.path} has {len(errors)} error(s): {first} (run `respmap validate` for all)"
    if ds.catalog is None or require_ok:
        raise CommandError(terminal_safe(problem))
    print_text(f"respmap: warning: {problem}; answers leave out what the errors affect", file=sys.stderr)
    return ds


def print_json(data: Any) -> None:
    """One JSON object on stdout, UTF-8, Chinese left readable."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then rename.

    A failed or interrupted write never leaves a half-written or clobbered
    target: the previous file stays whole until the new one is complete.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"output folder {folder} does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=folder)
    os.close(handle)
    try:
        write(Path(temporary))
        # mkstemp makes the file private (0600); give it the permissions a
        # plain open() would, so reports stay readable by colleagues.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
