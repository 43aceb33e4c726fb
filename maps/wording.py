"""The words a person reads, in Chinese and English: report maps, atlases, tables, the report kit,
the front door and the date line of every command.

One table per language, chosen by ``ds.lang``; data values (names of places
and units) are never translated, only the words around them.
"""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "city_title": "责任区域总图",
        "unit_title": "{name}责任区域图",
        "district_title": "{name}责任区域图",
        "data_date": "数据日期",
        "as_of": "责任状态截至",
        "source": "来源：{dataset}（{path}）；制图：respmap {version}；坐标系：{crs}",
        "legend_layer": "图层",
        "legend_unit": "责任单位",
        "legend_grade": "清扫保洁标准",
        "unheld": "无人负责",
        "other_units": "其他单位",
        "no_grade": "未定标准",
        "districts": "双创片区",
        "context": "其他责任区域",
        "m": "米",
        "km": "千米",
        "north": "N",
        "overview": "位置示意",
        "atlas_title": "责任分工图册",
        "atlas_by_unit": "按责任单位",
        "atlas_by_district": "按双创片区",
        "contents": "目录",
        "page": "页",
        "continued": "（续）",
        "no_zones": "该日期本单位无责任区域",
        "contact": "联系人",
        "phone": "电话",
        "zones_count": "责任区域 {n} 处",
        "length_total": "路段总长 {km:.2f} 千米",
        "area_total": "面积合计 {ha:.2f} 公顷",
        "fallback_of": "属地兜底：{names}",
        "fallback": "属地兜底",
        "col_layer": "类别",
        "col_name": "名称",
        "col_stretch": "路段",
        "col_size": "长度/面积",
        "col_standard": "标准",
        "col_role": "角色",
        "col_unit": "责任单位",
        "whole": "全段",
        "role_lead": "牵头",
        "role_shared": "配合",
        "role_supervisor": "监督",
        "role_": "无人负责",
        "page_of": "第 {page} 页 / 共 {pages} 页",
        # the reference date, wherever figures are shown (api.commands.common.date_line, the front door)
        "date_line": "状态日期 {day}（{source}）",
        "date_source_given": "--date 指定",
        "date_source_status_date": "数据集声明的 status_date",
        "date_source_today": "今天",
        # the server's front door (maps/home.py)
        "home_tagline": "城市清扫保洁责任分工：谁负责这片地方",
        "home_go": "从这里开始",
        "home_figures": "数据概况",
        "home_kit": "报告材料",
        "home_kit_detail": "打印用地图、按单位的图册、责任分工表（Excel）和覆盖分析图层，连同一个 index.html，用一条命令生成：",
        "home_more": "更多页面",
        "link_map": "覆盖地图",
        "link_map_detail": "谁负责哪里、哪里无人负责、哪里重复认领",
        "link_here": "手机查询",
        "link_here_detail": "站在现场，一键查出责任单位和电话",
        "link_docs": "API 文档",
        "link_docs_detail": "查询、单位、片区、覆盖分析的接口",
        "link_ogc": "OGC API - Features",
        "link_ogc_detail": "在 QGIS 或 GDAL 中直接读取各图层",
        "link_coverage": "覆盖分析（JSON）",
        "link_coverage_detail": "缺口、冲突、无人负责、人员与经费",
        "page_dashboard": "工作台",
        "page_dashboard_detail": "案件与考核概况",
        "page_inbox": "待办",
        "page_inbox_detail": "派给本单位的案件",
        "page_inspect": "巡查上报",
        "page_inspect_detail": "现场发现问题，拍照上报",
        "fig_districts": "双创片区",
        "fig_units": "责任单位",
        "fig_zones": "当日有效责任区域",
        "fig_findings": "数据检查：{errors} 个错误，{warnings} 个警告（respmap validate 列出全部）",
    },
    "en": {
        "city_title": "Cleaning responsibility: the whole city",
        "unit_title": "Zones held by {name}",
        "district_title": "Responsibility in {name}",
        "data_date": "data date",
        "as_of": "assignments as of",
        "source": "Source: {dataset} ({path}); map: respmap {version}; CRS: {crs}",
        "legend_layer": "Layer",
        "legend_unit": "Responsible unit",
        "legend_grade": "Cleaning standard",
        "unheld": "Held by nobody",
        "other_units": "Other units",
        "no_grade": "No standard",
        "districts": "Campaign districts",
        "context": "Other zones",
        "m": "m",
        "km": "km",
        "north": "N",
        "overview": "Overview",
        "atlas_title": "Responsibility atlas",
        "atlas_by_unit": "by unit",
        "atlas_by_district": "by district",
        "contents": "Contents",
        "page": "page",
        "continued": " (continued)",
        "no_zones": "This unit holds no zone on this date",
        "contact": "Contact",
        "phone": "Phone",
        "zones_count": "{n} zones",
        "length_total": "{km:.2f} km of streets and banks",
        "area_total": "{ha:.2f} ha in all",
        "fallback_of": "Territorial fallback for: {names}",
        "fallback": "Fallback",
        "col_layer": "Layer",
        "col_name": "Name",
        "col_stretch": "Stretch",
        "col_size": "Length / area",
        "col_standard": "Standard",
        "col_role": "Role",
        "col_unit": "Unit",
        "whole": "whole",
        "role_lead": "lead",
        "role_shared": "shared",
        "role_supervisor": "supervisor",
        "role_": "nobody",
        "page_of": "page {page} of {pages}",
        "date_line": "status on {day} ({source})",
        "date_source_given": "--date",
        "date_source_status_date": "the dataset's status_date",
        "date_source_today": "today",
        "home_tagline": "Who is responsible for keeping each piece of the city clean",
        "home_go": "Start here",
        "home_figures": "The data",
        "home_kit": "Report kit",
        "home_kit_detail": "Print-ready maps, an atlas per unit, the responsibility table (Excel) and the coverage "
        "layers, with an index.html, come from one command:",
        "home_more": "More pages",
        "link_map": "Coverage map",
        "link_map_detail": "who holds what, what nobody holds, what two units claim",
        "link_here": "Phone page",
        "link_here_detail": "in the street: the responsible unit and its phone",
        "link_docs": "API documentation",
        "link_docs_detail": "lookup, units, districts, coverage",
        "link_ogc": "OGC API - Features",
        "link_ogc_detail": "read every layer in QGIS or GDAL",
        "link_coverage": "Coverage (JSON)",
        "link_coverage_detail": "gaps, conflicts, unheld places, staff and money",
        "page_dashboard": "Dashboard",
        "page_dashboard_detail": "cases and assessment at a glance",
        "page_inbox": "Inbox",
        "page_inbox_detail": "cases sent to your unit",
        "page_inspect": "Inspection",
        "page_inspect_detail": "report a problem found in the street, with a photo",
        "fig_districts": "Campaign districts",
        "fig_units": "Units",
        "fig_zones": "Duty zones in force",
        "fig_findings": "Data check: {errors} error(s), {warnings} warning(s) (respmap validate lists them all)",
    },
}


def words(lang: str) -> dict[str, str]:
    """The word table for ``lang`` (Chinese for anything but English)."""
    return WORDS["en"] if lang == "en" else WORDS["zh"]


def role_label(role: str, lang: str) -> str:
    return words(lang).get(f"role_{role}", role)


def stretch_label(from_m: float, to_m: float, lang: str) -> str:
    """'0–400 m' for a stretch, 'whole' (全段) for a whole feature; never starts with '-'."""
    if from_m != from_m or to_m != to_m:  # NaN: the whole feature
        return words(lang)["whole"]
    unit = "米" if lang != "en" else "m"
    return f"{from_m:,.0f}–{to_m:,.0f} {unit}"


def size_label(length_m: float, area_m2: float, lang: str) -> str:
    """Length for lines, area for polygons: '1,200 m' / '3.40 ha' / '850 m²'."""
    if length_m == length_m and length_m > 0:
        unit = "米" if lang != "en" else "m"
        return f"{length_m:,.0f} {unit}"
    if area_m2 == area_m2 and area_m2 > 0:
        if area_m2 >= 10_000:
            unit = "公顷" if lang != "en" else "ha"
            return f"{area_m2 / 10_000:,.2f} {unit}"
        return f"{area_m2:,.0f} m²"
    return ""


def date_line(day: str, source: str, lang: str) -> str:
    """'状态日期 2026-12-03（今天）' / 'status on 2026-12-03 (today)'; ``source`` is given, status_date or today."""
    w = words(lang)
    return w["date_line"].format(day=day, source=w[f"date_source_{source}"])
