"""POST /lookup/csv's engine: annotate an uploaded CSV exactly as ``respmap assign`` does.

Reading (UTF-8 or GBK, coordinate columns found by name, columns never moved,
width bounded), annotating and writing (UTF-8 with a BOM, for Excel) are
:mod:`api.point_files`, the module ``respmap assign`` calls too, so the CSV a user
gets over HTTP is byte for byte the one the command line writes. The only
differences: the dataset is the server's snapshot (not loaded again), the row
count is capped, and the reader's errors become 413 (too many rows or columns)
and 422 answers.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from api.errors import InvalidBodyError, TooLargeError
from api.point_files import (
    CHUNK_ROWS,
    PointFileError,
    RowLimitError,
    TooWideError,
    assign_points,
    open_points,
    open_writer,
)
from geo import Dataset

# The upload's name in messages from the reader ("upload.csv: the file is empty").
UPLOAD_NAME = "upload.csv"
# How the coordinate-column options are spelled over HTTP (query or form fields).
HTTP_OPTIONS = ("lon_col", "lat_col")


@dataclass(frozen=True, slots=True)
class AssignedCsv:
    """The annotated CSV and what happened to its rows."""

    content: bytes
    rows: int
    errors: int
    in_zone: int
    fallback: int
    outside: int


def assign_csv(
    ds: Dataset,
    upload: bytes,
    *,
    lon_col: str | None,
    lat_col: str | None,
    crs: str,
    date: dt.date | None,
    row_limit: int,
) -> AssignedCsv:
    """Annotate ``upload`` (CSV bytes) with the best match of every row (blocking: run it in a thread)."""
    with tempfile.TemporaryDirectory(prefix="respmap-csv-") as folder:
        source = Path(folder) / UPLOAD_NAME
        target = Path(folder) / "assigned.csv"
        source.write_bytes(upload)
        try:
            reader = open_points(
                source,
                lon_col=lon_col,
                lat_col=lat_col,
                chunk_rows=min(CHUNK_ROWS, row_limit + 1),
                options=HTTP_OPTIONS,
                file_format="csv",
            )
            counts = assign_points(ds, reader, open_writer(target, "csv"), crs=crs, date=date, row_limit=row_limit)
        except RowLimitError as exc:
            raise TooLargeError(
                f"the CSV has more than {exc.limit} rows, the most this server answers in one request; "
                "split it, or run `respmap assign` on the file",
                {"limit": exc.limit},
            ) from None
        except TooWideError as exc:
            raise TooLargeError(f"the uploaded CSV cannot be used: {exc}") from None
        except PointFileError as exc:
            raise InvalidBodyError(f"the uploaded CSV cannot be used: {exc}") from None
        return AssignedCsv(
            content=target.read_bytes(),
            rows=counts.rows,
            errors=counts.errors,
            in_zone=counts.zone,
            fallback=counts.fallback,
            outside=counts.outside,
        )
