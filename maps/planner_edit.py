"""Planners edit responsibility on the served coverage map, and every popup says since when.

On ``/map`` (served only: a file has no server to send a change to) the page asks ``/me``;
for a planner or an admin an "编辑责任 edit" control appears. In edit mode a click asks
``GET /assignments/at`` which places are there and who holds them on the chosen effective
date; the panel offers to reassign a row (unit from a searchable list of the dataset's units,
role, effective date, reason), to split a street at the clicked point (the metres along it come
from the server) with a unit for each part, or to give a place a unit. Before confirming, the
panel shows the difference and the findings of a ``dry_run`` of ``POST /assignments/changes``;
confirming sends the same change, and the page reopens on the effective date (the server reloads
after applying) so the new state shows. For everyone signed in, the lookup popup says since when
each unit has held the place (``GET /history/place``) and links to the change that decided it.

``maps/assets/planner-edit.js`` builds all of it with text nodes only; words are here, Chinese first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maps.vendor import OWN_ASSETS, OWN_URL, Asset

PLANNER_EDIT_ASSETS: tuple[Asset, ...] = (
    Asset(OWN_ASSETS / "planner-edit.css", f"{OWN_URL}/planner-edit.css", "css"),
    Asset(OWN_ASSETS / "planner-edit.js", f"{OWN_URL}/planner-edit.js", "js"),
)
EDITING_ROLES = ("planner", "admin")

EDIT_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "edit_button": "编辑责任",
        "edit_title": "编辑责任分工",
        "edit_hint": "点击地图上的地块或街巷以选择",
        "edit_close": "退出编辑",
        "edit_loading": "正在查询…",
        "edit_none_here": "此处没有可编辑的地块或街巷",
        "edit_places_here": "此处有多处，请选择：",
        "edit_current": "现有分工（生效日）",
        "edit_nobody": "无人负责",
        "edit_whole": "全段",
        "edit_at": "点击处距起点",
        "edit_action": "操作",
        "edit_reassign": "改由其他单位负责",
        "edit_split": "在点击处分段",
        "edit_give": "增加负责单位",
        "edit_row": "调整的分工",
        "edit_unit": "单位",
        "edit_unit_first": "前段单位",
        "edit_unit_second": "后段单位",
        "edit_unit_search": "输入单位名称查找",
        "edit_unit_none": "未选择单位",
        "edit_role": "角色",
        "edit_split_at": "分段位置（米）",
        "edit_effective": "生效日期",
        "edit_reason": "变更原因",
        "edit_preview": "预览变更",
        "edit_confirm": "确认变更",
        "edit_diff": "变更内容",
        "edit_findings": "检查结果",
        "edit_no_findings": "未发现问题",
        "edit_no_change": "没有变化",
        "edit_errors_remain": "存在错误，不能确认",
        "edit_applied": "变更已生效",
        "edit_not_reloaded": "但服务器未能重新加载数据，请联系管理员",
        "edit_failed": "操作失败",
        "edit_stale": "数据已被他人修改，请重新选择",
        "edit_need_unit": "请选择单位",
        "edit_need_reason": "请填写变更原因",
        "edit_need_date": "请填写生效日期",
        "edit_bad_split": "分段位置须在该段之内",
        "edit_forbidden": "无权编辑",
        "role_lead": "牵头",
        "role_shared": "配合",
        "role_supervisor": "监督",
        "since": "自 {date} 起负责",
        "since_start": "自数据起始负责",
        "since_change": "变更 #{id}",
        "metres": "米",
        "level_error": "错误",
        "level_warning": "警告",
        "level_info": "提示",
    },
    "en": {
        "edit_button": "Edit responsibility",
        "edit_title": "Edit who is responsible",
        "edit_hint": "Click a place or a street on the map to select it",
        "edit_close": "Stop editing",
        "edit_loading": "Looking…",
        "edit_none_here": "Nothing to edit here",
        "edit_places_here": "Several places here, pick one:",
        "edit_current": "Held now (on the effective date)",
        "edit_nobody": "Nobody holds it",
        "edit_whole": "whole",
        "edit_at": "Clicked at",
        "edit_action": "Action",
        "edit_reassign": "Give to another unit",
        "edit_split": "Split here",
        "edit_give": "Add a unit",
        "edit_row": "Row to change",
        "edit_unit": "Unit",
        "edit_unit_first": "Unit before the cut",
        "edit_unit_second": "Unit after the cut",
        "edit_unit_search": "Type a unit's name",
        "edit_unit_none": "No unit chosen",
        "edit_role": "Role",
        "edit_split_at": "Cut at (metres)",
        "edit_effective": "Effective from",
        "edit_reason": "Reason",
        "edit_preview": "Preview",
        "edit_confirm": "Confirm",
        "edit_diff": "Difference",
        "edit_findings": "Findings",
        "edit_no_findings": "No problems found",
        "edit_no_change": "Nothing changes",
        "edit_errors_remain": "Errors remain: cannot confirm",
        "edit_applied": "The change is in force",
        "edit_not_reloaded": "but the server could not reload the data; tell the administrator",
        "edit_failed": "Failed",
        "edit_stale": "Someone changed the data meanwhile; select again",
        "edit_need_unit": "Choose a unit",
        "edit_need_reason": "Say why",
        "edit_need_date": "Give the effective date",
        "edit_bad_split": "The cut must fall inside the row's stretch",
        "edit_forbidden": "You may not edit",
        "role_lead": "lead",
        "role_shared": "shared",
        "role_supervisor": "supervisor",
        "since": "since {date}",
        "since_start": "since the data begins",
        "since_change": "change #{id}",
        "metres": "m",
        "level_error": "error",
        "level_warning": "warning",
        "level_info": "note",
    },
}


@dataclass(frozen=True)
class PlannerEdit:
    """Where the served map's edit tools and the popup's "since when" talk to (under ``prefix``)."""

    prefix: str = ""

    @classmethod
    def served(cls, prefix: str = "") -> PlannerEdit:
        return cls(prefix=prefix)

    def payload(self, lang: str) -> dict[str, Any]:
        """The page data: words, roles that may edit, and the server's addresses."""
        p = self.prefix
        return {
            "labels": EDIT_LABELS.get(lang, EDIT_LABELS["zh"]),
            "roles": list(EDITING_ROLES),
            "urls": {
                "me": p + "/me",
                "at": p + "/assignments/at",
                "changes": p + "/assignments/changes",
                "units": p + "/units",
                "history_place": p + "/history/place",
                "history": p + "/history",
                "login": p + "/login",
            },
        }
