"""The field pages of the case loop: ``/login``, ``/inbox`` (a unit's open cases), ``/inspect`` (an inspector's round).

Small phone-first pages, not folium maps: a static HTML shell with one JSON data element
(words, the routes the page calls, the photo limit) and scripts served from ``/assets``
(``maps/assets/field.js`` shared, one script per page). The scripts build everything with
``textContent``; the pages allow no inline script (``script-src 'self'``), so a value that
slipped through as markup still could not run. Chinese first, English with ``?lang=en``.

The words of the report on ``/here`` live here too (:data:`FIELD_LABELS`), so the phone
page and the field pages say the same thing the same way.
"""

from __future__ import annotations

from typing import Any, Literal

from maps.popups import escape_html, script_json
from maps.vendor import FIELD_ASSETS, LOGIN_ASSETS, head_html

FieldPage = Literal["login", "inbox", "inspect"]
MB = 1024 * 1024

# Content-Security-Policy of the field pages: this server only, no inline script, photos
# previewed from data: URLs, no framing (a unit's inbox inside another site's frame is a trap).
_PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'"
)
# The header adds frame-ancestors (browsers ignore it, with a console error, in a <meta> element).
FIELD_CSP = _PAGE_CSP + "; frame-ancestors 'none'"

FIELD_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "login_title": "登录",
        "login_hint": "输入管理员发给你的令牌（respmap users add 生成）",
        "token": "令牌",
        "sign_in": "登录",
        "signing_in": "正在登录…",
        "login_failed": "登录失败",
        "sign_out": "退出",
        "inbox_title": "本单位待办案件",
        "inbox_waiting": "已整改，等待核查",
        "inbox_empty": "没有待办案件",
        "inspect_title": "督查核查",
        "inspect_check": "待核查（已整改）",
        "inspect_near": "附近的未结案件",
        "inspect_locate": "用我的位置查附近",
        "inspect_no_check": "没有待核查的案件",
        "inspect_no_near": "附近没有未结案件",
        "before": "整改前",
        "after": "整改后",
        "no_photo": "无照片",
        "rectify_note": "整改说明",
        "wrong_role": "此页面供{roles}使用；你登录的身份是 {role}",
        "role_unit": "责任单位",
        "role_inspector": "督查员",
        "role_admin": "城管办",
        "rectify": "已整改",
        "dispute": "申请改派",
        "close": "结案",
        "send_back": "返工",
        "note": "说明",
        "reason": "理由（必填）",
        "after_photo": "整改后照片",
        "submit": "提交",
        "cancel": "取消",
        "done": "已提交",
        "loading": "正在加载…",
        "load_failed": "加载失败",
        "overdue": "已超期",
        "due": "限期",
        "reported": "上报于",
        "case_id": "案件",
        "units": "责任单位",
        "distance": "距离",
        "metres": "米",
        "photo": "照片",
        "photo_preparing": "正在处理照片…",
        "photo_ready": "照片已就绪：",
        "photo_too_large": "照片 {size} MB，超过服务器上限 {limit} MB，请换一张或降低相机分辨率",
        "photo_unreadable": "无法读取这张照片（不是图片，或格式不支持）",
        "report_open": "上报问题",
        "report_as_user": "以登录身份上报：立即派遣给责任单位",
        "report_as_public": "匿名上报：城管办审核后派遣",
        "report_need_place": "先定位，或在地图上点选，或输入坐标",
        "report_place": "位置",
        "report_unit": "责任单位",
        "report_unit_unknown": "责任单位：查询中",
        "report_unit_offline": "离线：责任单位联网后确定",
        "report_typed_hint": "粘贴坐标：经度,纬度",
        "report_typed_go": "定位",
        "report_typed_bad": "坐标应为两个数：经度,纬度",
        "report_datum": "坐标系",
        "datum_wgs84": "WGS-84（GPS）",
        "datum_gcj02": "GCJ-02（高德/腾讯）",
        "datum_bd09": "BD-09（百度）",
        "report_category": "问题类别",
        "report_no_categories": "无法读取问题类别",
        "report_need_category": "请选择问题类别",
        "report_note": "描述",
        "report_photo": "拍照",
        "report_send": "发送",
        "report_done": "已上报",
        "report_sent": "已上报 {id}",
        "report_kept": "没有网络：已保存在手机上，联网后自动发送",
        "report_pending": "待发送 {n} 条（联网后自动发送）",
        "report_refused": "服务器拒收一条离线上报：",
        "report_not_allowed": "以 {role} 身份登录时不能上报：请退出后匿名上报，或以督查员登录",
        "lookup_offline": "没有网络：联网后再查询责任单位；现在仍可上报，联网后自动发送",
    },
    "en": {
        "login_title": "Sign in",
        "login_hint": "Enter the token the office gave you (made by respmap users add)",
        "token": "Token",
        "sign_in": "Sign in",
        "signing_in": "Signing in…",
        "login_failed": "Sign-in failed",
        "sign_out": "Sign out",
        "inbox_title": "Our open cases",
        "inbox_waiting": "Rectified, waiting for the check",
        "inbox_empty": "No open cases",
        "inspect_title": "Inspection round",
        "inspect_check": "To check (rectified)",
        "inspect_near": "Open cases nearby",
        "inspect_locate": "Find cases near me",
        "inspect_no_check": "Nothing to check",
        "inspect_no_near": "No open cases nearby",
        "before": "Before",
        "after": "After",
        "no_photo": "no photo",
        "rectify_note": "Rectification note",
        "wrong_role": "This page is for {roles}; you are signed in as {role}",
        "role_unit": "units",
        "role_inspector": "inspectors",
        "role_admin": "the office",
        "rectify": "Rectified",
        "dispute": "Dispute",
        "close": "Close",
        "send_back": "Send back",
        "note": "Note",
        "reason": "Reason (required)",
        "after_photo": "Photo after",
        "submit": "Submit",
        "cancel": "Cancel",
        "done": "Submitted",
        "loading": "Loading…",
        "load_failed": "Could not load",
        "overdue": "Overdue",
        "due": "Due",
        "reported": "Reported",
        "case_id": "Case",
        "units": "Responsible",
        "distance": "Distance",
        "metres": "m",
        "photo": "Photo",
        "photo_preparing": "Preparing the photo…",
        "photo_ready": "Photo ready:",
        "photo_too_large": "The photo is {size} MB, over the server's {limit} MB limit: choose another or a lower resolution",
        "photo_unreadable": "This photo cannot be read (not an image, or an unsupported format)",
        "report_open": "Report a problem here",
        "report_as_user": "Reporting as signed in: dispatched at once",
        "report_as_public": "Anonymous report: the office reviews it first",
        "report_need_place": "Locate yourself, tap the map or type coordinates first",
        "report_place": "Place",
        "report_unit": "Responsible",
        "report_unit_unknown": "Responsible: asking…",
        "report_unit_offline": "Offline: the unit is found when the report is sent",
        "report_typed_hint": "Paste coordinates: lon,lat",
        "report_typed_go": "Go",
        "report_typed_bad": "Coordinates are two numbers: lon,lat",
        "report_datum": "Datum",
        "datum_wgs84": "WGS-84 (GPS)",
        "datum_gcj02": "GCJ-02 (AMap/Tencent)",
        "datum_bd09": "BD-09 (Baidu)",
        "report_category": "Category",
        "report_no_categories": "Could not read the categories",
        "report_need_category": "Choose a category",
        "report_note": "Description",
        "report_photo": "Take a photo",
        "report_send": "Send",
        "report_done": "Reported",
        "report_sent": "Reported {id}",
        "report_kept": "No connection: kept on the phone, sent when back online",
        "report_pending": "{n} waiting to be sent (sent when back online)",
        "report_refused": "The server refused a report kept offline:",
        "report_not_allowed": "Signed in as {role}, you cannot report: sign out to report anonymously, or sign in as an inspector",
        "lookup_offline": "No connection: the responsible unit is asked when back online; you can still report now",
    },
}

_TITLES = {"login": "login_title", "inbox": "inbox_title", "inspect": "inspect_title"}

_TEMPLATE = """<!DOCTYPE html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta http-equiv="Content-Security-Policy" content="{csp}"/>
<meta name="referrer" content="no-referrer"/>
<title>{title}</title>
<link rel="icon" href="data:,"/>
{assets}
</head>
<body class="field field-{kind}">
<main class="field-main" id="field-main" data-page="{kind}">
  <h1 class="field-title" id="field-title">{title_text}</h1>
  <p class="field-status" id="field-status" role="status" aria-live="polite"></p>
  <div id="field-body"></div>
</main>
<script type="application/json" id="respmap-field-data">{data}</script>
</body>
</html>
"""


def field_words(lang: str) -> dict[str, str]:
    """The words of the field pages (and the report on /here) in ``lang`` (Chinese for anything else)."""
    return dict(FIELD_LABELS.get(lang, FIELD_LABELS["zh"]))


def field_urls(prefix: str = "") -> dict[str, str]:
    """The routes the field pages call, under the server's root path."""
    return {
        "me": prefix + "/me",
        "login": prefix + "/login",
        "logout": prefix + "/logout",
        "cases": prefix + "/cases",
        "categories": prefix + "/categories",
        "places": prefix + "/here/places",
        "prefix": prefix,
        "home_unit": prefix + "/inbox",
        "home_inspector": prefix + "/inspect",
        "home_admin": prefix + "/map",
    }


def render_field_page(
    kind: FieldPage, *, lang: str = "zh", prefix: str = "", photo_limit_mb: float = 10.0, site_name: str = ""
) -> str:
    """The HTML of one field page (assets linked under ``prefix + /assets``)."""
    words = field_words(lang)
    payload: dict[str, Any] = {
        "labels": words,
        "lang": lang,
        "urls": field_urls(prefix),
        "photo_limit_bytes": int(photo_limit_mb * MB),
        "page": kind,
    }
    title_text = words[_TITLES[kind]]
    title = f"{title_text} · {site_name}" if site_name else title_text
    assets = head_html(LOGIN_ASSETS if kind == "login" else FIELD_ASSETS[kind], inline=False, prefix=prefix)
    return _TEMPLATE.format(
        html_lang="en" if lang == "en" else "zh-CN",
        csp=escape_html(_PAGE_CSP),
        title=escape_html(title),
        title_text=escape_html(title_text),
        assets=assets,
        kind=kind,
        data=script_json(payload),
    )
