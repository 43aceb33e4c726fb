"""The demo's cleaning standards (清扫保洁标准): one table, written to ``standards.csv``.

Figures are illustrative, in the spirit of the CJJ/T 126-2022 grades (一级 to 四级);
they are not the figures of any real plan.  Staffing reads the quotas from here too.
"""

from __future__ import annotations

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
