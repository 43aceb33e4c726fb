"""Finding a CJK font for static maps, on any platform, and saying so when there is none.

Matplotlib's default font (DejaVu Sans) has no Chinese glyphs: every 幸福巷
would print as an empty box ("tofu"). This module looks for a real CJK font
among the families that the common platforms ship or install easily:

- Debian/Ubuntu: ``apt-get install fonts-noto-cjk`` (Noto Sans CJK SC) or
  ``fonts-wqy-zenhei`` (WenQuanYi Zen Hei);
- Windows: Microsoft YaHei, SimHei (always there on Chinese Windows);
- macOS: PingFang SC, Heiti SC, STHeiti;
- anywhere: Source Han Sans (Adobe's name for the same design as Noto CJK).

:func:`font_rc` returns the rcParams that use it (with the PDF font embedded
as TrueType, ``pdf.fonttype = 42``, so a PDF opened on a machine without the
font still shows the text, and text stays selectable and searchable). Without
a CJK font one clear warning names what to install, once per process.

Matplotlib 3.11 reads the faces of a TrueType collection (``.ttc``, which is
how Debian ships Noto CJK) by index, so the Simplified Chinese face is chosen
by its family name and embedded (subset) in PDF like any other TrueType font.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

# Preferred first: designed for Simplified Chinese, complete, with Latin glyphs
# that look right next to the Hanzi. The JP/TC faces of Noto come last: they
# have the glyphs but draw some of them the Japanese or Traditional way.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "STHeiti",
    "SimHei",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Source Han Sans",
    "Arial Unicode MS",
)

INSTALL_HINT = (
    "install a Chinese font and run again: on Debian/Ubuntu `apt-get install fonts-noto-cjk`, "
    "on Fedora `dnf install google-noto-sans-cjk-fonts`; Windows and macOS ship Microsoft YaHei / PingFang"
)


class MissingCJKFontWarning(UserWarning):
    """No CJK font was found: Chinese text in static maps would print as boxes."""


_warned = False


@functools.cache
def find_cjk_font() -> str | None:
    """The family name of the first installed CJK font in :data:`CJK_FAMILIES`, or None.

    Looked up once per process (matplotlib's font list is itself cached on disk).
    """
    from matplotlib import font_manager

    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    # Fonts installed after matplotlib built its cache are not in ttflist yet.
    for family in CJK_FAMILIES:
        try:
            font_manager.findfont(family, fallback_to_default=False, rebuild_if_missing=False)
        except ValueError:
            continue
        return family
    return None


def warn_missing_font_once() -> None:
    """Emit the one warning that says what to install (once per process)."""
    global _warned
    if _warned:
        return
    _warned = True
    warnings.warn(
        f"respmap: no CJK (Chinese) font found, Chinese labels would print as empty boxes; {INSTALL_HINT}",
        MissingCJKFontWarning,
        stacklevel=3,
    )


def font_rc() -> dict[str, Any]:
    """rcParams for report maps: the CJK font first, embedded TrueType in PDF.

    Without a CJK font it warns once and falls back to DejaVu Sans; the caller
    should then silence matplotlib's per-glyph warnings (see
    :func:`glyph_warnings_filtered`) so the one warning is not buried.
    """
    family = find_cjk_font()
    if family is None:
        warn_missing_font_once()
    families = [family, "DejaVu Sans"] if family else ["DejaVu Sans"]
    return {
        "font.family": "sans-serif",
        "font.sans-serif": families,
        # TrueType (Type 42) embedding: the reader needs no font of its own and
        # the text stays searchable; Type 3 would turn each glyph into a drawing.
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        # SVG pasted into Word must not depend on the reader's fonts.
        "svg.fonttype": "path",
        # Several CJK fonts (SimHei) lack U+2212 MINUS SIGN.
        "axes.unicode_minus": False,
    }


def has_cjk_font() -> bool:
    return find_cjk_font() is not None


@functools.cache
def _glyph_filter_installed() -> bool:
    warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
    return True


def glyph_warnings_filtered() -> None:
    """Without a CJK font, silence matplotlib's one-warning-per-glyph flood.

    The single :class:`MissingCJKFontWarning` already says what is wrong and
    what to install; hundreds of "Glyph 24184 missing" lines would hide it.
    With a CJK font nothing is filtered, so a genuinely missing glyph still shows.
    """
    if not has_cjk_font():
        _glyph_filter_installed()
