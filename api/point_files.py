"""Point files in and out: the one reader and writer of CSV, XLSX, GeoJSON and Parquet points.

Both ways in that annotate a file of points call this module: ``respmap assign``
(:mod:`api.commands.assign`) and ``POST /lookup/csv`` (:mod:`api.assign_csv`). It
reads a file in chunks with its coordinate columns resolved (or the point geometry
of GeoJSON and GeoParquet), adds the best match's columns to every row
(:func:`annotate`), and writes the rows again in the same order (:func:`open_writer`).
:func:`assign_points` is that whole loop.

Columns never move. CSV rows are read as text against the header's columns:
a trailing separator (Excel and many exporters end rows with one) is an empty
field past the header and is dropped; a row with a non-empty field past the
header cannot be placed, so it keeps its text but gets an ``error`` and no answer,
and every other row is answered. Width is bounded before parsing
(:data:`MAX_COLUMNS`, :data:`MAX_HEADER_BYTES`): a file of 200,000 empty columns
is refused at once instead of costing a minute of CPU.

Errors are :class:`PointFileError` subclasses with messages naming the file, the
row and the column; the CLI turns them into exit codes, the HTTP API into 413/422.
"""

from __future__ import annotations

import abc
import codecs
import csv
import itertools
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from geo import Dataset

CHUNK_ROWS = 200_000
LON_NAMES: tuple[str, ...] = ("lon", "lng", "longitude", "long", "x", "经度", "easting", "x坐标", "东坐标")
LAT_NAMES: tuple[str, ...] = ("lat", "latitude", "y", "纬度", "northing", "y坐标", "北坐标")
FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
    ".parquet": "parquet",
}
# A points table is a few dozen columns; Excel's own limit is 16,384. Checked before any parsing.
MAX_COLUMNS = 1000
MAX_HEADER_BYTES = 64 * 1024
# Added float columns are written to the millimetre.
ROUNDED = ("from_m", "to_m", "distance_m")
# Prefix for an added column whose name the input already uses.
CLASH_PREFIX = "resp_"
# Field separators a spreadsheet writes into "CSV": Excel in continental Europe uses ";"
# (the comma is its decimal mark); exports from databases often use tabs.
SEPARATORS = (",", ";", "\t")
# How the options naming coordinate columns are spelled where a message is shown.
CLI_OPTIONS = ("--lon-col", "--lat-col")


class PointFileError(Exception):
    """A points file that cannot be used as asked; the message names the file (and row, column)."""


class ColumnChoiceError(PointFileError):
    """The coordinate columns are not found or named wrongly: the caller must name them."""


class UnreadablePointFileError(PointFileError):
    """The file is empty, malformed or not of its declared format."""


class TooWideError(PointFileError):
    """More columns, or a longer header line, than a points table has (:data:`MAX_COLUMNS`)."""


@dataclass
class Counts:
    """What happened to the rows, for the closing summary."""

    rows: int = 0
    zone: int = 0
    fallback: int = 0
    outside: int = 0
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    renamed: set[str] = field(default_factory=set)


@dataclass
class Chunk:
    """A slice of the input: its columns, coordinates and (GeoJSON, GeoParquet) geometry."""

    frame: pd.DataFrame
    lon: np.ndarray
    lat: np.ndarray
    errors: dict[int, str]  # problems found while reading (no geometry, not a point, fields past the header)
    geometry: np.ndarray | None = None  # shapely geometries, as read
    progress: int = 0  # bytes or rows consumed, for the progress bar
    separator: str = ","  # a CSV's field separator, kept in a CSV written from it


def format_of(path: Path, what: str) -> str:
    """``csv``, ``xlsx``, ``geojson`` or ``parquet`` from the extension; ColumnChoiceError otherwise."""
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise ColumnChoiceError(f"{what} {path.name[:100]}: use a .csv, .xlsx, .geojson or .parquet file")
    return found


def coordinate_columns(
    columns: list[str], lon_col: str | None, lat_col: str | None, options: tuple[str, str] = CLI_OPTIONS
) -> tuple[str, str]:
    """The columns holding longitude and latitude: as named, else found by their usual names."""
    shown = ", ".join(str(c) for c in columns[:30]) or "(none)"

    def pick(given: str | None, names: tuple[str, ...], flag: str, axis: str) -> str:
        if given is not None:
            if given not in columns:
                raise ColumnChoiceError(f"{flag} {given[:60]!r} is not a column of the file; its columns are: {shown}")
            return given
        folded = {str(c).strip().casefold(): c for c in reversed(columns)}
        for name in names:
            if name in folded:
                return folded[name]
        raise ColumnChoiceError(
            f"no {axis} column found (looked for {', '.join(names)}); the columns are: {shown}. Name it with {flag}"
        )

    lon = pick(lon_col, LON_NAMES, options[0], "longitude")
    lat = pick(lat_col, LAT_NAMES, options[1], "latitude")
    if lon == lat:
        raise ColumnChoiceError(f"longitude and latitude cannot both come from column {lon!r}")
    return lon, lat


def declared_crs(crs: Any, source: Path) -> str | None:
    """The EPSG name of the CRS a file declares; None for WGS-84 (and CRS84, RFC 7946's own) or none."""
    if crs is None:
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    from geo.datums import UnknownCRSError, normalize_crs

    try:
        parsed = CRS.from_user_input(crs)
    except (CRSError, TypeError, ValueError):
        raise ColumnChoiceError(f"{source.name} declares a CRS that is not known; give the CRS") from None
    if parsed.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return None
    epsg = parsed.to_epsg()
    if epsg is None:
        raise ColumnChoiceError(
            f"{source.name} declares a CRS with no EPSG code ({parsed.name[:60]}); give EPSG:<code>"
        )
    try:
        return normalize_crs(f"EPSG:{epsg}")
    except UnknownCRSError as exc:
        raise ColumnChoiceError(f"{source.name}: {exc}") from None


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


class PointReader(abc.ABC):
    """Chunks of an input file, with the coordinate columns resolved (one subclass per format)."""

    total: int | None = None
    unit = "rows"
    # The CRS the file declares for its point geometry (GeoJSON crs member, GeoParquet metadata); None: WGS-84.
    declared_crs: str | None = None

    def __init__(
        self, path: Path, *, lon_col: str | None, lat_col: str | None, chunk_rows: int, options: tuple[str, str]
    ) -> None:
        self.path = path
        self.name = path.name
        self.lon_col_given = lon_col
        self.lat_col_given = lat_col
        self.chunk_rows = chunk_rows
        self.options = options
        self.columns: list[str] = []

    @abc.abstractmethod
    def chunks(self) -> Iterator[Chunk]:
        """The file's rows, ``chunk_rows`` at a time, with their coordinates parsed."""

    def empty_chunk(self) -> Chunk:
        """No rows, the file's columns: so that an empty input still gives a table with a header."""
        frame = pd.DataFrame({column: pd.Series([], dtype=object) for column in self.columns})
        return Chunk(frame, np.empty(0), np.empty(0), {})

    def _columns(self, columns: list[str]) -> tuple[str, str]:
        return coordinate_columns(columns, self.lon_col_given, self.lat_col_given, self.options)


def open_points(
    path: Path,
    *,
    lon_col: str | None = None,
    lat_col: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    options: tuple[str, str] = CLI_OPTIONS,
    file_format: str | None = None,
) -> PointReader:
    """A reader for ``path`` (format from its extension unless given); raises PointFileError subclasses."""
    kind = file_format or format_of(path, "input")
    reader_type: dict[str, type[PointReader]] = {
        "csv": CsvPointReader,
        "xlsx": XlsxPointReader,
        "parquet": ParquetPointReader,
        "geojson": GeoJsonPointReader,
    }
    return reader_type[kind](path, lon_col=lon_col, lat_col=lat_col, chunk_rows=chunk_rows, options=options)


def _past_header_message(fields: int, columns: int) -> str:
    return (
        f"the row has {fields} fields but the header has {columns} columns: its values cannot be placed "
        "(an unquoted separator inside a value?)"
    )


class CsvPointReader(PointReader):
    """CSV as text, UTF-8 or GBK, separated by comma, semicolon or tab (from the header line).

    The fast path is pandas' C parser told the header's columns plus one more: a
    trailing separator lands in that extra column and is dropped; a value there is
    the row's error. It is taken when no line of the file holds more fields than
    that (:func:`_widest_line`, a scan of the raw bytes); otherwise the file is read
    by the ``csv`` module, row by row, under the same rule: slower but exact, and
    cheap for the few very wide rows that pandas would take a minute over.
    """

    unit = "B"

    def __init__(self, path: Path, **options: Any) -> None:
        super().__init__(path, **options)
        self.total = path.stat().st_size
        self.encoding = _text_encoding(path)
        header_line = self._header_line()
        self.separator = _separator(header_line)
        fields = next(csv.reader([header_line], delimiter=self.separator), [])
        if len(fields) > MAX_COLUMNS:
            raise TooWideError(
                f"{self.name}: the header has {len(fields)} columns, more than a points table may have "
                f"({MAX_COLUMNS}); keep the columns you need"
            )
        try:
            header = pd.read_csv(
                path, encoding=self.encoding, sep=self.separator, dtype=str, keep_default_na=False, nrows=0
            )
        except pd.errors.EmptyDataError:
            raise UnreadablePointFileError(f"{self.name}: the file is empty (no header row)") from None
        except (pd.errors.ParserError, ValueError) as exc:
            raise UnreadablePointFileError(f"{self.name}: not a readable CSV file: {str(exc)[:200]}") from None
        self.columns = [str(c) for c in header.columns]
        self.lon_col, self.lat_col = self._columns(self.columns)
        # The one column past the header that a trailing separator fills; never a name of the file.
        self.spill = "\x00past the header"
        self.widest_fields = _widest_line(path, self.separator) + 1

    def _header_line(self) -> str:
        """The first line, at most MAX_HEADER_BYTES long (TooWideError beyond)."""
        with self.path.open("rb") as handle:
            raw = handle.readline(MAX_HEADER_BYTES + 1)
        if len(raw) > MAX_HEADER_BYTES and not raw.endswith(b"\n"):
            raise TooWideError(
                f"{self.name}: the header line is longer than {MAX_HEADER_BYTES // 1024} KB; "
                "a points table has a short header (names of a few dozen columns)"
            )
        line = raw.decode(self.encoding, errors="replace").rstrip("\r\n")
        if raw and not line.strip():
            raise UnreadablePointFileError(f"{self.name}: the first line is empty: the header must be the first line")
        return line

    def chunks(self) -> Iterator[Chunk]:
        if self.widest_fields > len(self.columns) + 1:
            yield from self._exact_chunks()
            return
        with self.path.open("rb") as handle:
            reader = pd.read_csv(
                handle,
                encoding=self.encoding,
                sep=self.separator,
                dtype=str,
                keep_default_na=False,
                header=None,
                skiprows=1,  # the header, read above: the first line (checked)
                names=[*self.columns, self.spill],
                index_col=False,
                chunksize=self.chunk_rows,
            )
            position = 0
            try:
                for frame in reader:
                    now = handle.tell()
                    spilled = frame.pop(self.spill).to_numpy(dtype=object)
                    message = _past_header_message(len(self.columns) + 1, len(self.columns))
                    errors = {int(i): message for i in np.flatnonzero(spilled != "")}
                    yield self._chunk(frame.reset_index(drop=True), errors, now - position)
                    position = now
            except pd.errors.ParserError as exc:
                raise UnreadablePointFileError(f"{self.name}: malformed CSV: {str(exc)[:200]}") from None

    def _exact_chunks(self) -> Iterator[Chunk]:
        """The rows read by the csv module, each checked against the header (lines wider than it seen)."""
        width = len(self.columns)
        with self.path.open("r", encoding=self.encoding, newline="") as handle:
            rows = (row for row in csv.reader(handle, delimiter=self.separator) if row)  # blank lines: skipped
            try:
                next(rows, None)  # the header
                while block := list(itertools.islice(rows, self.chunk_rows)):
                    errors: dict[int, str] = {}
                    for i, row in enumerate(block):
                        if len(row) > width:
                            if any(value.strip() for value in row[width:]):
                                errors[i] = _past_header_message(len(row), width)
                            del row[width:]
                        elif len(row) < width:
                            row.extend([""] * (width - len(row)))
                    values = list(zip(*block, strict=True))
                    frame = pd.DataFrame(
                        {column: np.array(values[k], dtype=object) for k, column in enumerate(self.columns)}
                    )
                    yield self._chunk(frame, errors, 0)
            except csv.Error as exc:
                raise UnreadablePointFileError(f"{self.name}: malformed CSV: {str(exc)[:200]}") from None

    def _chunk(self, frame: pd.DataFrame, errors: dict[int, str], progress: int) -> Chunk:
        lon = self._coordinates(frame[self.lon_col])
        lat = self._coordinates(frame[self.lat_col])
        for i in errors:  # a row whose values cannot be placed gets no answer
            lon[i] = lat[i] = None
        return Chunk(frame, lon, lat, errors, progress=progress, separator=self.separator)

    def _coordinates(self, column: pd.Series) -> np.ndarray:
        """A coordinate column as text; in a ``;`` file a decimal comma is the decimal mark (8,5388)."""
        if self.separator == ";":
            column = column.str.replace(",", ".", regex=False)
        return column.to_numpy(dtype=object, copy=True)

    def empty_chunk(self) -> Chunk:
        chunk = super().empty_chunk()
        chunk.separator = self.separator
        return chunk


def _widest_line(path: Path, separator: str, block_bytes: int = 8 << 20) -> int:
    """The most separators on one physical line of the file, counted over the raw bytes.

    A quoted separator counts too, so this bounds the fields of every row from
    above (a row never has fewer separators than its widest line); UTF-8 and GB
    18030 never use the separator or newline bytes inside a character. About
    0.1 s for a million rows: cheap insurance before a parser that would spend
    a minute on rows of 200,000 fields.
    """
    code = ord(separator)
    widest = carry = 0
    with path.open("rb") as handle:
        while block := handle.read(block_bytes):
            data = np.frombuffer(block, dtype=np.uint8)
            newlines = np.flatnonzero(data == 10)
            separators = np.flatnonzero(data == code)
            if len(newlines):
                per_line = np.diff(np.searchsorted(separators, newlines), prepend=0)
                per_line[0] += carry
                widest = max(widest, int(per_line.max()))
                carry = len(separators) - int(np.searchsorted(separators, newlines[-1]))
            else:
                carry += len(separators)
            widest = max(widest, carry)
    return widest


def _separator(header: str) -> str:
    """The separator of the header line: the one of ``SEPARATORS`` it holds most of, a comma when tied."""
    counts = {separator: header.count(separator) for separator in SEPARATORS}
    best = max(SEPARATORS, key=lambda separator: (counts[separator], separator == ","))
    return best if counts[best] else ","


def _text_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as such, else GBK (as GB 18030)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


class XlsxPointReader(PointReader):
    """The first sheet of a workbook: the first row names the columns; wholly empty rows are skipped."""

    def __init__(self, path: Path, **options: Any) -> None:
        super().__init__(path, **options)
        from openpyxl import load_workbook

        try:
            self.workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several kinds (zipfile, KeyError, XML) for a bad file
            raise UnreadablePointFileError(f"{self.name}: not a readable .xlsx workbook: {str(exc)[:200]}") from None
        self.sheet = self.workbook.worksheets[0]
        header = next(self.sheet.iter_rows(max_row=1, max_col=MAX_COLUMNS + 1, values_only=True), None)
        if header is None:
            raise UnreadablePointFileError(f"{self.name}: the first sheet is empty (no header row)")
        while header and header[-1] is None:
            header = header[:-1]
        if len(header) > MAX_COLUMNS:
            raise TooWideError(
                f"{self.name}: the header has more than {MAX_COLUMNS} columns; keep the columns you need"
            )
        self.columns = _unique_names(["" if v is None else str(v).strip() for v in header])
        self.lon_col, self.lat_col = self._columns(self.columns)
        self.total = self.sheet.max_row

    def chunks(self) -> Iterator[Chunk]:
        width = len(self.columns)
        rows = (r for r in self.sheet.iter_rows(min_row=2, values_only=True) if any(v is not None for v in r))
        try:
            while block := list(itertools.islice(rows, self.chunk_rows)):
                errors: dict[int, str] = {}
                cells: list[list[Any]] = []
                for i, row in enumerate(block):
                    values = list(row[:width]) + [None] * (width - len(row))
                    if any(v is not None and str(v).strip() for v in row[width:]):
                        errors[i] = _past_header_message(len(row), width)
                    cells.append(values)
                columns = list(zip(*cells, strict=True))
                frame = pd.DataFrame({name: np.array(columns[k], dtype=object) for k, name in enumerate(self.columns)})
                lon = frame[self.lon_col].to_numpy(dtype=object, copy=True)
                lat = frame[self.lat_col].to_numpy(dtype=object, copy=True)
                for i in errors:
                    lon[i] = lat[i] = None
                yield Chunk(frame, lon, lat, errors, progress=len(block))
        finally:
            self.workbook.close()


def _unique_names(names: list[str]) -> list[str]:
    """Header names made unique as pandas does for CSV (``a``, ``a.1``); empty ones ``Unnamed: n``."""
    seen: dict[str, int] = {}
    unique = []
    for position, name in enumerate(names):
        name = name or f"Unnamed: {position}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 0)
        unique.append(name)
    return unique


class ParquetPointReader(PointReader):
    """Parquet with coordinate columns, or GeoParquet with a point geometry column."""

    def __init__(self, path: Path, **options: Any) -> None:
        super().__init__(path, **options)
        import pyarrow.parquet as pq

        try:
            self.file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several kinds for a file that is not Parquet
            raise UnreadablePointFileError(f"{self.name}: not a readable Parquet file: {str(exc)[:200]}") from None
        self.total = self.file.metadata.num_rows
        self.columns = list(self.file.schema_arrow.names)
        if len(self.columns) > MAX_COLUMNS:
            raise TooWideError(f"{self.name}: {len(self.columns)} columns, more than a points table may have")
        metadata = self.file.schema_arrow.metadata or {}
        self.geo = None
        if b"geo" in metadata and self.lon_col_given is None and self.lat_col_given is None:
            try:
                coordinate_columns(self.columns, None, None)
            except ColumnChoiceError:
                self.geo = json.loads(metadata[b"geo"]).get("primary_column", "geometry")
        if self.geo is None:
            self.lon_col, self.lat_col = self._columns(self.columns)
        else:
            column = json.loads(metadata[b"geo"]).get("columns", {}).get(self.geo, {})
            self.declared_crs = declared_crs(column.get("crs"), path)  # absent: OGC:CRS84

    def chunks(self) -> Iterator[Chunk]:
        for batch in self.file.iter_batches(batch_size=self.chunk_rows):
            frame = batch.to_pandas()
            if self.geo is not None:
                import shapely

                self.columns = [c for c in self.columns if c != self.geo]
                geometry = shapely.from_wkb(frame[self.geo].to_numpy())
                frame = frame.drop(columns=[self.geo])
                yield point_chunk(frame, geometry)
            else:
                yield Chunk(
                    frame, frame[self.lon_col].to_numpy(), frame[self.lat_col].to_numpy(), {}, progress=len(frame)
                )


class GeoJsonPointReader(PointReader):
    """A GeoJSON FeatureCollection: the point geometry, or coordinate properties when named."""

    def __init__(self, path: Path, **options: Any) -> None:
        super().__init__(path, **options)
        import pyogrio

        try:
            self.data = pyogrio.read_dataframe(path)
        except Exception as exc:  # GDAL's errors for a file that is not GeoJSON
            raise UnreadablePointFileError(f"{self.name}: not a readable GeoJSON file: {str(exc)[:200]}") from None
        self.total = len(self.data)
        self.columns = [c for c in self.data.columns if c != "geometry"]
        self.use_columns = self.lon_col_given is not None or self.lat_col_given is not None
        if self.use_columns:
            self.lon_col, self.lat_col = self._columns(self.columns)
        else:
            self.declared_crs = declared_crs(self.data.crs, path)

    def chunks(self) -> Iterator[Chunk]:
        for start in range(0, max(len(self.data), 1), self.chunk_rows):
            part = self.data.iloc[start : start + self.chunk_rows]
            geometry = np.asarray(part.geometry.values, dtype=object)
            frame = pd.DataFrame(part.drop(columns="geometry")).reset_index(drop=True)
            if self.use_columns:
                yield Chunk(
                    frame,
                    frame[self.lon_col].to_numpy(),
                    frame[self.lat_col].to_numpy(),
                    {},
                    geometry,
                    progress=len(frame),
                )
            else:
                yield point_chunk(frame, geometry)


def point_chunk(frame: pd.DataFrame, geometry: np.ndarray) -> Chunk:
    """Coordinates from point geometries; any other geometry is the row's error."""
    import shapely

    n = len(frame)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    errors: dict[int, str] = {}
    kinds = shapely.get_type_id(geometry)
    points = np.flatnonzero(kinds == 0)
    empty = shapely.is_empty(geometry)
    points = points[~empty[points]]
    lon[points] = shapely.get_x(geometry[points])
    lat[points] = shapely.get_y(geometry[points])
    for i in np.flatnonzero(kinds != 0).tolist() + np.flatnonzero((kinds == 0) & empty).tolist():
        if geometry[i] is None or kinds[i] < 0:
            errors[i] = "no geometry"
        elif empty[i]:
            errors[i] = "empty geometry"
        else:
            errors[i] = f"geometry is a {geometry[i].geom_type}, not a point"
    return Chunk(frame, lon, lat, errors, geometry, progress=n)


# ---------------------------------------------------------------------------------------------
# Joining
# ---------------------------------------------------------------------------------------------


def annotate(chunk: Chunk, table: pd.DataFrame, counts: Counts) -> pd.DataFrame:
    """The input rows with the answer's columns added (renamed on a clash); counts updated."""
    out = chunk.frame.copy()
    errors = np.array(table["error"].astype(object), dtype=object)  # a copy: chunk errors go in
    for i, message in chunk.errors.items():
        errors[i] = message
    for column in table.columns:
        values = errors if column == "error" else table[column]
        if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object).to_numpy()
        elif column in ROUNDED:
            values = np.round(values.to_numpy(dtype=np.float64), 3)
        elif isinstance(values, pd.Series):
            values = values.to_numpy()
        name = column
        if column in chunk.frame.columns:
            name = CLASH_PREFIX + column
            counts.renamed.add(column)
        out[name] = values
    has_error = errors != ""
    fallback = table["fallback"].to_numpy()
    zone = (table["feature_id"] != "").to_numpy() & ~fallback
    counts.rows += len(out)
    counts.errors += int(has_error.sum())
    counts.zone += int(zone.sum())
    counts.fallback += int(fallback.sum())
    counts.outside += int((~table["inside_frame"].to_numpy() & ~zone & ~has_error).sum())
    for i in np.flatnonzero(has_error)[: max(0, 3 - len(counts.first_errors))]:
        counts.first_errors.append(f"row {counts.rows - len(out) + int(i) + 1}: {errors[i]}")
    return out


def wgs84_points(chunk: Chunk, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """The chunk's points in WGS-84 (NaN where unusable), for GeoJSON output."""
    from geo.lookup import points_in_wgs84

    _, lon, lat, _ = points_in_wgs84(chunk.lon, chunk.lat, crs)
    return lon, lat


def assign_points(
    ds: Dataset,
    reader: PointReader,
    writer: PointWriter,
    *,
    crs: str,
    date: Any,
    row_limit: int | None = None,
    on_chunk: Callable[[Chunk], None] | None = None,
) -> Counts:
    """Annotate every chunk of ``reader`` and write it with ``writer`` (closed at the end).

    Raises:
        RowLimitError: more rows than ``row_limit`` (nothing more is read).
    """
    counts = Counts()
    wgs84_needed = isinstance(writer, GeoJsonPointWriter)
    if wgs84_needed:
        # Input geometry in another CRS is no RFC 7946 geometry: write the WGS-84 point instead.
        writer.keep_input_geometry = crs in ("wgs84", "cgcs2000")

    def write(chunk: Chunk) -> None:
        if row_limit is not None and counts.rows + len(chunk.frame) > row_limit:
            raise RowLimitError(f"{reader.name} has more than {row_limit} rows", row_limit)
        table = ds.lookup_many(chunk.lon, chunk.lat, crs=crs, date=date)
        writer.write(annotate(chunk, table, counts), chunk, wgs84_points(chunk, crs) if wgs84_needed else None)
        if on_chunk is not None:
            on_chunk(chunk)

    try:
        written = False
        for chunk in reader.chunks():
            write(chunk)
            written = True
        if not written:  # no rows: still write the columns
            write(reader.empty_chunk())
    finally:
        writer.close()
    return counts


class RowLimitError(PointFileError):
    """More rows than the caller answers at once."""

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


class PointWriter(abc.ABC):
    """Rows written chunk by chunk; ``close`` finishes the file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @abc.abstractmethod
    def write(self, frame: pd.DataFrame, chunk: Chunk, points: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Append the annotated rows of one chunk (``points``: WGS-84 positions, GeoJSON only)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Finish the file."""


class CsvPointWriter(PointWriter):
    """UTF-8 with a BOM (Excel in a Chinese office opens it without garbling), the input's separator."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.handle = path.open("w", encoding="utf-8-sig", newline="")
        self.header = True

    def write(self, frame: pd.DataFrame, chunk: Chunk, points: Any) -> None:
        spreadsheet_safe(frame, added_from=len(chunk.frame.columns)).to_csv(
            self.handle, index=False, header=self.header, sep=chunk.separator
        )
        self.header = False

    def close(self) -> None:
        self.handle.close()


def spreadsheet_safe(frame: pd.DataFrame, added_from: int) -> pd.DataFrame:
    """The frame with formula-like text in the added columns prefixed with ``'`` (shown as typed).

    The added columns carry names from the dataset, which anyone may have typed:
    a unit called ``=HYPERLINK(...)`` must not become a live formula when the CSV
    is opened in Excel (as :func:`maps.tables.write_csv` does for exports). The
    input's own columns are the user's and pass through unchanged.
    """
    from maps.tables import FORMULA_STARTS

    safe = {}
    for column in frame.columns[added_from:]:
        values = frame[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        formula = values.str.startswith(FORMULA_STARTS, na=False).to_numpy(dtype=bool)
        if formula.any():
            safe[column] = [f"'{v}" if bad else v for v, bad in zip(values, formula, strict=True)]
    if not safe:
        return frame
    frame = frame.copy()
    for column, values in safe.items():
        frame[column] = values
    return frame


class XlsxPointWriter(PointWriter):
    """One sheet, written at close (a workbook is one zip); text is never a formula (maps.tables)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.frames: list[pd.DataFrame] = []

    def write(self, frame: pd.DataFrame, chunk: Chunk, points: Any) -> None:
        self.frames.append(frame)

    def close(self) -> None:
        from maps.tables import Sheet, write_xlsx

        frame = pd.concat(self.frames, ignore_index=True) if self.frames else pd.DataFrame()
        write_xlsx([Sheet("assigned", frame, {})], self.path)


class ParquetPointWriter(PointWriter):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writer: Any = None
        self.schema: Any = None

    def write(self, frame: pd.DataFrame, chunk: Chunk, points: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.writer is None:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            self.schema = table.schema
            self.writer = pq.ParquetWriter(self.path, self.schema)
        else:
            table = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is None:
            raise UnreadablePointFileError("nothing to write")
        self.writer.close()


class GeoJsonPointWriter(PointWriter):
    """A FeatureCollection written feature by feature, so memory stays flat."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.handle = path.open("w", encoding="utf-8")
        self.handle.write('{"type": "FeatureCollection", "features": [\n')
        self.first = True
        self.keep_input_geometry = True  # False when the input's coordinates are not WGS-84

    def write(self, frame: pd.DataFrame, chunk: Chunk, points: tuple[np.ndarray, np.ndarray] | None) -> None:
        import shapely

        records = frame.to_dict("records")
        for i, record in enumerate(records):
            geometry = None
            if self.keep_input_geometry and chunk.geometry is not None and chunk.geometry[i] is not None:
                geometry = json.loads(shapely.to_geojson(chunk.geometry[i]))
            elif points is not None and math.isfinite(points[0][i]):
                geometry = {"type": "Point", "coordinates": [float(points[0][i]), float(points[1][i])]}
            feature = {
                "type": "Feature",
                "properties": {k: _json_value(v) for k, v in record.items()},
                "geometry": geometry,
            }
            self.handle.write(("" if self.first else ",\n") + json.dumps(feature, ensure_ascii=False))
            self.first = False

    def close(self) -> None:
        self.handle.write("\n]}\n")
        self.handle.close()


WRITERS: dict[str, type[PointWriter]] = {
    "csv": CsvPointWriter,
    "xlsx": XlsxPointWriter,
    "parquet": ParquetPointWriter,
    "geojson": GeoJsonPointWriter,
}


def open_writer(path: Path, file_format: str) -> PointWriter:
    """A writer of ``file_format`` (csv, xlsx, parquet, geojson) into ``path``."""
    return WRITERS[file_format](path)


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, str | int | bool):
        return value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)
