"""Replacing a file whole or not at all: a temporary file beside it, fsynced, then ``os.replace``.

Readers (another server worker, a crashed process started again) see the old file or the new
one, never half of one. Used for the lookup index on disk and for stored photos.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def replace_file(path: Path, write: Callable[[IO[bytes]], None], *, prefix: str, suffix: str = "") -> None:
    """Write ``path`` through ``write(stream)`` into ``prefix…suffix`` beside it, then rename it into place.

    The temporary file's name starts with ``prefix`` so that a folder's leftovers (a process
    killed mid-write) can be found and cleaned; it is removed when the write fails.
    """
    handle, temporary = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
