#!/usr/bin/env python3
"""Generate the synthetic Ankang demo dataset (``layers/ankang``).

What: a deterministic generator that writes a complete respmap dataset folder
(catalog.toml, seven GeoJSON layers, units/standards/assignments CSV tables and
a README) for an invented but realistic layout of Ankang's city centre
(Hanbin district, about 32.69 N 109.03 E, the Han River flowing west to east).

Why: the real campaign plan is not public and must not be bundled, yet every
part of respmap (validation, lookup, coverage, maps, benchmarks) needs data
that looks like the real thing, contains a few realistic problems on purpose,
and can be grown (``--scale N``) for benchmarks.

How: everything is drawn in EPSG:4545 metres (CGCS2000 3-degree GK, CM 108E,
the dataset's metric CRS) from one seeded ``numpy.random.Generator``, then
projected to WGS-84 and rounded to 7 decimals.  Districts are a jittered grid
whose shared vertices are computed once and reused by both neighbours, so they
tile the frame with no gap and no overlap.  Features are placed in vectorised
batches with spatial-index rejection (no O(n²) loops).  Same arguments ->
byte-identical files.

Usage::

    python layers/generate_demo.py [--scale N] [--seed S] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer

DEFAULT_SEED = 20260301
DEFAULT_OUT = Path(__file__).resolve().parent / "ankang"
DATA_DATE = "2026-03-01"
CHANGE_END = "2025-12-31"
CHANGE_START = "2026-01-01"

CENTRE_LON, CENTRE_LAT = 109.03, 32.69
BASE_WIDTH_M, BASE_HEIGHT_M = 9000.0, 6000.0
BANK_OFFSET_M = 150.0
GRID_ANGLE = math.radians(8.0)  # the old town's street grid follows the river

# Counts at scale 1; every one is multiplied by --scale.
N_DISTRICTS = 16
N_VILLAGES = 24
N_STREETS = 177
N_COMPOUNDS = 65
N_ENTRANCES = 6
N_FACILITIES = 150
N_SPLIT_STREETS = 14
N_LEAD_CHANGES = 5

# (layer id, id prefix, id digits at scale 1)
ID_STYLE = {
    "districts": ("D", 2),
    "urban_villages": ("UV", 3),
    "back_streets": ("BS", 3),
    "unmanaged_compounds": ("UC", 3),
    "city_entrances": ("CE", 2),
    "riverbank_segments": ("RB", 2),
    "facilities": ("FA", 3),
}

TO_LONLAT = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True)

# --------------------------------------------------------------------------
# Name pools (plausible, invented)
# --------------------------------------------------------------------------

DISTRICT_BASES = [
    "关庙",
    "火车站",
    "张岭",
    "五里",
    "高新",
    "江北",
    "金州",
    "长岭",
    "西关",
    "老城",
    "东关",
    "东坝",
    "建民",
    "新城",
    "香溪",
    "黄洋河",
]
RIVER_NAMES = [
    "汉江",
    "月河",
    "黄洋河",
    "傅家河",
    "恒河",
    "吉河",
    "池河",
    "岚河",
    "坝河",
    "旬河",
    "任河",
]
DEPARTMENTS = [
    "市创建办",
    "市城管局",
    "市住建局",
    "市卫生局",
    "市林业局",
    "市环保局",
    "市水利局",
    "市民政局",
    "市交通局",
    "市公安局交警支队",
    "市教育局",
    "市财政局",
    "市自然资源局",
    "市商务局",
    "市文旅局",
    "市市场监管局",
    "市农业农村局",
    "市发改委",
    "市工信局",
    "市人社局",
    "市司法局",
    "市审计局",
    "市统计局",
    "市应急管理局",
    "市医保局",
    "市退役军人事务局",
    "市体育局",
    "市税务局",
    "市气象局",
    "市邮政管理局",
    "市科技局",
    "市民宗委",
    "市档案馆",
    "市总工会",
    "团市委",
    "市妇联",
    "市文明办",
    "市政府办",
    "市委宣传部",
    "市委组织部",
    "市国资委",
    "市供销社",
]
IDLE_DEPARTMENT = "市档案馆"
COUNTIES = ["汉滨区人民政府", "安康高新区管委会"]
MORE_COUNTIES = ["汉阴县", "石泉县", "宁陕县", "紫阳县", "岚皋县", "平利县", "镇坪县", "旬阳市", "白河县"]
COMPANIES = [
    "安康市环卫保洁有限公司",
    "汉滨区城乡环卫服务有限公司",
    "安康绿洁环境服务有限公司",
    "安康市政园林养护有限公司",
]
STREET_PREFIXES = [
    "幸福",
    "兴安",
    "育才",
    "建设",
    "和平",
    "文化",
    "金州",
    "香溪",
    "巴山",
    "汉江",
    "东关",
    "西关",
    "南门",
    "北门",
    "大桥",
    "新华",
    "解放",
    "人民",
    "胜利",
    "友谊",
    "团结",
    "红旗",
    "民主",
    "鼓楼",
    "书院",
    "学府",
    "新民",
    "安澜",
    "平安",
    "康宁",
    "永安",
    "吉祥",
    "丰收",
    "长春",
    "太平",
    "兴隆",
    "富强",
    "公园",
    "体育",
    "医院",
    "电力",
    "邮电",
    "粮站",
    "农机",
    "供销",
    "马坎",
    "磨沟",
    "白庙",
    "水西",
    "新安",
    "西城",
    "东堤",
    "南堤",
    "江滨",
    "培新",
    "共和",
    "先锋",
    "光明",
    "朝阳",
    "五星",
    "柳荫",
    "槐树",
    "石板",
    "大北",
    "财神庙",
    "城隍庙",
]
STREET_SUFFIXES = [
    "巷",
    "街",
    "路",
    "里",
    "坡",
    "后街",
    "横街",
    "路东段",
    "路西段",
    "路南段",
    "路北段",
    "小巷",
]
SURNAMES = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "高",
    "林",
    "罗",
    "郑",
    "梁",
    "谢",
    "宋",
    "唐",
    "许",
    "韩",
    "冯",
    "邓",
    "曹",
    "彭",
    "曾",
    "肖",
    "田",
    "董",
    "袁",
    "潘",
    "蒋",
    "蔡",
    "余",
    "杜",
    "叶",
    "程",
    "苏",
    "魏",
    "吕",
    "丁",
    "任",
    "沈",
    "姚",
    "卢",
    "姜",
    "崔",
    "钟",
    "谭",
    "陆",
    "汪",
    "范",
    "金",
    "石",
    "廖",
    "贾",
    "夏",
    "付",
]
GIVEN_CHARS = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "海燕",
    "红梅",
    "国庆",
    "小龙",
    "文",
    "华",
    "斌",
    "玲",
    "波",
    "鹏",
    "辉",
    "兰",
    "建国",
    "秀兰",
    "玉梅",
    "德明",
    "永红",
    "春燕",
]
VILLAGE_SUFFIXES = [
    "岭村",
    "家湾村",
    "家庄村",
    "家坪村",
    "家沟村",
    "家营村",
    "家坝村",
    "家河村",
    "家台村",
    "湾村",
    "坪村",
    "家院村",
]
COMPOUND_PREFIXES = [
    "育才",
    "兴安",
    "幸福",
    "建设",
    "和平",
    "文化",
    "金州",
    "香溪",
    "巴山",
    "汉江",
    "纺织厂",
    "化肥厂",
    "丝绸厂",
    "棉纺厂",
    "粮站",
    "供销社",
    "邮电",
    "电力",
    "农机",
    "物资局",
    "水电局",
    "交通局",
    "卫生局",
    "食品公司",
    "百货公司",
    "五金厂",
    "印刷厂",
    "酒厂",
    "烟厂",
    "汽修厂",
    "木材公司",
    "建筑公司",
    "教师",
    "医院",
    "水泥厂",
    "面粉厂",
    "东关",
    "西关",
    "南门",
    "北门",
]
COMPOUND_SUFFIXES = ["小区", "家属院", "大院", "新村", "宿舍", "家属楼"]
ENTRANCE_ROADS = [
    "江北大道",
    "巴山大道",
    "兴安大道",
    "安康大道",
    "滨江大道",
    "汉江大道",
    "高新大道",
    "金州路",
    "香溪路",
    "育才路",
    "南环路",
    "北环路",
    "316国道",
    "包茂高速",
    "十天高速",
    "西康高速",
]
SIDE_WORD = {"W": "西", "E": "东", "N": "北", "S": "南"}
GRADES4 = ["一级", "二级", "三级", "四级"]

# standard_id, applies_to, grade, sweeps/day, patrol h, litter max min, workers/10000 m²,
# yuan/m²/year, bin spacing m, toilets/km, notes.  Illustrative, in the spirit of the
# CJJ/T 126-2022 grades; not the figures of any real plan.
STANDARDS: list[tuple[str, str, str, int, int, int, float, float, int, float, str]] = [
    ("STD-GEN-1", "*", "一级", 3, 16, 60, 2.0, 12.0, 50, 3.0, "通用一级：全天巡回保洁"),
    ("STD-GEN-2", "*", "二级", 2, 14, 90, 1.5, 10.0, 70, 2.0, "通用二级"),
    ("STD-GEN-3", "*", "三级", 2, 12, 120, 1.0, 8.0, 100, 1.5, "通用三级"),
    ("STD-GEN-4", "*", "四级", 1, 8, 240, 0.6, 6.0, 100, 1.0, "通用四级：一日一扫"),
    ("STD-UV-1", "urban_villages", "一级", 3, 16, 60, 0.6, 4.0, 50, 3.0, "城中村一级：生活垃圾日产日清，严禁露天堆放"),
    ("STD-UV-2", "urban_villages", "二级", 2, 14, 90, 0.45, 3.0, 70, 2.0, "城中村二级"),
    ("STD-UV-3", "urban_villages", "三级", 2, 12, 120, 0.3, 2.5, 100, 1.5, "城中村三级"),
    ("STD-BS-1", "back_streets", "一级", 3, 16, 60, 2.2, 12.0, 50, 3.0, "背街小巷一级：路面见本色，无积水无杂物"),
    ("STD-BS-2", "back_streets", "二级", 2, 14, 90, 1.6, 10.0, 70, 2.0, "背街小巷二级"),
    ("STD-BS-3", "back_streets", "三级", 2, 12, 120, 1.1, 8.0, 100, 1.5, "背街小巷三级；四级背街按通用四级（*）执行"),
    ("STD-UC-1", "unmanaged_compounds", "一级", 2, 14, 60, 0.8, 5.0, 50, 2.0, "无物业小区一级：楼道院落每日清扫"),
    ("STD-UC-2", "unmanaged_compounds", "二级", 2, 12, 90, 0.6, 4.0, 70, 1.5, "无物业小区二级"),
    ("STD-UC-3", "unmanaged_compounds", "三级", 1, 10, 120, 0.4, 3.0, 100, 1.0, "无物业小区三级"),
    ("STD-CE-1", "city_entrances", "一级", 3, 18, 30, 1.2, 14.0, 50, 2.0, "城市出入口一级：门户形象路段，机扫加人工"),
    ("STD-CE-2", "city_entrances", "二级", 2, 16, 60, 0.9, 11.0, 70, 1.5, "城市出入口二级"),
    ("STD-RB-1", "riverbank_segments", "一级", 2, 14, 60, 1.0, 9.0, 80, 2.0, "沿江河一级：岸线无漂浮物、无垃圾"),
    ("STD-RB-2", "riverbank_segments", "二级", 1, 12, 120, 0.7, 7.0, 100, 1.0, "沿江河二级"),
    (
        "STD-FA-1",
        "facilities",
        "一级",
        4,
        16,
        30,
        2.0,
        15.0,
        50,
        3.0,
        "环卫设施：公厕每日保洁四次，转运站日产日清，果皮箱每日清掏",
    ),
]
FACILITY_STANDARD = "STD-FA-1"

LAYER_TITLES = {
    "districts": ("双创片区", "Campaign districts"),
    "urban_villages": ("城中村", "Urban villages"),
    "back_streets": ("背街小巷", "Back streets and alleys"),
    "unmanaged_compounds": ("无物业管理小区", "Residential compounds without property management"),
    "city_entrances": ("城市出入口", "City entrances"),
    "riverbank_segments": ("沿江河", "Riverbanks"),
    "facilities": ("环卫设施", "Sanitation facilities"),
}
LAYER_ORDER = list(LAYER_TITLES)

# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

_CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """Chinese numeral for 1 <= n < 10000 (used to number repeated place names)."""
    if n <= 0:
        raise ValueError(n)
    if n >= 10000:
        return str(n)
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    out = ""
    gap = False
    for value, word in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit:
            if gap:
                out += "零"
            out += _CN_DIGITS[digit] + word
            gap = False
        elif out:
            gap = True
    return out


def dedupe(names: Sequence[str]) -> list[str]:
    """Make names unique by appending （二）, （三）... to repeats, keeping order."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        candidate, k = name, 1
        while candidate in seen:
            k += 1
            candidate = f"{name}（{cn_number(k)}）"
        seen.add(candidate)
        out.append(candidate)
    return out


def combo_names(
    rng: np.random.Generator,
    n: int,
    prefixes: Sequence[str],
    suffixes: Sequence[str],
    numbered: Callable[[str, str, int], str],
) -> list[str]:
    """n distinct names prefix+suffix in a seeded order; numbered variants once exhausted.

    Why: place names must be unique within a layer at any --scale, yet read
    naturally (幸福巷, then 幸福二巷 when the pool runs out).
    """
    combos = [(p, s) for p in prefixes for s in suffixes]
    order = rng.permutation(len(combos))
    names: list[str] = []
    round_no = 1
    while len(names) < n:
        for i in order:
            p, s = combos[int(i)]
            names.append(p + s if round_no == 1 else numbered(p, s, round_no))
            if len(names) == n:
                break
        round_no += 1
    return dedupe(names)


def make_ids(layer: str, n: int, scale: int) -> list[str]:
    """Feature ids like BS001; the zero padding widens with --scale so ids stay sortable."""
    prefix, digits = ID_STYLE[layer]
    width = max(digits, len(str(n)))
    return [f"{prefix}{i + 1:0{width}d}" for i in range(n)]


def unit_ids(prefix: str, n: int, digits: int) -> list[str]:
    """Unit ids like HQ01 or CM001, padded to fit n."""
    width = max(digits, len(str(n)))
    return [f"{prefix}{i + 1:0{width}d}" for i in range(n)]


def _lonlat_coords(coords: np.ndarray) -> np.ndarray:
    lon, lat = TO_LONLAT.transform(coords[:, 0], coords[:, 1])
    return np.round(np.column_stack([lon, lat]), 7)


def _metric_coords(coords: np.ndarray) -> np.ndarray:
    x, y = TO_METRIC.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def to_lonlat(geoms: np.ndarray) -> np.ndarray:
    """EPSG:4545 metres -> WGS-84 lon/lat rounded to 7 decimals (what the files hold)."""
    return shapely.transform(geoms, _lonlat_coords)


def to_metric(geoms: np.ndarray) -> np.ndarray:
    """WGS-84 lon/lat -> EPSG:4545 metres (how consumers measure stretches)."""
    return shapely.transform(geoms, _metric_coords)


def floor_decimetre(length: float) -> float:
    """Round a length DOWN to 0.1 m (with 1 µm slack) so a stretch never exceeds its line."""
    return math.floor((length - 1e-6) * 10.0) / 10.0


def fmt_m(value: float) -> str:
    """Metres for the CSV: 250 -> '250', 512.3 -> '512.3'."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


# --------------------------------------------------------------------------
# Data records
# --------------------------------------------------------------------------


@dataclass
class River:
    """A W-E river: meandering centreline, two banks (W->E) and the water polygon."""

    name: str
    row: int
    base_y: float
    params: tuple[float, float, float, float, float, float]
    x0: float
    north: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    south: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    crossings: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def centre_y(self, x: np.ndarray | float) -> np.ndarray:
        """Centreline y at x: two superposed sine waves (gentle meanders)."""
        a1, l1, p1, a2, l2, p2 = self.params
        t = np.asarray(x, dtype=float) - self.x0
        return self.base_y + a1 * np.sin(2 * np.pi * t / l1 + p1) + a2 * np.sin(2 * np.pi * t / l2 + p2)

    def polygon(self) -> shapely.Polygon:
        """The water between the banks (used to keep other features out of the river)."""
        return shapely.Polygon(np.vstack([self.north, self.south[::-1]]))


@dataclass
class Feature:
    """One generated feature: metric geometry, properties and bookkeeping for assignments."""

    layer: str
    geom: shapely.Geometry
    props: dict[str, object]
    district: int = -1
    length_floor: float = 0.0  # lines: EPSG:4545 length of the written line, floored to 0.1 m
    workload_m2: float = 0.0
    tag: str = ""


@dataclass
class Unit:
    """One row of units.csv."""

    unit_id: str
    name: str
    kind: str
    parent: str
    contact: str
    phone: str
    staff: int
    district: str
    copy: int


@dataclass
class Row:
    """One row of assignments.csv."""

    feature_id: str
    unit_id: str
    role: str
    from_m: float | None = None
    to_m: float | None = None
    valid_from: str = ""
    valid_until: str = ""


# --------------------------------------------------------------------------
# The builder
# --------------------------------------------------------------------------


class DemoBuilder:
    """Builds the whole dataset in memory; ``write`` puts it on disk.

    All randomness flows through one seeded Generator in a fixed call order,
    which is what makes two runs with the same arguments byte-identical.
    """

    def __init__(self, scale: int, seed: int) -> None:
        if scale < 1:
            raise ValueError("scale must be >= 1")
        self.scale = scale
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        s = math.sqrt(scale)
        cx, cy = TO_METRIC.transform(CENTRE_LON, CENTRE_LAT)
        half_w, half_h = round(BASE_WIDTH_M * s / 2), round(BASE_HEIGHT_M * s / 2)
        self.x0, self.x1 = float(round(cx) - half_w), float(round(cx) + half_w)
        self.y0, self.y1 = float(round(cy) - half_h), float(round(cy) + half_h)
        self.width = self.x1 - self.x0
        self.height = self.y1 - self.y0
        self.ny = max(4, round(4 * s))
        total = N_DISTRICTS * scale
        self.row_counts = [total // self.ny + (1 if r < total % self.ny else 0) for r in range(self.ny)]
        self.row_h = self.height / self.ny
        self.frame = shapely.box(self.x0, self.y0, self.x1, self.y1)
        self.rivers: list[River] = []
        self.layers: dict[str, list[Feature]] = {name: [] for name in LAYER_ORDER}
        self.units: list[Unit] = []
        self.rows: dict[str, list[Row]] = {}
        self.planted: dict[str, list[str]] = {"unheld": [], "overlap": [], "gap": [], "idle": []}
        self.notes: dict[str, list[str]] = {"split": [], "change": [], "short": []}

    # ---------------------------------------------------------------- rivers
    def build_rivers(self) -> None:
        """One meandering W-E river in every fourth row (row 1 is the Han at 32.685 N).

        The top row never holds a river: entrances come in from the north edge.
        """
        rng = self.rng
        n_samples = int(self.width / 50.0) + 1
        xs = np.linspace(self.x0, self.x1, n_samples)
        for i, row in enumerate(range(1, self.ny - 1, 4)):
            name = RIVER_NAMES[i] if i < len(RIVER_NAMES) else f"{RIVER_NAMES[i % 10 + 1]}{i}"
            params = (
                float(rng.uniform(90, 130)),
                float(rng.uniform(5000, 8000)),
                float(rng.uniform(0, 2 * np.pi)),
                float(rng.uniform(25, 40)),
                float(rng.uniform(2000, 2800)),
                float(rng.uniform(0, 2 * np.pi)),
            )
            base_y = self.y0 + (row + 0.63) * self.row_h
            river = River(name, row, base_y, params, self.x0)
            yc = river.centre_y(xs)
            river.north = np.column_stack([xs, yc + BANK_OFFSET_M])
            river.south = np.column_stack([xs, yc - BANK_OFFSET_M])
            lo, hi = self.y0 + row * self.row_h, self.y0 + (row + 1) * self.row_h
            if river.south[:, 1].min() < lo + 200 or river.north[:, 1].max() > hi - 200:
                raise RuntimeError("river does not fit in its row")
            self.rivers.append(river)
        self.river_rows = {river.row: river for river in self.rivers}
        self.water = np.array([river.polygon() for river in self.rivers], dtype=object)

    def near_river_weight(self, pts: np.ndarray) -> np.ndarray:
        """Sampling weight: the town is densest along the rivers, thinner on the hills."""
        base = np.array([river.base_y for river in self.rivers])
        d = np.min(np.abs(pts[:, 1:2] - base[None, :]), axis=1)
        return 0.3 + 0.7 * np.exp(-((d / 1600.0) ** 2))

    def sample_points(self, m: int, margin: float = 60.0) -> np.ndarray:
        """m points inside the frame, drawn with the near-river density."""
        out: list[np.ndarray] = []
        got = 0
        while got < m:
            k = max(32, 3 * (m - got))
            pts = np.column_stack(
                [
                    self.rng.uniform(self.x0 + margin, self.x1 - margin, k),
                    self.rng.uniform(self.y0 + margin, self.y1 - margin, k),
                ]
            )
            keep = self.rng.random(k) < self.near_river_weight(pts)
            out.append(pts[keep])
            got += int(keep.sum())
        return np.vstack(out)[:m]

    # ------------------------------------------------------------- entrances
    def build_entrances(self, div_bottom0: np.ndarray, div_top_last: np.ndarray) -> None:
        """City entrances: main-road stretches that start exactly on the frame's edge."""
        rng = self.rng
        n = N_ENTRANCES * self.scale
        cycle = ["W", "E", "N", "S", "W", "E"]
        sides = [cycle[i % 6] for i in range(n)]
        per_side = {s: sides.count(s) for s in "WENS"}
        slot_used = dict.fromkeys("WENS", 0)
        corner = 1700.0
        row_bounds = self.y0 + self.row_h * np.arange(self.ny + 1)
        bank_y = {
            "W": [r.north[0, 1] for r in self.rivers] + [r.south[0, 1] for r in self.rivers],
            "E": [r.north[-1, 1] for r in self.rivers] + [r.south[-1, 1] for r in self.rivers],
        }
        lines: list[shapely.Geometry] = []
        anchors: list[tuple[str, float]] = []
        for side in sides:
            k, m = slot_used[side], per_side[side]
            slot_used[side] += 1
            if side in "WE":
                lo, hi = self.y0 + corner, self.y1 - corner
            else:
                lo, hi = self.x0 + corner, self.x1 - corner
            a, b = lo + (hi - lo) * k / m, lo + (hi - lo) * (k + 1) / m
            for attempt in range(400):
                if attempt == 200:
                    a, b = lo, hi
                pos = float(rng.uniform(a, b))
                if side in "WE":
                    if np.min(np.abs(row_bounds - pos)) < 200:
                        continue
                    if np.min(np.abs(np.array(bank_y[side]) - pos)) < 260:
                        continue
                else:
                    divs = div_bottom0 if side == "S" else div_top_last
                    if len(divs) and np.min(np.abs(divs - pos)) < 150:
                        continue
                line = self._entrance_line(side, pos)
                if not shapely.covered_by(line, self.frame):
                    continue
                if shapely.dwithin(line, self.water, 80.0).any():
                    continue
                if lines and shapely.dwithin(line, np.array(lines, dtype=object), 90.0).any():
                    continue
                lines.append(line)
                anchors.append((side, pos))
                break
            else:
                raise RuntimeError(f"could not place entrance on side {side}")
        self.entrance_lines = lines
        self.entrance_anchors = anchors

    def _entrance_line(self, side: str, pos: float) -> shapely.LineString:
        rng = self.rng
        start = {
            "W": (self.x0, pos),
            "E": (self.x1, pos),
            "N": (pos, self.y1),
            "S": (pos, self.y0),
        }[side]
        inward = {"W": 0.0, "E": np.pi, "N": -np.pi / 2, "S": np.pi / 2}[side]
        heading = inward + rng.uniform(-0.06, 0.06)
        length = rng.uniform(650, 1450)
        pts = [start]
        if rng.random() < 0.5:
            f = rng.uniform(0.4, 0.7)
            p = (start[0] + f * length * math.cos(heading), start[1] + f * length * math.sin(heading))
            pts.append(p)
            heading += rng.uniform(-0.1, 0.1)
            rest = (1 - f) * length
            pts.append((p[0] + rest * math.cos(heading), p[1] + rest * math.sin(heading)))
        else:
            pts.append((start[0] + length * math.cos(heading), start[1] + length * math.sin(heading)))
        return shapely.LineString(pts)

    # ------------------------------------------------------------- districts
    def build_districts(self) -> None:
        """Jittered grid of districts with exactly shared vertices (no gap, no overlap).

        Each horizontal row boundary is one polyline whose knots include every
        divider foot from the rows above and below; each divider is one
        polyline.  A cell is stitched from those shared arrays, so neighbours
        hold bit-identical edges.  River banks and entrance anchors are
        inserted as vertices into the dividers / frame edges they touch.
        """
        rng = self.rng
        ny, counts, h = self.ny, self.row_counts, self.row_h
        x_bot: list[np.ndarray] = []
        x_top: list[np.ndarray] = []
        for r in range(ny):
            n = counts[r]
            cw = self.width / n
            base = self.x0 + cw * np.arange(1, n)
            if r > 0 and counts[r - 1] == n:
                bot = x_top[r - 1].copy()
            else:
                bot = base + rng.uniform(-0.12, 0.12, n - 1) * cw
                if r > 0:
                    bot = _separate(bot, x_top[r - 1], 60.0)
            top = base + rng.uniform(-0.12, 0.12, n - 1) * cw
            x_bot.append(bot)
            x_top.append(top)

        self.build_entrances(x_bot[0], x_top[ny - 1])
        s_anchor = np.array([p for s, p in self.entrance_anchors if s == "S"])
        n_anchor = np.array([p for s, p in self.entrance_anchors if s == "N"])

        # Row boundaries (j = 0 bottom frame edge ... ny top frame edge).
        bx: list[np.ndarray] = []
        by: list[np.ndarray] = []
        step = 250.0
        regular = self.x0 + step * np.arange(1, int(self.width / step))
        for j in range(ny + 1):
            parts = [np.array([self.x0, self.x1])]
            if j > 0:
                parts.append(x_top[j - 1])
            if j < ny:
                parts.append(x_bot[j])
            if j == 0:
                parts.append(s_anchor)
            if j == ny:
                parts.append(n_anchor)
            special = np.unique(np.concatenate(parts))
            dist = np.min(np.abs(regular[:, None] - special[None, :]), axis=1)
            knots = np.unique(np.concatenate([special, regular[dist >= 40.0]]))
            if np.min(np.diff(knots)) < 30.0:
                raise RuntimeError("boundary knots too close")
            if j == 0:
                ys = np.full(len(knots), self.y0)
            elif j == ny:
                ys = np.full(len(knots), self.y1)
            else:
                a1, l1, p1 = rng.uniform(30, 70), rng.uniform(2500, 5000), rng.uniform(0, 2 * np.pi)
                a2, l2, p2 = rng.uniform(10, 25), rng.uniform(700, 1400), rng.uniform(0, 2 * np.pi)
                t = knots - self.x0
                ys = (
                    self.y0
                    + j * h
                    + a1 * np.sin(2 * np.pi * t / l1 + p1)
                    + a2 * np.sin(2 * np.pi * t / l2 + p2)
                    + rng.uniform(-8, 8, len(knots))
                )
            bx.append(knots)
            by.append(ys)

        def knot(j: int, x: float) -> tuple[float, float]:
            i = int(np.searchsorted(bx[j], x))
            if bx[j][i] != x:
                raise RuntimeError("divider foot is not a boundary knot")
            return float(bx[j][i]), float(by[j][i])

        cells: list[tuple[int, int, shapely.Polygon]] = []
        for r in range(ny):
            n = counts[r]
            cw = self.width / n
            river = self.river_rows.get(r)
            dividers: list[np.ndarray] = []
            # West frame edge, with entrance anchors and bank ends inserted.
            for edge_x, side, bank_i in ((self.x0, "W", 0), (self.x1, "E", -1)):
                lo, hi = knot(r, edge_x), knot(r + 1, edge_x)
                extra = [p for s, p in self.entrance_anchors if s == side and lo[1] < p < hi[1]]
                if river is not None:
                    extra += [float(river.south[bank_i, 1]), float(river.north[bank_i, 1])]
                extra_pts = [(edge_x, y) for y in sorted(extra)]
                dividers.append(np.array([lo, *extra_pts, hi]))
            west, east = dividers
            inner: list[np.ndarray] = []
            xm = (x_bot[r] + x_top[r]) / 2 + rng.uniform(-0.05, 0.05, n - 1) * cw
            if river is None:
                ym = self.y0 + (r + rng.uniform(0.4, 0.6, n - 1)) * h
            else:
                ym = river.centre_y(xm)
            for k in range(n - 1):
                inner.append(np.array([knot(r, x_bot[r][k]), (xm[k], ym[k]), knot(r + 1, x_top[r][k])]))
            if river is not None:
                inner = self._cut_banks(river, inner)
            dividers = [west, *inner, east]
            for k in range(n):
                left, right = dividers[k], dividers[k + 1]
                i0 = int(np.searchsorted(bx[r], left[0, 0]))
                i1 = int(np.searchsorted(bx[r], right[0, 0]))
                j0 = int(np.searchsorted(bx[r + 1], left[-1, 0]))
                j1 = int(np.searchsorted(bx[r + 1], right[-1, 0]))
                bottom = np.column_stack([bx[r][i0 : i1 + 1], by[r][i0 : i1 + 1]])
                top = np.column_stack([bx[r + 1][j0 : j1 + 1], by[r + 1][j0 : j1 + 1]])[::-1]
                ring = np.vstack([bottom, right[1:-1], top, left[1:-1][::-1]])
                cells.append((r, k, shapely.Polygon(ring)))

        # Ids run row by row from the north-west corner.
        cells.sort(key=lambda c: (-c[0], c[1]))
        ids = make_ids("districts", len(cells), self.scale)
        self.cell_index: dict[tuple[int, int], int] = {}
        for d, (r, k, poly) in enumerate(cells):
            base = DISTRICT_BASES[d % 16]
            copy = d // 16
            name = f"{base}{cn_number(copy + 1) if copy else ''}片区"
            self.cell_index[(r, k)] = d
            self.layers["districts"].append(
                Feature(
                    "districts",
                    poly,
                    {"id": ids[d], "name": name},
                    district=d,
                    tag=base + (cn_number(copy + 1) if copy else ""),
                )
            )
        geoms = np.array([f.geom for f in self.layers["districts"]], dtype=object)
        if not shapely.is_valid(geoms).all():
            raise RuntimeError("invalid district cell")
        total = float(shapely.area(geoms).sum())
        union = float(shapely.area(shapely.union_all(geoms)))
        if abs(total - union) > 1e-6 * total or abs(union - self.width * self.height) > 1.0:
            raise RuntimeError("districts do not tile the frame")
        self.district_geoms = geoms
        self.district_tree = shapely.STRtree(geoms)

    def _cut_banks(self, river: River, dividers: list[np.ndarray]) -> list[np.ndarray]:
        """Insert each divider/bank crossing as a vertex of both, so segments end on edges."""
        out: list[np.ndarray] = []
        crossings: dict[str, list[tuple[float, float]]] = {"north": [], "south": []}
        for div in dividers:
            line = shapely.LineString(div)
            pts = []
            for bank in ("south", "north"):
                hit = shapely.intersection(line, shapely.LineString(getattr(river, bank)))
                if hit.geom_type != "Point":
                    raise RuntimeError("divider crosses a bank more than once")
                crossings[bank].append((hit.x, hit.y))
                pts.append((hit.x, hit.y))
            allpts = np.vstack([div, np.array(pts)])
            out.append(allpts[np.argsort(allpts[:, 1], kind="stable")])
        river.crossings = crossings
        for bank in ("south", "north"):
            arr = getattr(river, bank)
            cx = np.array([p[0] for p in crossings[bank]])
            if len(cx):
                dist = np.min(np.abs(arr[:, 0:1] - cx[None, :]), axis=1)
                arr = arr[dist >= 2.0]
                arr = np.vstack([arr, np.array(crossings[bank])])
                arr = arr[np.argsort(arr[:, 0], kind="stable")]
            setattr(river, bank, arr)
        return out

    # ------------------------------------------------------------ riverbanks
    def build_riverbanks(self) -> None:
        """One segment per bank per district, cut exactly at the district edges."""
        rng = self.rng
        feats: list[Feature] = []
        for river in self.rivers:
            n = self.row_counts[river.row]
            for bank, word in (("north", "北岸"), ("south", "南岸")):
                arr = getattr(river, bank)
                inner = [int(np.searchsorted(arr[:, 0], x)) for x, _ in river.crossings[bank]]
                cut = [0, *inner, len(arr) - 1]
                for k in range(n):
                    seg = arr[cut[k] : cut[k + 1] + 1]
                    d = self.cell_index[(river.row, k)]
                    district = self.layers["districts"][d]
                    feats.append(
                        Feature(
                            "riverbank_segments",
                            shapely.LineString(seg),
                            {
                                "name": f"{river.name}{word}{district.tag}段",
                                "bank": word,
                                "district": district.props["id"],
                                "grade": "一级" if rng.random() < 0.55 else "二级",
                                "width_m": float(round(rng.uniform(10, 30))),
                            },
                            district=d,
                            tag=bank,
                        )
                    )
        self._finish_layer("riverbank_segments", feats, sort=False)

    # ----------------------------------------------------------- placement
    def place(
        self,
        make_batch: Callable[[int], tuple[np.ndarray, np.ndarray]],
        n: int,
        keep_out: Sequence[tuple[np.ndarray, float]],
        gap_self: float,
        accept: Callable[[np.ndarray], np.ndarray] | None = None,
        margin: float = 50.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw batches of candidates until n are accepted.

        A candidate is kept if it is valid (also once rounded to lon/lat),
        inside the frame, at least the given gap from every keep-out geometry,
        from every feature already accepted, and from every earlier candidate
        of its own batch.  Spatial indexes keep this O(n log n).
        """
        inner = shapely.box(self.x0 + margin, self.y0 + margin, self.x1 - margin, self.y1 - margin)
        trees = [(shapely.STRtree(g), d) for g, d in keep_out if len(g)]
        done_g: list[np.ndarray] = []
        done_t: list[np.ndarray] = []
        have = 0
        for _ in range(500):
            need = n - have
            if need <= 0:
                break
            cand, tags = make_batch(max(16, 2 * need))
            ok = shapely.is_valid(cand) & shapely.within(cand, inner)
            if accept is not None:
                ok &= accept(cand)
            ll = to_lonlat(cand)
            ok &= shapely.is_valid(ll) & shapely.is_simple(ll)
            for tree, dist in trees:
                hit = tree.query(cand, predicate="dwithin", distance=dist)
                ok[hit[0]] = False
            if done_g:
                tree = shapely.STRtree(np.concatenate(done_g))
                hit = tree.query(cand, predicate="dwithin", distance=gap_self)
                ok[hit[0]] = False
            tree = shapely.STRtree(cand)
            hit = tree.query(cand, predicate="dwithin", distance=gap_self)
            earlier = (hit[1] < hit[0]) & ok[hit[1]]
            ok[hit[0][earlier]] = False
            idx = np.flatnonzero(ok)[:need]
            done_g.append(cand[idx])
            done_t.append(tags[idx])
            have += len(idx)
        if have < n:
            raise RuntimeError(f"could only place {have} of {n} features")
        return np.concatenate(done_g), np.concatenate(done_t)

    def _village_batch(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        rng = self.rng
        centre = self.sample_points(m, margin=350.0)
        k = rng.integers(6, 11, m)
        radius = rng.uniform(120, 290, m)
        ang0 = rng.uniform(0, 2 * np.pi, m)
        j = np.arange(10)
        t = (j[None, :] + rng.uniform(-0.3, 0.3, (m, 10))) / k[:, None] * 2 * np.pi + ang0[:, None]
        rad = radius[:, None] * rng.uniform(0.7, 1.0, (m, 10))
        pts = centre[:, None, :] + rad[..., None] * np.stack([np.cos(t), np.sin(t)], axis=-1)
        valid = j[None, :] < k[:, None]
        rings = shapely.linearrings(pts[valid], indices=np.repeat(np.arange(m), k))
        return shapely.polygons(rings), np.zeros(m, dtype=int)

    def _compound_shapes(self, centre: np.ndarray) -> np.ndarray:
        """Blocks: jittered rotated rectangles, some L-shaped, 60-250 m across."""
        rng = self.rng
        m = len(centre)
        w = rng.uniform(55, 190, m)
        h = rng.uniform(45, 160, m)
        a = rng.uniform(0.4, 0.7, m)
        b = rng.uniform(0.4, 0.7, m)
        is_l = rng.random(m) < 0.35
        local = np.zeros((m, 6, 2))
        rect = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 1], [0, 1]], dtype=float)
        local[:] = rect
        local[is_l] = np.stack(
            [
                np.column_stack([np.zeros(m), np.zeros(m)]),
                np.column_stack([np.ones(m), np.zeros(m)]),
                np.column_stack([np.ones(m), a]),
                np.column_stack([b, a]),
                np.column_stack([b, np.ones(m)]),
                np.column_stack([np.zeros(m), np.ones(m)]),
            ],
            axis=1,
        )[is_l]
        local = (local - 0.5) * np.stack([w, h], axis=-1)[:, None, :]
        local += rng.uniform(-0.04, 0.04, (m, 6, 2)) * np.minimum(w, h)[:, None, None]
        theta = GRID_ANGLE + rng.normal(0, 0.12, m) + rng.integers(0, 2, m) * np.pi / 2
        c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
        xs = local[..., 0] * c - local[..., 1] * s + centre[:, 0:1]
        ys = local[..., 0] * s + local[..., 1] * c + centre[:, 1:2]
        nv = np.where(is_l, 6, 4)
        valid = np.arange(6)[None, :] < nv[:, None]
        pts = np.stack([xs, ys], axis=-1)[valid]
        rings = shapely.linearrings(pts, indices=np.repeat(np.arange(m), nv))
        return shapely.polygons(rings)

    def _compound_batch(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        centre = self.sample_points(m, margin=200.0)
        return self._compound_shapes(centre), np.zeros(m, dtype=int)

    def _street_batch(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Streets: grid-aligned runs with right-angle turns and small bends, no U-turns."""
        rng = self.rng
        start = self.sample_points(m, margin=80.0)
        nv = rng.choice([2, 3, 4, 5, 6], size=m, p=[0.22, 0.32, 0.26, 0.12, 0.08])
        nseg = nv - 1
        length = 170 + 700 * rng.beta(1.5, 2.6, m)
        used = np.arange(5)[None, :] < nseg[:, None]
        w = np.where(used, rng.uniform(0.5, 1.0, (m, 5)), 0.0)
        seg = w / w.sum(axis=1, keepdims=True) * length[:, None]
        kinds = rng.choice([-1, 0, 1], size=(m, 5), p=[0.3, 0.4, 0.3])
        state = np.zeros(m, dtype=int)
        for j in range(5):
            if j == 0:
                kinds[:, 0] = 0
                continue
            bad = np.abs(state + kinds[:, j]) > 1
            kinds[bad, j] = 0
            state += kinds[:, j]
        turn = np.cumsum(kinds * (np.pi / 2) + rng.uniform(-0.12, 0.12, (m, 5)), axis=1)
        heading = GRID_ANGLE + rng.normal(0, 0.05, m) + rng.integers(0, 4, m) * np.pi / 2
        heading = heading[:, None] + turn
        steps = seg[..., None] * np.stack([np.cos(heading), np.sin(heading)], axis=-1)
        pts = np.concatenate([start[:, None, :], start[:, None, :] + np.cumsum(steps, axis=1)], axis=1)
        short = np.where(used, seg, np.inf).min(axis=1) < 25.0
        keep = ~short
        valid = (np.arange(6)[None, :] <= nseg[:, None]) & keep[:, None]
        lines = shapely.linestrings(pts[valid], indices=np.repeat(np.arange(int(keep.sum())), nv[keep]))
        return lines, np.zeros(len(lines), dtype=int)

    def _facility_batch(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Bins next to back streets (tag 1); toilets and transfer stations anywhere (tag 0)."""
        rng = self.rng
        streets = self.street_geoms
        near = rng.random(m) < 0.65
        idx = rng.integers(0, len(streets), m)
        t = rng.random(m)
        on = shapely.get_coordinates(shapely.line_interpolate_point(streets[idx], t, normalized=True))
        off = rng.uniform(6, 12, m)
        ang = rng.uniform(0, 2 * np.pi, m)
        near_pts = on + off[:, None] * np.column_stack([np.cos(ang), np.sin(ang)])
        far_pts = self.sample_points(m, margin=60.0)
        pts = np.where(near[:, None], near_pts, far_pts)
        return shapely.points(pts), near.astype(int)

    # --------------------------------------------------------------- layers
    def _finish_layer(self, layer: str, feats: list[Feature], sort: bool = True) -> None:
        """Find each feature's district, order features spatially, give them ids."""
        geoms = np.array([f.geom for f in feats], dtype=object)
        rep = np.empty(len(geoms), dtype=object)
        kind = shapely.get_type_id(geoms)
        is_line = kind == 1
        rep[is_line] = shapely.line_interpolate_point(geoms[is_line], 0.5, normalized=True)
        rep[kind == 3] = shapely.point_on_surface(geoms[kind == 3])
        rep[kind == 0] = geoms[kind == 0]
        hit = self.district_tree.query(rep, predicate="intersects")
        district = np.full(len(geoms), 10**9)
        np.minimum.at(district, hit[0], hit[1])
        if (district == 10**9).any():
            raise RuntimeError(f"{layer}: feature outside every district")
        for f, d in zip(feats, district, strict=True):
            if f.district < 0:
                f.district = int(d)
        if sort:
            xy = shapely.get_coordinates(rep)
            order = sorted(range(len(feats)), key=lambda i: (feats[i].district, -round(xy[i, 1]), round(xy[i, 0]), i))
            feats = [feats[i] for i in order]
        ids = make_ids(layer, len(feats), self.scale)
        for f, fid in zip(feats, ids, strict=True):
            f.props = {"id": fid, **f.props}
        self.layers[layer] = feats

    def build_villages(self) -> None:
        """Urban villages: irregular 6-10 vertex polygons, 200-600 m across, off the river."""
        n = N_VILLAGES * self.scale

        def size_ok(g: np.ndarray) -> np.ndarray:
            across = 2 * shapely.minimum_bounding_radius(g)
            return (across >= 200) & (across <= 600)

        geoms, _ = self.place(self._village_batch, n, [(self.water, 60.0)], 40.0, size_ok, margin=60.0)
        names = combo_names(self.rng, n, SURNAMES, VILLAGE_SUFFIXES, lambda p, s, k: f"{p}{s[:-1]}{cn_number(k)}村")
        grades = self.rng.choice(["一级", "二级", "三级"], size=n, p=[0.2, 0.5, 0.3])
        feats = []
        for g, name, grade in zip(geoms, names, grades, strict=True):
            households = int(shapely.area(g) / 10000 * self.rng.uniform(40, 90))
            feats.append(Feature("urban_villages", g, {"name": name, "grade": str(grade), "households": households}))
        self.village_geoms = geoms
        self._finish_layer("urban_villages", feats)

    def build_compounds(self) -> None:
        """Compounds without property management, plus the planted overlapping pairs."""
        n = N_COMPOUNDS * self.scale
        n_pairs = self.scale
        keep_out = [(self.water, 30.0), (self.village_geoms, 20.0)]

        def size_ok(g: np.ndarray) -> np.ndarray:
            across = 2 * shapely.minimum_bounding_radius(g)
            return (across >= 60) & (across <= 250)

        geoms, _ = self.place(self._compound_batch, n - n_pairs, keep_out, 20.0, size_ok, margin=60.0)
        partners = self._plant_overlaps(geoms, n_pairs, keep_out, size_ok)
        all_geoms = np.concatenate([geoms, np.array([b for _, b in partners], dtype=object)])
        names = combo_names(
            self.rng, n, COMPOUND_PREFIXES, COMPOUND_SUFFIXES, lambda p, s, k: f"{p}{s}{cn_number(k)}期"
        )
        grades = self.rng.choice(["一级", "二级", "三级"], size=n, p=[0.2, 0.5, 0.3])
        feats = []
        for i, (g, name, grade) in enumerate(zip(all_geoms, names, grades, strict=True)):
            households = max(20, int(shapely.area(g) / 10000 * self.rng.uniform(60, 150)))
            feats.append(
                Feature(
                    "unmanaged_compounds", g, {"name": name, "grade": str(grade), "households": households}, tag=f"g{i}"
                )
            )
        self._finish_layer("unmanaged_compounds", feats)
        by_tag = {f.tag: f.props["id"] for f in self.layers["unmanaged_compounds"]}
        self.overlap_pairs = [
            (str(by_tag[f"g{a}"]), str(by_tag[f"g{len(geoms) + i}"])) for i, (a, _) in enumerate(partners)
        ]

    def _plant_overlaps(
        self,
        geoms: np.ndarray,
        n_pairs: int,
        keep_out: Sequence[tuple[np.ndarray, float]],
        size_ok: Callable[[np.ndarray], np.ndarray],
    ) -> list[tuple[int, shapely.Geometry]]:
        """Planted problem 2: a second compound overlapping a first by ~400 m²."""
        rng = self.rng
        tree = shapely.STRtree(geoms)
        inner = shapely.box(self.x0 + 60, self.y0 + 60, self.x1 - 60, self.y1 - 60)
        pairs: list[tuple[int, shapely.Geometry]] = []
        used: set[int] = set()
        order = rng.permutation(len(geoms))
        for a in order:
            if len(pairs) == n_pairs:
                break
            a = int(a)
            if a in used:
                continue
            ga = geoms[a]
            ca = np.array(shapely.get_coordinates(shapely.centroid(ga))[0])
            shape = self._compound_shapes(np.zeros((1, 2)))[0]
            theta = rng.uniform(0, 2 * np.pi)
            direction = np.array([math.cos(theta), math.sin(theta)])
            reach = shapely.minimum_bounding_radius(ga) + shapely.minimum_bounding_radius(shape)

            def moved(
                t: float, shape: shapely.Geometry = shape, ca: np.ndarray = ca, direction: np.ndarray = direction
            ) -> shapely.Geometry:
                offset = ca + t * direction
                return shapely.transform(shape, lambda c, o=offset: c + o)

            lo, hi = 0.0, float(reach) + 1.0
            for _ in range(50):
                mid = (lo + hi) / 2
                if shapely.area(shapely.intersection(ga, moved(mid))) > 400.0:
                    lo = mid
                else:
                    hi = mid
            gb = moved(hi)
            overlap = float(shapely.area(shapely.intersection(ga, gb)))
            if not (300.0 <= overlap <= 600.0):
                continue
            if not (size_ok(np.array([gb], dtype=object))[0] and shapely.within(gb, inner)):
                continue
            ll = to_lonlat(np.array([gb], dtype=object))[0]
            if not shapely.is_valid(ll):
                continue
            hits = tree.query(gb, predicate="dwithin", distance=20.0)
            if set(hits.tolist()) != {a}:
                continue
            if any(shapely.dwithin(gb, g, d).any() for g, d in keep_out if len(g)):
                continue
            if any(shapely.dwithin(gb, other, 20.0) for _, other in pairs):
                continue
            if any(shapely.dwithin(geoms[b], gb, 20.0) for b in used):
                continue
            pairs.append((a, gb))
            used.add(a)
        if len(pairs) < n_pairs:
            raise RuntimeError("could not plant the overlapping compounds")
        return pairs

    def build_streets(self) -> None:
        """Back streets: 150-900 m, 2-6 vertices, ≥40 m from each other and off the river."""
        n = N_STREETS * self.scale
        entrances = np.array(self.entrance_lines, dtype=object)
        geoms, _ = self.place(self._street_batch, n, [(self.water, 30.0), (entrances, 45.0)], 40.0, margin=40.0)
        self.street_geoms = geoms
        names = combo_names(self.rng, n, STREET_PREFIXES, STREET_SUFFIXES, lambda p, s, k: f"{p}{cn_number(k)}{s}")
        grades = self.rng.choice(GRADES4, size=n, p=[0.15, 0.4, 0.35, 0.1])
        widths = np.round((3 + 9 * self.rng.beta(1.5, 3.0, n)) * 2) / 2
        feats = [
            Feature("back_streets", g, {"name": name, "grade": str(grade), "width_m": float(w)}, tag=f"s{i}")
            for i, (g, name, grade, w) in enumerate(zip(geoms, names, grades, widths, strict=True))
        ]
        self._finish_layer("back_streets", feats)

    def build_entrance_features(self) -> None:
        """Turn the entrance lines drawn with the frame into features."""
        rng = self.rng
        roads = [ENTRANCE_ROADS[int(i)] for i in rng.permutation(len(ENTRANCE_ROADS))]
        names = dedupe(
            [f"{roads[i % len(roads)]}{SIDE_WORD[side]}入口" for i, (side, _) in enumerate(self.entrance_anchors)]
        )
        feats = []
        for i, g in enumerate(self.entrance_lines):
            feats.append(
                Feature(
                    "city_entrances",
                    g,
                    {
                        "name": names[i],
                        "grade": "一级" if rng.random() < 0.67 else "二级",
                        "width_m": float(round(rng.uniform(20, 40))),
                    },
                )
            )
        self._finish_layer("city_entrances", feats, sort=False)

    def build_facilities(self) -> None:
        """Toilets, transfer stations and litter bins, named after the nearest back street."""
        n = N_FACILITIES * self.scale
        geoms, near = self.place(self._facility_batch, n, [(self.water, 20.0)], 25.0, margin=40.0)
        kinds = np.where(near == 1, "果皮箱", np.where(self.rng.random(n) < 0.72, "公厕", "垃圾转运站"))
        nearest = shapely.STRtree(self.street_geoms).query_nearest(geoms, all_matches=False)
        street_of = np.empty(n, dtype=int)
        street_of[nearest[0]] = nearest[1]
        # street_geoms keeps placement order; the layer itself is sorted, so map by tag.
        street_name = {f.tag: str(f.props["name"]) for f in self.layers["back_streets"]}
        seen: dict[tuple[str, str], int] = {}
        feats = []
        for g, kind, s in zip(geoms, kinds, street_of, strict=True):
            base = street_name[f"s{s}"]
            key = (base, str(kind))
            seen[key] = seen.get(key, 0) + 1
            k = seen[key]
            name = f"{base}{kind}" if k == 1 else f"{base}{k}号{kind}"
            feats.append(Feature("facilities", g, {"name": name, "kind": str(kind)}))
        self._finish_layer("facilities", feats)

    # --------------------------------------------------------------- units
    def build_units(self) -> None:
        """About 156 units per scale step: departments, counties, offices, communities, HQs."""
        rng = self.rng
        n_d = len(self.layers["districts"])
        copies = self.scale
        n_so = 12 * copies
        n_cm = 80 * copies

        def person() -> str:
            return str(SURNAMES[rng.integers(len(SURNAMES))]) + str(GIVEN_CHARS[rng.integers(len(GIVEN_CHARS))])

        def landline() -> str:
            return f"0915-3{rng.integers(0, 1_000_000):06d}"

        def mobile() -> str:
            head = ["130", "133", "135", "137", "139", "150", "153", "158", "180", "189"]
            return f"{head[rng.integers(len(head))]}{rng.integers(0, 100_000_000):08d}"

        units: list[Unit] = []
        dep_ids = unit_ids("DEP", len(DEPARTMENTS) * copies, 2)
        self.dept: list[dict[str, str]] = []
        for c in range(copies):
            table = {}
            for k, name in enumerate(DEPARTMENTS):
                uid = dep_ids[c * len(DEPARTMENTS) + k]
                full = name if c == 0 else f"{name}第{cn_number(c + 1)}分局"
                units.append(Unit(uid, full, "department", "", person(), landline(), 0, "", c))
                table[name] = uid
            self.dept.append(table)
        co_ids = unit_ids("CO", len(COUNTIES) * copies, 2)
        self.county: list[list[str]] = []
        for c in range(copies):
            ids = []
            for k, name in enumerate(COUNTIES):
                uid = co_ids[c * len(COUNTIES) + k]
                if c:
                    place = MORE_COUNTIES[(2 * (c - 1) + k) % len(MORE_COUNTIES)]
                    name = f"{place}{'人民政府' if k == 0 else '城市管理局'}"
                units.append(Unit(uid, name, "county", "", person(), landline(), 0, "", c))
                ids.append(uid)
            self.county.append(ids)
        so_ids = unit_ids("SO", n_so, 2)
        self.so_of_district = [so_ids[d * 3 // 4] for d in range(n_d)]
        first_district = {}
        for d in range(n_d):
            first_district.setdefault(d * 3 // 4, d)
        for s in range(n_so):
            d = first_district[s]
            tag = self.layers["districts"][d].tag
            units.append(
                Unit(
                    so_ids[s],
                    f"{tag}街道办事处",
                    "street office",
                    self.county[d // 16][0],
                    person(),
                    landline(),
                    0,
                    str(self.layers["districts"][d].props["id"]),
                    d // 16,
                )
            )
        cm_ids = unit_ids("CM", n_cm, 3)
        cm_names = combo_names(
            rng,
            n_cm,
            STREET_PREFIXES,
            ["社区居委会", "路社区居委会", "街社区居委会"],
            lambda p, s, k: f"{p}{cn_number(k)}{s}",
        )
        self.cm_of_district: list[list[str]] = [[] for _ in range(n_d)]
        for i in range(n_cm):
            d = i * n_d // n_cm
            self.cm_of_district[d].append(cm_ids[i])
            units.append(
                Unit(
                    cm_ids[i],
                    cm_names[i],
                    "community",
                    self.so_of_district[d],
                    person(),
                    mobile(),
                    0,
                    str(self.layers["districts"][d].props["id"]),
                    d // 16,
                )
            )
        hq_ids = unit_ids("HQ", n_d, 2)
        self.hq = hq_ids
        for d, feat in enumerate(self.layers["districts"]):
            units.append(
                Unit(
                    hq_ids[d],
                    f"{feat.props['name']}指挥部",
                    "district HQ",
                    self.dept[d // 16]["市创建办"],
                    person(),
                    landline(),
                    0,
                    str(feat.props["id"]),
                    d // 16,
                )
            )
            feat.props["hq_unit"] = hq_ids[d]
            feat.props["street_office"] = self.so_of_district[d]
        cp_ids = unit_ids("CP", len(COMPANIES) * copies, 2)
        self.company: list[list[str]] = []
        for c in range(copies):
            ids = []
            for k, name in enumerate(COMPANIES):
                uid = cp_ids[c * len(COMPANIES) + k]
                full = name if c == 0 else f"{name}第{cn_number(c + 1)}分公司"
                units.append(Unit(uid, full, "company", self.dept[c]["市城管局"], person(), mobile(), 0, "", c))
                ids.append(uid)
            self.company.append(ids)
        names = dedupe([u.name for u in units])
        for u, name in zip(units, names, strict=True):
            u.name = name
        self.units = units
        self.unit_by_id = {u.unit_id: u for u in units}
        self.idle = {self.dept[c][IDLE_DEPARTMENT] for c in range(copies)}
        self.planted["idle"] = sorted(self.idle)

    # ---------------------------------------------------------- assignments
    def _pick(self, options: Sequence[str]) -> str:
        return options[int(self.rng.integers(len(options)))]

    def _depts(self, c: int, exclude: Sequence[str] = ()) -> list[str]:
        return [uid for name, uid in self.dept[c].items() if uid not in self.idle and name not in exclude]

    def _lead_for(self, f: Feature) -> str:
        """The natural lead unit for a feature, by layer (who does this work in a real plan)."""
        d, c, rng = f.district, f.district // 16, self.rng
        dept = self.dept[c]
        layer = f.layer
        if layer == "urban_villages":
            return self.so_of_district[d]
        if layer == "unmanaged_compounds":
            return self._pick(self.cm_of_district[d])
        if layer == "city_entrances":
            return dept["市交通局"] if rng.random() < 0.5 else dept["市城管局"]
        if layer == "riverbank_segments":
            return dept["市水利局"] if f.props["bank"] == "北岸" else self.so_of_district[d]
        if layer == "facilities":
            kind = f.props["kind"]
            if kind == "公厕":
                return dept["市城管局"] if rng.random() < 0.5 else self._pick(self.company[c])
            if kind == "垃圾转运站":
                return self._pick(self.company[c])
            if rng.random() < 0.4:
                return self.so_of_district[d]
            return self._pick(self.cm_of_district[d])
        u = rng.random()
        if u < 0.5:
            return self._pick(self._depts(c, exclude=("市创建办",)))
        if u < 0.65:
            return self.so_of_district[d]
        if u < 0.9:
            return self._pick(self.cm_of_district[d])
        return self._pick(self.company[c])

    def _extras_for(self, f: Feature, lead: str) -> list[Row]:
        """Shared and supervising units, by layer."""
        d, c, rng = f.district, f.district // 16, self.rng
        dept = self.dept[c]
        fid = str(f.props["id"])
        rows: list[Row] = []

        def add(unit: str, role: str) -> None:
            if unit != lead and unit not in {r.unit_id for r in rows}:
                rows.append(Row(fid, unit, role))

        layer = f.layer
        if layer == "urban_villages":
            if rng.random() < 0.5:
                add(self._pick(self.cm_of_district[d]), "shared")
            if rng.random() < 0.2:
                add(dept["市卫生局"], "shared")
            if rng.random() < 0.4:
                add(self.county[c][0], "supervisor")
        elif layer == "back_streets":
            if rng.random() < 0.25:
                add(self._pick(self.cm_of_district[d]), "shared")
            if rng.random() < 0.1:
                add(dept["市城管局"], "supervisor")
        elif layer == "unmanaged_compounds":
            if rng.random() < 0.35:
                add(self.so_of_district[d], "supervisor")
            if rng.random() < 0.15:
                add(dept["市住建局"], "shared")
        elif layer == "city_entrances":
            add(self._pick(self.company[c]), "shared")
            add(dept["市公安局交警支队"], "supervisor")
        elif layer == "riverbank_segments":
            if rng.random() < 0.3:
                add(dept["市林业局"], "shared")
            if rng.random() < 0.5:
                add(dept["市环保局"], "supervisor")
        elif layer == "facilities" and f.props["kind"] == "公厕" and rng.random() < 0.3:
            add(dept["市卫生局"], "supervisor")
        return rows

    def build_assignments(self) -> None:
        """Lead/shared/supervisor rows, stretches, lead changes and the planted gaps."""
        rng = self.rng
        scale = self.scale
        # Lengths of lines as consumers will measure them: from the rounded lon/lat, in 4545.
        for layer in ("back_streets", "city_entrances", "riverbank_segments"):
            feats = self.layers[layer]
            metric = to_metric(to_lonlat(np.array([f.geom for f in feats], dtype=object)))
            for f, length in zip(feats, shapely.length(metric), strict=True):
                f.length_floor = floor_decimetre(float(length))
                f.workload_m2 = float(length) * float(f.props["width_m"])
        for layer in ("urban_villages", "unmanaged_compounds"):
            for f in self.layers[layer]:
                f.workload_m2 = float(shapely.area(f.geom))

        rows: dict[str, list[Row]] = {}
        for layer in LAYER_ORDER[1:]:
            for f in self.layers[layer]:
                fid = str(f.props["id"])
                lead = self._lead_for(f)
                rows[fid] = [Row(fid, lead, "lead"), *self._extras_for(f, lead)]

        # Planted 1: compounds nobody holds.
        overlap_ids = {x for pair in self.overlap_pairs for x in pair}
        compounds = [f for f in self.layers["unmanaged_compounds"] if str(f.props["id"]) not in overlap_ids]
        for k in rng.permutation(len(compounds))[:scale]:
            fid = str(compounds[int(k)].props["id"])
            rows[fid] = []
            self.planted["unheld"].append(fid)
        self.planted["unheld"].sort()

        # Planted 2: the overlapping pair gets two different leads.
        comp_by_id = {str(f.props["id"]): f for f in self.layers["unmanaged_compounds"]}
        for a, b in self.overlap_pairs:
            lead_a = rows[a][0].unit_id
            fb = comp_by_id[b]
            options = [u for u in self.cm_of_district[fb.district] if u != lead_a]
            rows[b] = [Row(b, self._pick(options), "lead")]
            self.planted["overlap"].append(f"{a}+{b}")

        # Planted 3 and the split streets.
        streets = self.layers["back_streets"]
        order = [int(i) for i in rng.permutation(len(streets))]
        gap_streets = [i for i in order if 470 <= streets[i].length_floor <= 900][:scale]
        for i in gap_streets:
            f = streets[i]
            fid = str(f.props["id"])
            to_m = 300.0 if f.length_floor >= 480 else 200.0
            rows[fid] = [Row(fid, rows[fid][0].unit_id, "lead", 0.0, to_m)]
            self.planted["gap"].append(f"{fid}:0-{fmt_m(to_m)}-{fmt_m(f.length_floor)}")
        split_pool = [i for i in order if i not in gap_streets and streets[i].length_floor >= 380]
        split = split_pool[: N_SPLIT_STREETS * scale]
        for i in split:
            f = streets[i]
            fid = str(f.props["id"])
            cut = float(round(f.length_floor * rng.uniform(0.35, 0.65) / 10) * 10)
            first = rows[fid][0].unit_id
            others = [
                u
                for u in (self._depts(f.district // 16) + self.cm_of_district[f.district])
                if u != first and u not in {r.unit_id for r in rows[fid]}
            ]
            second = self._pick(others)
            rows[fid] = [
                Row(fid, first, "lead", 0.0, cut),
                Row(fid, second, "lead", cut, f.length_floor),
                *rows[fid][1:],
            ]
            self.notes["split"].append(f"{fid}:0-{fmt_m(cut)}-{fmt_m(f.length_floor)}")

        # Lead changes on 2026-01-01.
        taken = set(self.planted["unheld"]) | overlap_ids
        taken |= {str(streets[i].props["id"]) for i in gap_streets + split}
        pools = [
            self.layers[x]
            for x in ("back_streets", "urban_villages", "unmanaged_compounds", "back_streets", "facilities")
        ]
        for k in range(N_LEAD_CHANGES * scale):
            pool = [f for f in pools[k % len(pools)] if str(f.props["id"]) not in taken]
            f = pool[int(rng.integers(len(pool)))]
            fid = str(f.props["id"])
            taken.add(fid)
            old = rows[fid][0].unit_id
            present = {r.unit_id for r in rows[fid]}
            new = old
            for _ in range(50):
                new = self._lead_for(f)
                if new not in present:
                    break
            if new in present:
                new = self._pick([u for u in self._depts(f.district // 16) if u not in present])
            rows[fid] = [
                Row(fid, old, "lead", valid_until=CHANGE_END),
                Row(fid, new, "lead", valid_from=CHANGE_START),
                *rows[fid][1:],
            ]
            self.notes["change"].append(f"{fid}:{old}->{new}")

        # Every unit but the planted idle ones holds something.
        self._cover_every_unit(rows, taken)
        self.rows = rows

    def _cover_every_unit(self, rows: dict[str, list[Row]], frozen: set[str]) -> None:
        """Give each unit that holds nothing a shared/supervisor row near home (except idle)."""
        held = {r.unit_id for rs in rows.values() for r in rs}
        by_district: dict[int, list[Feature]] = {}
        for layer in ("back_streets", "unmanaged_compounds", "urban_villages"):
            for f in self.layers[layer]:
                if str(f.props["id"]) not in frozen:
                    by_district.setdefault(f.district, []).append(f)
        n_d = len(self.layers["districts"])
        district_index = {str(f.props["id"]): d for d, f in enumerate(self.layers["districts"])}
        for u in self.units:
            if u.unit_id in held or u.unit_id in self.idle:
                continue
            if u.district:
                near = [district_index[u.district]]
            else:
                near = list(range(16 * u.copy, min(n_d, 16 * u.copy + 16)))
            cands = [f for dd in near for f in by_district.get(dd, [])]
            if not cands:
                cands = [f for fs in by_district.values() for f in fs]
            role = "supervisor" if u.kind in ("district HQ", "county", "street office") else "shared"
            for _ in range(100):
                f = cands[int(self.rng.integers(len(cands)))]
                fid = str(f.props["id"])
                if u.unit_id not in {r.unit_id for r in rows[fid]}:
                    rows[fid].append(Row(fid, u.unit_id, role))
                    break

    # ---------------------------------------------------------------- staff
    def compute_staff(self) -> None:
        """Staff from workload (area x quota) with margin; a few units clearly short."""
        rng = self.rng
        std = {(a, g): w for _, a, g, _, _, _, w, _, _, _, _ in STANDARDS}
        feat = {str(f.props["id"]): f for layer in LAYER_ORDER[1:] for f in self.layers[layer]}
        need: dict[str, float] = {}
        for fid, rs in self.rows.items():
            f = feat[fid]
            if f.layer == "facilities":
                continue
            grade = str(f.props["grade"])
            quota = std.get((f.layer, grade), std.get(("*", grade), 1.0))
            for r in rs:
                if r.valid_until and r.valid_until < DATA_DATE:
                    continue
                share = 1.0 if r.role == "lead" else 0.5 if r.role == "shared" else 0.0
                area = f.workload_m2
                if r.from_m is not None and r.to_m is not None and f.length_floor:
                    area *= (r.to_m - r.from_m) / f.length_floor
                need[r.unit_id] = need.get(r.unit_id, 0.0) + share * area * quota / 10000
        busy = sorted(u.unit_id for u in self.units if need.get(u.unit_id, 0.0) >= 2.0 and u.kind != "company")
        n_short = max(4, round(0.06 * len(busy)))
        short = {busy[int(i)] for i in rng.permutation(len(busy))[:n_short]}
        for u in self.units:
            req = need.get(u.unit_id, 0.0)
            if u.unit_id in short:
                u.staff = math.floor(req * rng.uniform(0.25, 0.5))
                self.notes["short"].append(f"{u.unit_id}:{u.staff}/{req:.1f}")
            elif u.kind == "company":
                u.staff = math.ceil(req * rng.uniform(1.3, 1.8)) + int(rng.integers(20, 60))
            elif u.kind == "district HQ":
                u.staff = math.ceil(req * 1.5) + int(rng.integers(6, 20))
            elif req > 0:
                u.staff = max(1, math.ceil(req * rng.uniform(1.25, 1.8)))
            else:
                u.staff = int(rng.integers(0, 4))
        self.notes["short"].sort()

    # ---------------------------------------------------------------- build
    def build(self) -> DemoBuilder:
        """Run every step in a fixed order."""
        self.build_rivers()
        self.build_districts()
        self.build_riverbanks()
        self.build_entrance_features()
        self.build_villages()
        self.build_compounds()
        self.build_streets()
        self.build_facilities()
        self.build_units()
        self.build_assignments()
        self.compute_staff()
        self.check()
        return self

    def check(self) -> None:
        """Self-checks on what will be written (lon/lat, rounded)."""
        seen: set[str] = set()
        for layer in LAYER_ORDER:
            feats = self.layers[layer]
            ll = to_lonlat(np.array([f.geom for f in feats], dtype=object))
            if not (shapely.is_valid(ll).all() and not shapely.is_empty(ll).any()):
                raise RuntimeError(f"{layer}: invalid geometry after rounding")
            for f in feats:
                fid = str(f.props["id"])
                if fid in seen:
                    raise RuntimeError(f"duplicate id {fid}")
                seen.add(fid)
            names = [f.props["name"] for f in feats]
            if len(set(names)) != len(names):
                raise RuntimeError(f"{layer}: duplicate names")
        ll = to_lonlat(self.district_geoms)
        total = float(shapely.area(ll).sum())
        if abs(float(shapely.area(shapely.union_all(ll))) - total) > 1e-9 * total:
            raise RuntimeError("rounded districts do not tile")

    # ---------------------------------------------------------------- write
    def write(self, out: Path) -> dict[str, int]:
        """Write every file of the dataset folder; return the counts written."""
        out.mkdir(parents=True, exist_ok=True)
        counts: dict[str, int] = {}
        for layer in LAYER_ORDER:
            feats = self.layers[layer]
            _write_geojson(out / f"{layer}.geojson", feats)
            counts[layer] = len(feats)
        (out / "catalog.toml").write_text(self.catalog_text(), encoding="utf-8")
        _write_csv(
            out / "units.csv",
            ["unit_id", "name", "kind", "parent", "contact", "phone", "staff", "district"],
            [[u.unit_id, u.name, u.kind, u.parent, u.contact, u.phone, str(u.staff), u.district] for u in self.units],
        )
        _write_csv(
            out / "standards.csv",
            [
                "standard_id",
                "applies_to",
                "grade",
                "sweeps_per_day",
                "patrol_hours",
                "litter_max_minutes",
                "workers_per_10000m2",
                "yuan_per_m2_year",
                "bin_spacing_m",
                "toilets_per_km",
                "notes",
            ],
            [[str(v) for v in row] for row in STANDARDS],
        )
        role_rank = {"lead": 0, "shared": 1, "supervisor": 2}
        table = []
        for layer in LAYER_ORDER[1:]:
            for f in self.layers[layer]:
                rs = sorted(
                    self.rows[str(f.props["id"])],
                    key=lambda r: (role_rank[r.role], -1.0 if r.from_m is None else r.from_m, r.valid_from),
                )
                for r in rs:
                    table.append(
                        [
                            r.feature_id,
                            r.unit_id,
                            r.role,
                            "" if r.from_m is None else fmt_m(r.from_m),
                            "" if r.to_m is None else fmt_m(r.to_m),
                            r.valid_from,
                            r.valid_until,
                        ]
                    )
        _write_csv(
            out / "assignments.csv",
            ["feature_id", "unit_id", "role", "from_m", "to_m", "valid_from", "valid_until"],
            table,
        )
        counts["units"] = len(self.units)
        counts["standards"] = len(STANDARDS)
        counts["assignments"] = len(table)
        (out / "README.md").write_text(self.readme_text(counts), encoding="utf-8")
        return counts

    def catalog_text(self) -> str:
        """catalog.toml (the dataset contract)."""
        suffix = "" if self.scale == 1 else f"，规模×{self.scale}"
        suffix_en = "" if self.scale == 1 else f", scale x{self.scale}"
        lines = [
            f"# Generated by layers/generate_demo.py --scale {self.scale} --seed {self.seed}.",
            "# Synthetic demo data (示例数据), not the real plan.",
            "",
            "[dataset]",
            f'name = "安康市中心城区（示例数据{suffix}）"',
            f'name_en = "Ankang city centre (synthetic demo data{suffix_en})"',
            'lang = "zh"',
            'datum = "wgs84"',
            'crs = "EPSG:4326"',
            'metric_crs = "EPSG:4545"',
            f'data_date = "{DATA_DATE}"',
            "",
            "[tables]",
            'units = "units.csv"',
            'standards = "standards.csv"',
            'assignments = "assignments.csv"',
            "",
            "[frame]",
            'layer = "districts"',
            'fallback_unit_field = "hq_unit"',
        ]
        spec: dict[str, dict[str, object]] = {
            "districts": {"geometry": "polygon", "priority": 100},
            "urban_villages": {"geometry": "polygon", "standard_field": "grade", "priority": 30},
            "back_streets": {
                "geometry": "line",
                "tolerance_m": 15,
                "width_field": "width_m",
                "standard_field": "grade",
                "priority": 10,
            },
            "unmanaged_compounds": {"geometry": "polygon", "standard_field": "grade", "priority": 20},
            "city_entrances": {
                "geometry": "line",
                "tolerance_m": 30,
                "width_field": "width_m",
                "standard_field": "grade",
                "priority": 5,
            },
            "riverbank_segments": {
                "geometry": "line",
                "tolerance_m": 25,
                "width_field": "width_m",
                "standard_field": "grade",
                "priority": 15,
            },
            "facilities": {
                "geometry": "point",
                "tolerance_m": 10,
                "default_standard": FACILITY_STANDARD,
                "priority": 1,
            },
        }
        for layer in LAYER_ORDER:
            zh, en = LAYER_TITLES[layer]
            s = spec[layer]
            lines += [
                "",
                "[[layer]]",
                f'id = "{layer}"',
                f'title = {{ zh = "{zh}", en = "{en}" }}',
                f'file = "{layer}.geojson"',
                f'geometry = "{s["geometry"]}"',
            ]
            for key in ("tolerance_m", "width_field"):
                if key in s:
                    lines.append(_toml_kv(key, s[key]))
            lines += ['id_field = "id"', 'name_field = "name"']
            for key in ("standard_field", "default_standard", "priority"):
                if key in s:
                    lines.append(_toml_kv(key, s[key]))
        return "\n".join(lines) + "\n"

    def readme_text(self, counts: dict[str, int]) -> str:
        """layers/<out>/README.md: what this is, how it was made, what is wrong on purpose."""
        kinds: dict[str, int] = {}
        for u in self.units:
            kinds[u.kind] = kinds.get(u.kind, 0) + 1
        names = {u.unit_id: u.name for u in self.units}
        feat_name = {str(f.props["id"]): str(f.props["name"]) for layer in LAYER_ORDER for f in self.layers[layer]}
        args = "" if self.scale == 1 else f" --scale {self.scale}"
        if self.seed != DEFAULT_SEED:
            args += f" --seed {self.seed}"
        layer_rows = "\n".join(
            f"| `{layer}` | {LAYER_TITLES[layer][0]} | {LAYER_TITLES[layer][1]} | `{layer}.geojson` | {counts[layer]} |"
            for layer in LAYER_ORDER
        )
        unheld = _listing([f"`{x}` {feat_name[x]}" for x in self.planted["unheld"]])
        overlap = []
        for pair in self.planted["overlap"]:
            a, b = pair.split("+")
            la = next(r.unit_id for r in self.rows[a] if r.role == "lead")
            lb = next(r.unit_id for r in self.rows[b] if r.role == "lead")
            area = self._overlap_area(a, b)
            overlap.append(
                f"`{a}` {feat_name[a]} (lead `{la}` {names[la]}) and `{b}` "
                f"{feat_name[b]} (lead `{lb}` {names[lb]}), about {area:.0f} m²"
            )
        gaps = []
        for item in self.planted["gap"]:
            fid, span = item.split(":")
            held, length = span.rsplit("-", 1)
            gaps.append(
                f"`{fid}` {feat_name[fid]}: held {held} m only, line length {length} m "
                f"(EPSG:4545, rounded down), so {held.split('-')[1]}-{length} m is unheld"
            )
        idle = _listing([f"`{x}` {names[x]}" for x in self.planted["idle"]])
        splits = _listing(sorted(f"`{s.split(':')[0]}`" for s in self.notes["split"]))
        changes = _listing(
            [f"`{c.split(':')[0]}` ({c.split(':')[1].replace('->', ' → ')})" for c in self.notes["change"]]
        )
        short = _listing(
            [
                f"`{s.split(':')[0]}` {names[s.split(':')[0]]} "
                f"({s.split(':')[1].split('/')[0]} staff for about "
                f"{s.split(':')[1].split('/')[1]} needed)"
                for s in self.notes["short"]
            ]
        )
        bs4 = sum(1 for f in self.layers["back_streets"] if f.props["grade"] == "四级")
        kind_text = ", ".join(
            f"{kinds.get(k, 0)} {k}"
            for k in ("department", "county", "street office", "community", "district HQ", "company")
        )
        return f"""# 安康市中心城区（示例数据）— Ankang city centre, synthetic demo data

> **示例数据，不是真实的创建工作方案。** This dataset is **synthetic**. Every
> geometry, place name, unit, person, phone number, staff figure and standard
> in this folder was invented by a program. It only imitates the shape of a
> real campaign plan for Ankang (Hanbin district, about 32.69 N, 109.03 E,
> the Han River flowing west to east, the old town on the south bank).
> Do not use it for anything but demos, tests and benchmarks.

## How it was generated

```
python layers/generate_demo.py{args}
```

`layers/generate_demo.py` draws everything in EPSG:4545 metres (CGCS2000
3-degree Gauss-Kruger, CM 108E) from one seeded random generator
(seed {self.seed}, scale {self.scale}), projects it to WGS-84 and rounds to 7
decimals. Running it again with the same arguments gives byte-identical files.
Options: `--scale N` (every count × N over an area N times larger),
`--seed S`, `--out DIR` (default `layers/ankang`).

The 16 districts per scale step are a jittered grid whose shared edges are the
same vertices in both neighbours: they tile the frame with no gap and no
overlap. The Han River is a gently meandering W-E centreline near 32.685 N
with banks 150 m either side; nothing but the riverbank segments sits in the
water. Bank segments and city entrances end exactly on a district or frame
vertex.

## Layers (`catalog.toml`)

| id | 中文 | English | file | features |
|---|---|---|---|---|
{layer_rows}

Feature ids are unique across the whole dataset (`D..`, `UV..`, `BS..`,
`UC..`, `CE..`, `RB..`, `FA..`); names are unique within a layer.

## Tables

- `units.csv`: {counts["units"]} units ({kind_text}).
- `standards.csv`: {counts["standards"]} cleaning standards, per layer and a generic
  set (`applies_to = *`), grades 一级 to 四级. Figures are illustrative, in the
  spirit of CJJ/T 126-2022 (3/2/2/1 sweeps a day, 16/14/12/8 h of patrol,
  about 10 yuan/m²/year). Back streets graded 四级 ({bs4} of them) have no
  back-street 四级 standard and resolve to the generic `STD-GEN-4`;
  facilities use `default_standard = "{FACILITY_STANDARD}"`.
- `assignments.csv`: {counts["assignments"]} rows (lead / shared / supervisor).
  Districts have no rows: their headquarters (`hq_unit`) is the fallback.

Deliberate features that are **not** problems:

- streets split into two stretches between two lead units: {splits}.
  The last stretch ends at the line's EPSG:4545 length rounded **down** to
  0.1 m, so up to 0.1 m at the very end may look unheld to an exact check;
  neighbouring stretches (and neighbouring bank segments) touch at one point,
  which is not a conflict;
- lead changed on {CHANGE_START} (old row `valid_until = {CHANGE_END}`):
  {changes};
- units clearly short of staff for their workload (by the generator's
  estimate: area × workers per 10,000 m² of the standard, shared work counted
  half): {short}.

## Planted problems (warnings, not errors)

1. **Nobody holds it** (无人负责): unmanaged compound {unheld} has no
   assignment at all (only its district HQ answers for it).
2. **Two units claim the same ground** (重复认领): {_listing(overlap, 10)}.
3. **A street with an unheld stretch** (路段缺口): {_listing(gaps, 10)}.
4. **A unit that holds nothing** (闲置单位): {idle}.

## Scale

`python layers/generate_demo.py --scale 100 --out /tmp/ankang_x100` writes the
same kind of dataset with every count × 100 (1,600 districts, 17,700 back
streets, ...) over an area 100 times larger (10 × 10), with a W-E river in
every fourth row of districts and one set of planted problems per scale step.
"""

    def _overlap_area(self, a: str, b: str) -> float:
        geoms = {str(f.props["id"]): f.geom for f in self.layers["unmanaged_compounds"]}
        return float(shapely.area(shapely.intersection(geoms[a], geoms[b])))


def _separate(values: np.ndarray, others: np.ndarray, gap: float) -> np.ndarray:
    """Nudge divider feet east until each is at least gap metres from the other row's feet."""
    out = values.copy()
    for i in range(len(out)):
        while len(others) and np.min(np.abs(others - out[i])) < gap:
            out[i] += gap * 1.5
    return out


def _listing(items: Sequence[str], limit: int = 20) -> str:
    """Comma-separated items, cut after limit with a count (large --scale runs)."""
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", ... ({len(items)} in all)"


def _toml_kv(key: str, value: object) -> str:
    if isinstance(value, str):
        return f'{key} = "{value}"'
    return f"{key} = {value}"


def _num(v: float) -> str:
    return repr(float(v))


def _write_geojson(path: Path, feats: list[Feature]) -> None:
    """RFC 7946 FeatureCollection, one feature per line, lon/lat rounded to 7 decimals."""
    geoms = to_lonlat(np.array([f.geom for f in feats], dtype=object))
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    parts = ['{"type":"FeatureCollection","features":[\n']
    for i, (f, g) in enumerate(zip(feats, geoms, strict=True)):
        kind = shapely.get_type_id(g)
        if kind == 0:
            x, y = shapely.get_coordinates(g)[0].tolist()
            geometry = f'{{"type":"Point","coordinates":[{_num(x)},{_num(y)}]}}'
        else:
            ring = g.exterior if kind == 3 else g
            coords = ",".join(f"[{_num(x)},{_num(y)}]" for x, y in shapely.get_coordinates(ring).tolist())
            if kind == 3:
                geometry = f'{{"type":"Polygon","coordinates":[[{coords}]]}}'
            else:
                geometry = f'{{"type":"LineString","coordinates":[{coords}]}}'
        props = json.dumps(f.props, ensure_ascii=False, separators=(",", ":"))
        sep = ",\n" if i < len(feats) - 1 else "\n"
        parts.append(f'{{"type":"Feature","properties":{props},"geometry":{geometry}}}{sep}')
    parts.append("]}\n")
    path.write_text("".join(parts), encoding="utf-8")


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """UTF-8 CSV (no BOM), header row, LF line ends."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry: build, write, print what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="multiply every count (default 1)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default layers/ankang)")
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be a positive integer")
    started = time.perf_counter()
    builder = DemoBuilder(args.scale, args.seed).build()
    counts = builder.write(args.out)
    elapsed = time.perf_counter() - started
    print(f"wrote {args.out} (scale {args.scale}, seed {args.seed}) in {elapsed:.1f} s")
    for name, count in counts.items():
        print(f"  {name:<22} {count:>7}")
    print("planted problems:")
    for key, items in builder.planted.items():
        print(f"  {key:<8} {_listing(items, 6)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
