"""What every sub-command shares: picking and loading the dataset, JSON output,
atomic file writes and the two error kinds the CLI turns into exit codes."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geo import Dataset, default_dataset_path, load_dataset


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


def open_dataset(args: argparse.Namespace, *, require_ok: bool = False, **options: Any) -> Dataset:
    """Load the selected dataset; with ``require_ok`` refuse one with errors."""
    ds = load_dataset(dataset_path(args), **options)
    if ds.catalog is None or (require_ok and not ds.ok):
        errors = [f for f in ds.findings if f.level == "error"]
        first = "; ".join(f.message for f in errors[:3])
        raise CommandError(
            f"the dataset in {ds.path} has {len(errors)} error(s): {first} (run `respmap validate` for all)"
        )
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
