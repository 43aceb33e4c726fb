"""``respmap assign POINTS -o OUT``: who is responsible for every point of a file.

Reads CSV (UTF-8 or GBK), GeoJSON or Parquet (by extension) and writes the same
rows, in the same order, with the best match's columns added (those of
:func:`geo.lookup.lookup_many`: layer, feature_id, name, unit_id, unit_name, role,
stretch, distance_m, fallback, district_id, error ...), as CSV, GeoJSON or Parquet
(by the extension of ``-o``). A row whose coordinates are unusable is kept, with
the reason in ``error``; the run never stops for it. Big files are read and
written in chunks; the output appears only when complete (written to a temporary
file in the same folder, then renamed), and the input is never overwritten.

Coordinates come from the first of lon/lng/longitude/long/x/经度/easting/X坐标/东坐标 and
lat/latitude/y/纬度/northing/Y坐标/北坐标 (any case), from ``--lon-col``/``--lat-col``, or from the point
geometry of GeoJSON and GeoParquet; ``--crs`` says which datum they are in.
A GeoJSON (``crs`` member) or GeoParquet file that declares its CRS is read in
it unless ``--crs`` says otherwise. GeoJSON output keeps an input geometry as it
was when it is WGS-84; other rows become points at their WGS-84 position (RFC
7946), or a null geometry when unusable.
"""

from __future__ import annotations

import abc
import argparse
import codecs
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from api.commands.common import CommandError, UsageError, open_dataset, write_atomically
from geo.datums import UnknownCRSError, normalize_crs

ORDER = 21
CHUNK_ROWS = 200_000
LON_NAMES: tuple[str, ...] = ("lon", "lng", "longitude", "long", "x", "经度", "easting", "x坐标", "东坐标")
LAT_NAMES: tuple[str, ...] = ("lat", "latitude", "y", "纬度", "northing", "y坐标", "北坐标")
FORMATS = {".csv": "csv", ".txt": "csv", ".geojson": "geojson", ".json": "geojson", ".parquet": "parquet"}
# Added float columns are written to the millimetre.
ROUNDED = ("from_m", "to_m", "distance_m")
# Prefix for an added column whose name the input already uses.
CLASH_PREFIX = "resp_"


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "assign",
        parents=[common],
        help="add the responsible unit to every point of a CSV, GeoJSON or Parquet file",
        description=(
            "Look up every point of a file and write it again with the best match's columns added. Rows keep "
            "their order; rows with unusable coordinates are kept with the reason in an `error` column."
        ),
    )
    parser.add_argument("points", metavar="POINTS", help="input file: .csv (UTF-8 or GBK), .geojson or .parquet")
    parser.add_argument("-o", "--output", metavar="OUT", required=True, help="output file: .csv, .geojson or .parquet")
    parser.add_argument("--lon-col", metavar="NAME", help="column holding longitude (x); default: found by name")
    parser.add_argument("--lat-col", metavar="NAME", help="column holding latitude (y); default: found by name")
    parser.add_argument(
        "--crs",
        help="datum of the coordinates: wgs84, cgcs2000, gcj02, bd09 or EPSG:<code> "
        "(default: the CRS a GeoJSON or GeoParquet file declares, else wgs84)",
    )
    parser.add_argument("--date", metavar="YYYY-MM-DD", help="the day the answers are for (default: today)")
    parser.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS, help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


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
    errors: dict[int, str]  # problems found while reading (no geometry, not a point)
    geometry: np.ndarray | None = None  # shapely geometries, as read
    progress: int = 0  # bytes or rows consumed, for the progress bar
    separator: str = ","  # a CSV's field separator, kept in a CSV written from it


def run(args: argparse.Namespace) -> int:
    source = Path(args.points)
    target = Path(args.output)
    in_format = _format_of(source, "POINTS")
    out_format = _format_of(target, "-o")
    if not source.is_file():
        raise UsageError(f"input file {str(source)[:200]} does not exist")
    if source.resolve() == target.resolve() or (target.exists() and os.path.samefile(source, target)):
        raise UsageError(f"refusing to overwrite the input {source}: choose another -o")
    if args.chunk_rows < 1:
        raise UsageError("--chunk-rows must be at least 1")
    try:
        crs = normalize_crs(args.crs or "wgs84")
    except UnknownCRSError as exc:
        raise UsageError(str(exc)) from None
    ds = open_dataset(args)
    from geo.lookup import as_date

    try:
        date = as_date(ds, args.date)
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    reader = _reader(source, in_format, args)
    crs = _coordinates_crs(source, reader.declared_crs, args.crs, crs)
    counts = Counts()

    def write(temporary: Path) -> None:
        writer = _WRITERS[out_format](temporary)
        if isinstance(writer, _GeoJsonWriter):
            # Input geometry in another CRS is no RFC 7946 geometry: write the WGS-84 point instead.
            writer.keep_input_geometry = crs in ("wgs84", "cgcs2000")

        def write_chunk(chunk: Chunk) -> None:
            table = ds.lookup_many(chunk.lon, chunk.lat, crs=crs, date=date)
            out = _joined(chunk, table, counts)
            writer.write(out, chunk, _wgs84_points(chunk, crs) if out_format == "geojson" else None)

        with _progress(reader.total, reader.unit) as bar:
            written = False
            for chunk in reader.chunks():
                write_chunk(chunk)
                bar.update(chunk.progress)
                written = True
            if not written:  # no rows: still write the columns
                write_chunk(reader.empty_chunk())
        writer.close()

    write_atomically(target, write)
    _summary(counts, target)
    return 0


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def _coordinates_crs(source: Path, declared: str | None, given: str | None, crs: str) -> str:
    """The CRS the coordinates are read in: ``--crs``, else what the file declares, else WGS-84.

    Says on stderr when the file's own CRS is used, or overruled by ``--crs``.
    """
    if declared is None:
        return crs
    if given is None:
        print(f"{source.name} declares its CRS as {declared}: its coordinates are read in it", file=sys.stderr)
        return declared
    if crs != declared:
        print(
            f"respmap: warning: {source.name} declares its CRS as {declared}, but --crs {given} is used as asked",
            file=sys.stderr,
        )
    return crs


def declared_crs(crs: Any, source: Path) -> str | None:
    """The EPSG name of the CRS a file declares; None for WGS-84 (and CRS84, RFC 7946's own) or none."""
    if crs is None:
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        parsed = CRS.from_user_input(crs)
    except (CRSError, TypeError, ValueError):
        raise UsageError(f"{source.name} declares a CRS that is not known; give --crs") from None
    if parsed.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return None
    epsg = parsed.to_epsg()
    if epsg is None:
        raise UsageError(f"{source.name} declares a CRS with no EPSG code ({parsed.name[:60]}); give --crs EPSG:<code>")
    try:
        return normalize_crs(f"EPSG:{epsg}")
    except UnknownCRSError as exc:
        raise UsageError(f"{source.name}: {exc}") from None


def _format_of(path: Path, what: str) -> str:
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise UsageError(f"{what} {path.name[:100]}: use a .csv, .geojson or .parquet file")
    return found


class _Reader(abc.ABC):
    """Chunks of an input file, with the coordinate columns resolved (one subclass per format)."""

    total: int | None = None
    unit = "rows"
    columns: list[str]
    # The CRS the file declares for its point geometry (GeoJSON crs member, GeoParquet metadata); None: WGS-84.
    declared_crs: str | None = None

    def __init__(self, path: Path, args: argparse.Namespace) -> None:
        self.path = path
        self.args = args
        self.chunk_rows = args.chunk_rows
        self.columns = []

    @abc.abstractmethod
    def chunks(self) -> Iterator[Chunk]:
        """The file's rows, ``chunk_rows`` at a time, with their coordinates parsed."""

    def empty_chunk(self) -> Chunk:
        """No rows, the file's columns: so that an empty input still gives a table with a header."""
        frame = pd.DataFrame({column: pd.Series([], dtype=object) for column in self.columns})
        return Chunk(frame, np.empty(0), np.empty(0), {})


def _reader(path: Path, in_format: str, args: argparse.Namespace) -> _Reader:
    if in_format == "csv":
        return _CsvReader(path, args)
    if in_format == "parquet":
        return _ParquetReader(path, args)
    return _GeoJsonReader(path, args)


def coordinate_columns(columns: list[str], lon_col: str | None, lat_col: str | None) -> tuple[str, str]:
    """The columns holding longitude and latitude: as named, else found by their usual names."""
    shown = ", ".join(str(c) for c in columns[:30]) or "(none)"

    def pick(given: str | None, names: tuple[str, ...], flag: str, axis: str) -> str:
        if given is not None:
            if given not in columns:
                raise UsageError(f"{flag} {given[:60]!r} is not a column of the file; its columns are: {shown}")
            return given
        folded = {str(c).strip().casefold(): c for c in reversed(columns)}
        for name in names:
            if name in folded:
                return folded[name]
        raise UsageError(
            f"no {axis} column found (looked for {', '.join(names)}); the columns are: {shown}. Name it with {flag}"
        )

    lon = pick(lon_col, LON_NAMES, "--lon-col", "longitude")
    lat = pick(lat_col, LAT_NAMES, "--lat-col", "latitude")
    if lon == lat:
        raise UsageError(f"longitude and latitude cannot both come from column {lon!r}")
    return lon, lat


class _CsvReader(_Reader):
    unit = "B"

    def __init__(self, path: Path, args: argparse.Namespace) -> None:
        super().__init__(path, args)
        self.total = path.stat().st_size
        self.encoding = _text_encoding(path)
        self.separator = _separator(path, self.encoding)
        try:
            header = pd.read_csv(
                path, encoding=self.encoding, sep=self.separator, dtype=str, keep_default_na=False, nrows=0
            )
        except pd.errors.EmptyDataError:
            raise CommandError(f"{path.name}: the file is empty (no header row)") from None
        except (pd.errors.ParserError, ValueError) as exc:
            raise CommandError(f"{path.name}: not a readable CSV file: {str(exc)[:200]}") from None
        self.columns = list(header.columns)
        self.lon_col, self.lat_col = coordinate_columns(self.columns, args.lon_col, args.lat_col)

    def chunks(self) -> Iterator[Chunk]:
        with self.path.open("rb") as handle:
            reader = pd.read_csv(
                handle,
                encoding=self.encoding,
                sep=self.separator,
                dtype=str,
                keep_default_na=False,
                chunksize=self.chunk_rows,
            )
            position = 0
            try:
                for frame in reader:
                    now = handle.tell()
                    yield Chunk(
                        frame.reset_index(drop=True),
                        self._coordinates(frame[self.lon_col]),
                        self._coordinates(frame[self.lat_col]),
                        {},
                        progress=now - position,
                        separator=self.separator,
                    )
                    position = now
            except pd.errors.ParserError as exc:
                raise CommandError(f"{self.path.name}: malformed CSV: {str(exc)[:200]}") from None

    def _coordinates(self, column: pd.Series) -> np.ndarray:
        """A coordinate column as text; in a ``;`` file a decimal comma is the decimal mark (8,5388)."""
        if self.separator == ";":
            column = column.str.replace(",", ".", regex=False)
        return column.to_numpy(dtype=object)

    def empty_chunk(self) -> Chunk:
        chunk = super().empty_chunk()
        chunk.separator = self.separator
        return chunk


# Field separators a spreadsheet writes into "CSV": Excel in continental Europe uses ";"
# (the comma is its decimal mark); exports from databases often use tabs.
SEPARATORS = (",", ";", "\t")


def _separator(path: Path, encoding: str) -> str:
    """The separator of the header line: the one of ``SEPARATORS`` it holds most of, a comma when tied."""
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        header = handle.readline()
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


class _ParquetReader(_Reader):
    def __init__(self, path: Path, args: argparse.Namespace) -> None:
        super().__init__(path, args)
        import pyarrow.parquet as pq

        try:
            self.file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several kinds for a file that is not Parquet
            raise CommandError(f"{path.name}: not a readable Parquet file: {str(exc)[:200]}") from None
        self.total = self.file.metadata.num_rows
        self.columns = list(self.file.schema_arrow.names)
        metadata = self.file.schema_arrow.metadata or {}
        self.geo = None
        if b"geo" in metadata and args.lon_col is None and args.lat_col is None:
            try:
                coordinate_columns(self.columns, None, None)
            except UsageError:
                self.geo = json.loads(metadata[b"geo"]).get("primary_column", "geometry")
        if self.geo is None:
            self.lon_col, self.lat_col = coordinate_columns(self.columns, args.lon_col, args.lat_col)
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
                yield _point_chunk(frame, geometry)
            else:
                yield Chunk(
                    frame, frame[self.lon_col].to_numpy(), frame[self.lat_col].to_numpy(), {}, progress=len(frame)
                )


class _GeoJsonReader(_Reader):
    def __init__(self, path: Path, args: argparse.Namespace) -> None:
        super().__init__(path, args)
        import pyogrio

        try:
            self.data = pyogrio.read_dataframe(path)
        except Exception as exc:  # GDAL's errors for a file that is not GeoJSON
            raise CommandError(f"{path.name}: not a readable GeoJSON file: {str(exc)[:200]}") from None
        self.total = len(self.data)
        self.columns = [c for c in self.data.columns if c != "geometry"]
        self.use_columns = args.lon_col is not None or args.lat_col is not None
        if self.use_columns:
            columns = [c for c in self.data.columns if c != "geometry"]
            self.lon_col, self.lat_col = coordinate_columns(columns, args.lon_col, args.lat_col)
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
                yield _point_chunk(frame, geometry)


def _point_chunk(frame: pd.DataFrame, geometry: np.ndarray) -> Chunk:
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


def _joined(chunk: Chunk, table: pd.DataFrame, counts: Counts) -> pd.DataFrame:
    """The input rows with the answer's columns added (renamed on a clash)."""
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


def _wgs84_points(chunk: Chunk, crs: str) -> tuple[np.ndarray, np.ndarray]:
    from geo.lookup import points_in_wgs84

    _, lon, lat, _ = points_in_wgs84(chunk.lon, chunk.lat, crs)
    return lon, lat


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


class _CsvWriter:
    def __init__(self, path: Path) -> None:
        # UTF-8 with a BOM: Excel in a Chinese office opens it without garbling the names.
        self.handle = path.open("w", encoding="utf-8-sig", newline="")
        self.header = True

    def write(self, frame: pd.DataFrame, chunk: Chunk, points: Any) -> None:
        _spreadsheet_safe(frame, added_from=len(chunk.frame.columns)).to_csv(
            self.handle, index=False, header=self.header, sep=chunk.separator
        )
        self.header = False

    def close(self) -> None:
        self.handle.close()


def _spreadsheet_safe(frame: pd.DataFrame, added_from: int) -> pd.DataFrame:
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


class _ParquetWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
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
            raise CommandError("nothing to write")
        self.writer.close()


class _GeoJsonWriter:
    """A FeatureCollection written feature by feature, so memory stays flat."""

    def __init__(self, path: Path) -> None:
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


_WRITERS: dict[str, Callable[[Path], Any]] = {"csv": _CsvWriter, "parquet": _ParquetWriter, "geojson": _GeoJsonWriter}


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


# ---------------------------------------------------------------------------------------------
# Progress and summary
# ---------------------------------------------------------------------------------------------


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def _progress(total: int | None, unit: str) -> Any:
    """A tqdm bar on a terminal; nothing when stderr is a file or a pipe (logs stay clean)."""
    if not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, unit_scale=unit == "B", file=sys.stderr, desc="assign", leave=False)


def _summary(counts: Counts, target: Path) -> None:
    print(
        f"{counts.rows} rows -> {target}: {counts.zone} in a duty zone, {counts.fallback} only in a district "
        f"(fallback unit), {counts.outside} outside every district, {counts.errors} with unusable coordinates",
        file=sys.stderr,
    )
    for line in counts.first_errors:
        print(f"  {line}", file=sys.stderr)
    if counts.renamed:
        names = ", ".join(sorted(counts.renamed))
        print(f"  the input already has {names}: the answer's are written as {CLASH_PREFIX}<name>", file=sys.stderr)
