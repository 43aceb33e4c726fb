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

Matplotlib 3.11 reads the faces of a font collection (``.ttc``, which is how
Debian ships Noto CJK) by index, so the Simplified Chinese face is chosen by
its family name. How it is embedded in PDF depends on its outlines:

- TrueType outlines (YaHei, SimHei, WenQuanYi, PingFang): embedded as a
  TrueType (Type 42, ``pdf.fonttype = 42``) subset: small, searchable text.
- CFF outlines (Noto Sans CJK and Source Han Sans are "OpenType/CFF", file
  signature ``OTTO``): matplotlib's Type 42 writer puts the CFF program in a
  TrueType slot (matplotlib issue #20870, still open), a PDF that poppler
  flags ("Mismatch between font type and embedded font file") and strict
  readers may refuse. These are embedded as Type 3 instead: the used glyphs'
  outlines go into the PDF, with a ToUnicode map so the text stays searchable
  and copyable, and every reader draws them identically.

Either way the PDF needs no font on the reader's machine.
"""

from __future__ import annotations

import functools
import re
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


class MissingGlyphWarning(UserWarning):
    """Some characters of the data (emoji, rare scripts) are in no installed font: they print as boxes."""


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


def mark_warned() -> None:
    """The caller has told the user already (the CLI prints its own line): no Python warning."""
    global _warned
    _warned = True


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
    fonttype = pdf_fonttype(family)
    return {
        # The families themselves, not the generic "sans-serif" (which resolves to its first
        # installed entry alone): matplotlib falls back glyph by glyph only along this list, so
        # DejaVu Sans draws the Arabic, Hebrew or Cyrillic in a name that the CJK font lacks.
        "font.family": families,
        "font.sans-serif": families,
        # Embedded either way; see the module docstring for why CFF fonts get Type 3.
        "pdf.fonttype": fonttype,
        "ps.fonttype": fonttype,
        # SVG pasted into Word must not depend on the reader's fonts.
        "svg.fonttype": "path",
        # Several CJK fonts (SimHei) lack U+2212 MINUS SIGN.
        "axes.unicode_minus": False,
    }


@functools.cache
def font_face(family: str) -> tuple[str, int] | None:
    """(file, face index) of the regular face of ``family``, as matplotlib will load it."""
    from matplotlib import font_manager

    entries = [e for e in font_manager.fontManager.ttflist if e.name == family]
    if not entries:
        return None
    regular = min(entries, key=lambda e: (abs(_weight(e.weight) - 400), e.style != "normal"))
    return regular.fname, int(getattr(regular, "index", 0) or 0)


def _weight(value: object) -> int:
    named = {"light": 300, "normal": 400, "regular": 400, "medium": 500, "bold": 700, "heavy": 800, "black": 900}
    if isinstance(value, int | float):
        return int(value)
    return named.get(str(value).lower(), 400)


@functools.cache
def has_cff_outlines(path: str, index: int = 0) -> bool:
    """True for OpenType/CFF fonts (signature ``OTTO``, a ``CFF `` table): not embeddable as Type 42."""
    try:
        from fontTools.ttLib import TTFont

        with TTFont(path, fontNumber=index, lazy=True) as font:
            return "CFF " in font or "CFF2" in font or font.sfntVersion == "OTTO"
    except Exception:  # unreadable here: assume the cautious answer
        return True


def pdf_fonttype(family: str | None) -> int:
    """42 (TrueType embedding) for TrueType-outline fonts, 3 for CFF ones (see the module docstring)."""
    if family is None:
        return 42  # DejaVu Sans is TrueType
    face = font_face(family)
    if face is None:
        return 3
    return 3 if has_cff_outlines(*face) else 42


def has_cjk_font() -> bool:
    return find_cjk_font() is not None


GLYPH_MISSING_PATTERN = r"Glyph \d+ .*missing from font"
# Characters that are no part of printed text: C0/C1 controls but newline and tab (terminal
# colour codes, BEL) would print as empty boxes, and bidi embeddings, overrides and isolates would
# print a name backwards ("\u202eevil unit" as "tinu live") with no sign that it was not typed so.
# maps.static drops them from every text before a figure is saved.
UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
GLYPH_MISSING = re.compile(r"Glyph (\d+) .*missing from font")


def silence_glyph_warnings_if_no_font() -> None:
    """Without a CJK font, ignore matplotlib's one-warning-per-glyph flood (call inside ``catch_warnings``).

    The single :class:`MissingCJKFontWarning` already says what is wrong and
    what to install; hundreds of "Glyph 24184 missing" lines would hide it.
    With a CJK font nothing is filtered, so a genuinely missing glyph still shows.
    """
    if not has_cjk_font():
        warnings.filterwarnings("ignore", message=GLYPH_MISSING_PATTERN, category=UserWarning)


def summarise_glyph_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Re-issue warnings recorded while drawing, matplotlib's per-glyph ones as a single warning.

    Matplotlib warns once per missing character and drawing pass, each with the
    source line that raised it; a name with emoji gives dozens of lines that
    look like a crash. One :class:`MissingGlyphWarning` names the characters
    instead; every other warning is passed on as it was.
    """
    missing: dict[int, None] = {}
    for item in caught:
        found = GLYPH_MISSING.match(str(item.message)) if issubclass(item.category, UserWarning) else None
        if found:
            if not UNPRINTABLE.match(chr(int(found.group(1)))):  # dropped before saving: never printed
                missing[int(found.group(1))] = None
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno, source=item.source)
    if missing:
        shown = ", ".join(f"{chr(code)} (U+{code:04X})" for code in list(missing)[:12])
        more = f" and {len(missing) - 12} more" if len(missing) > 12 else ""
        warnings.warn(
            f"respmap: no installed font has these characters, they print as empty boxes: {shown}{more}",
            MissingGlyphWarning,
            stacklevel=3,
        )
