"""``respmap lookup LON LAT``: who is responsible for this point?

Prints one line per duty zone covering the point, most specific first, then the
district's fallback unit, in the dataset's language (zh or en); ``--json`` prints
the object of :meth:`geo.lookup.LookupResult.to_dict` instead. Coordinates may be
negative (``respmap lookup -122.4 37.7``) or given as one ``LON,LAT`` argument as
copied from a map app; ``--crs`` says which datum they are in.
"""

from __future__ import annotations

import argparse
import math
import re
from typing import Any

from api.commands.common import UsageError, add_json_flag, open_dataset, print_json, print_text
from geo.datums import UnknownCRSError
from geo.lookup import CoordinateError, LookupResult, Match, lookup

ORDER = 20

CRS_HELP = (
    "datum or CRS of the coordinates: wgs84 (GPS, default), cgcs2000, gcj02 (AMap, Tencent, Apple in China), "
    "bd09 (Baidu) or EPSG:<code> (projected: easting northing)"
)
NEGATIVE_NUMBER = re.compile(r"^-\.?\d[\d.,，eE+\-\s]*$")
CRS_LABELS = {"wgs84": "WGS-84", "cgcs2000": "CGCS2000", "gcj02": "GCJ-02", "bd09": "BD-09"}

# Wording in each dataset language. Figures of a standard: (key, template).
WORDS: dict[str, dict[str, Any]] = {
    "zh": {
        "point": "点",
        "outside": "不在任何片区内",
        "nearest": "最近的责任区: {layer} {name} ({feature_id}), 相距 {distance} m",
        "no_zone": "附近没有责任区",
        "stretch": "第{number}段 {from_m}-{to_m} m",
        "away": "相距 {distance} m",
        "nobody": "无责任单位",
        "contact": "联系人",
        "standard": "标准",
        "fallback": "兜底",
        "no_fallback": "(片区未指定兜底单位)",
        "roles": {"lead": "牵头", "shared": "配合", "supervisor": "监督", "fallback": "兜底"},
        "open": "（",
        "close": "）",
        "list": "，",
        "figures": (
            ("sweeps_per_day", "每日普扫{}次"),
            ("patrol_hours", "巡回保洁{}小时"),
            ("litter_max_minutes", "垃圾滞留不超过{}分钟"),
            ("workers_per_10000m2", "每万平方米{}人"),
            ("m2_per_worker", "每人{}平方米"),
            ("yuan_per_m2_year", "{}元/平方米·年"),
            ("bin_spacing_m", "果皮箱间距{}米"),
            ("toilets_per_km", "每公里公厕{}座"),
        ),
    },
    "en": {
        "point": "Point",
        "outside": "outside every district",
        "nearest": "nearest zone: {layer} {name} ({feature_id}), {distance} m away",
        "no_zone": "no zone anywhere near",
        "stretch": "stretch {number} of {count}, {from_m}-{to_m} m",
        "away": "{distance} m away",
        "nobody": "nobody holds it",
        "contact": "contact",
        "standard": "standard",
        "fallback": "Fallback",
        "no_fallback": "(the district names no fallback unit)",
        "roles": {"lead": "lead", "shared": "shared", "supervisor": "supervisor", "fallback": "fallback"},
        "open": " (",
        "close": ")",
        "list": ", ",
        "figures": (
            ("sweeps_per_day", "{} sweeps a day"),
            ("patrol_hours", "{} h patrol cleaning"),
            ("litter_max_minutes", "litter gone within {} min"),
            ("workers_per_10000m2", "cleaners per 10,000 m²: {}"),
            ("m2_per_worker", "{} m² per worker"),
            ("yuan_per_m2_year", "{} yuan/m²/year"),
            ("bin_spacing_m", "bins every {} m"),
            ("toilets_per_km", "toilets per km: {}"),
        ),
    },
}


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "lookup",
        parents=[common],
        help="who is responsible for a point",
        description=(
            "Every duty zone covering a point, most specific first, then the district's fallback unit. "
            "Negative coordinates work as they are (respmap lookup -122.4 37.7); LON,LAT as one argument too."
        ),
    )
    parser.add_argument("lon", metavar="LON", help="longitude (easting for a projected EPSG CRS), or LON,LAT")
    parser.add_argument("lat", metavar="LAT", nargs="?", help="latitude (northing for a projected EPSG CRS)")
    parser.add_argument("--crs", default="wgs84", help=CRS_HELP)
    parser.add_argument("--date", metavar="YYYY-MM-DD", help="the day the answer is for (default: today)")
    add_json_flag(parser)
    # argparse takes "-122.4" for a number but "-122.4,37.7" or "-1e3" for an unknown option; widen its
    # notion of a negative number (this parser has no option that starts with a digit, so nothing clashes).
    parser._negative_number_matcher = NEGATIVE_NUMBER
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    lon, lat = parse_coordinates(args.lon, args.lat)
    ds = open_dataset(args)
    try:
        # One point in this process: the coarse grid builds in milliseconds, with the same answers.
        result = lookup(ds, lon, lat, crs=args.crs, date=args.date, one_off=True)
    except CoordinateError as exc:
        # The CLI says the swap its own way: the corrected command to type.
        message = f"{exc.problem}{_swap_hint(lon, lat)}" if exc.swapped else str(exc)
        raise UsageError(message) from None
    except (UnknownCRSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print_json(result.to_dict())
    else:
        print_text(describe(result, ds.lang, has_frame=ds.frame is not None))
    return 0


def _swap_hint(lon: str, lat: str) -> str:
    """The hint for LON LAT given as LAT LON (map apps copy the latitude first): the command to type."""
    return (
        f"; the numbers look swapped: give the longitude first, e.g. respmap lookup {lat} {lon} "
        "(map apps often copy the latitude first)"
    )


def parse_coordinates(first: str, second: str | None) -> tuple[str, str]:
    """LON and LAT as two arguments, or as one 'LON,LAT' (comma, Chinese comma or space)."""
    if second is None:
        parts = [p for p in re.split(r"[,，\s]+", first.strip()) if p]
        if len(parts) != 2:
            raise UsageError(f"give LON LAT (or 'LON,LAT'), not {first[:60]!r}")
        return parts[0], parts[1]
    return first.strip().rstrip(",，"), second.strip()


def describe(result: LookupResult, lang: str, *, has_frame: bool = True) -> str:
    """The answer as lines of text in ``lang`` (zh or en).

    Outside every district (or anywhere, in a dataset without districts) the
    nearest zone is named only when no zone covers the point: a street the point
    is on is not also its "nearest zone, 0 m away".
    """
    words = WORDS.get(lang, WORDS["zh"])
    lines = [_point_line(result, words, has_frame)]
    for match in result.matches:
        lines.append(_fallback_line(match, words) if match.fallback else _match_line(match, words))
    if not result.inside_frame and not result.matches:
        nearest = result.nearest
        if nearest is None:
            lines.append(words["no_zone"])
        else:
            lines.append(
                words["nearest"].format(
                    layer=nearest.layer_title,
                    name=nearest.name,
                    feature_id=nearest.feature_id,
                    distance=_number(nearest.distance_m, 1),
                )
            )
    return "\n".join(lines)


def _point_line(result: LookupResult, words: dict[str, Any], has_frame: bool) -> str:
    crs = CRS_LABELS.get(result.crs, result.crs)
    given = f"{words['point']} {_coordinate(result.lon)}, {_coordinate(result.lat)} ({crs})"
    if result.crs not in ("wgs84", "cgcs2000"):
        given += f" = WGS-84 {_coordinate(result.lon_wgs84)}, {_coordinate(result.lat_wgs84)}"
    line = f"{given} · {result.date.isoformat()}"
    if result.district is not None:
        return f"{line} · {result.district['name']} ({result.district['district_id']})"
    # A dataset without districts has no "outside" to be in.
    return f"{line} · {words['outside']}" if has_frame else line


def _match_line(match: Match, words: dict[str, Any]) -> str:
    notes = []
    if match.stretch is not None:
        notes.append(
            words["stretch"].format(
                number=match.stretch.number,
                count=match.stretch.count,
                from_m=_number(match.stretch.from_m, 0),
                to_m=_number(match.stretch.to_m, 0),
            )
        )
    if match.distance_m > 0:
        notes.append(words["away"].format(distance=_number(match.distance_m, 1)))
    head = f"{match.layer_title} {match.name}" + (f" ({', '.join(notes)})" if notes else "")
    units = "; ".join(_unit(unit, words) for unit in match.units) or words["nobody"]
    text = f"{head} -> {units}"
    standard = _standard(match.standard, words)
    return f"{text}; {standard}" if standard else text


def _fallback_line(match: Match, words: dict[str, Any]) -> str:
    units = "; ".join(_unit(unit, words, with_role=False) for unit in match.units) or words["no_fallback"]
    return f"{words['fallback']}: {units}"


def _unit(unit: Any, words: dict[str, Any], *, with_role: bool = True) -> str:
    text = unit.name or unit.unit_id
    if with_role:
        text += f"{words['open']}{words['roles'].get(unit.role, unit.role)}{words['close']}"
    contact = " ".join(v for v in (unit.contact, unit.phone) if v)
    return f"{text}, {words['contact']} {contact}" if contact else text


def _standard(standard: dict[str, Any] | None, words: dict[str, Any]) -> str:
    if not standard:
        return ""
    figures = [
        template.format(_number(standard[key])) for key, template in words["figures"] if standard.get(key) is not None
    ]
    grade = standard.get("grade") or standard.get("standard_id")
    text = f"{words['standard']} {grade}"
    return f"{text}: {words['list'].join(figures)}" if figures else text


def _number(value: float, decimals: int | None = None) -> str:
    """2.0 -> '2', 2.5 -> '2.5'; with ``decimals`` rounded to that many places."""
    if decimals is not None:
        value = round(value, decimals)
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return f"{value:g}" if decimals is None else f"{value:.{decimals}f}"


def _coordinate(value: float) -> str:
    return f"{value:.6f}" if abs(value) <= 360 else f"{value:.2f}"
