"""POST /lookup/csv's engine: annotate an uploaded CSV exactly as ``respmap assign`` does.

The reading (UTF-8 or GBK, coordinate columns found by name, chunks), the
joining of the answer columns (renamed on a clash) and the writing (UTF-8 with
a BOM, for Excel) are those of :mod:`api.commands.assign`, called on a
temporary copy of the upload, so the CSV a user gets over HTTP is byte for
byte the one the command line writes. The only differences: the dataset is the
server's snapshot (not loaded again), the row count is capped, and the CLI's
usage errors (no longitude column, an unreadable file) become 422 answers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from api.commands import assign
from api.commands.common import CommandError, UsageError
from api.errors import InvalidBodyError, TooLargeError
from geo import Dataset

# The upload's name in messages from the assign reader ("upload.csv: the file is empty").
UPLOAD_NAME = "upload.csv"


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
        args = argparse.Namespace(lon_col=lon_col, lat_col=lat_col, chunk_rows=min(assign.CHUNK_ROWS, row_limit + 1))
        try:
            reader = assign._reader(source, "csv", args)
            counts = assign.Counts()
            writer = assign._CsvWriter(target)
            try:
                wrote = False
                for chunk in reader.chunks():
                    if counts.rows + len(chunk.frame) > row_limit:
                        raise TooLargeError(
                            f"the CSV has more than {row_limit} rows, the most this server answers in one request; "
                            "split it, or run `respmap assign` on the file",
                            {"limit": row_limit},
                        )
                    _write(ds, writer, chunk, counts, crs, date)
                    wrote = True
                if not wrote:  # a header and no rows: still a table with the answer's columns
                    _write(ds, writer, reader.empty_chunk(), counts, crs, date)
            finally:
                writer.close()
        except (UsageError, CommandError) as exc:
            message = str(exc).replace("--lon-col", "lon_col").replace("--lat-col", "lat_col")
            raise InvalidBodyError(f"the uploaded CSV cannot be used: {message}") from None
        return AssignedCsv(
            content=target.read_bytes(),
            rows=counts.rows,
            errors=counts.errors,
            in_zone=counts.zone,
            fallback=counts.fallback,
            outside=counts.outside,
        )


def _write(
    ds: Dataset, writer: object, chunk: assign.Chunk, counts: assign.Counts, crs: str, date: dt.date | None
) -> None:
    table = ds.lookup_many(chunk.lon, chunk.lat, crs=crs, date=date)
    writer.write(assign._joined(chunk, table, counts), chunk, None)  # type: ignore[attr-defined]
