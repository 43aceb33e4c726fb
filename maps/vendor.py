"""Where the map pages get Leaflet, its plugins and respmap's own JS/CSS from.

Leaflet and the plugins are npm packages pinned in ``maps/package.json`` and
installed by the set-up (``npm ci --prefix maps``) into ``maps/node_modules``;
respmap's own scripts live in ``maps/assets``. A map page either inlines all of
them (a self-contained HTML file that works from a USB stick) or links them
under ``/assets/...`` on the local server. There is deliberately no CDN
fallback: government intranets rarely reach one, and a page that silently
depends on the internet is worse than a clear error at build time.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

MAPS_DIR = Path(__file__).resolve().parent
NODE_MODULES = MAPS_DIR / "node_modules"
OWN_ASSETS = MAPS_DIR / "assets"
# In a checkout the set-up installs the npm files; an installed wheel carries them only if they were
# there when it was built, so its message says how to build one that does.
IN_CHECKOUT = (MAPS_DIR.parent / "pyproject.toml").is_file()
SETUP_HINT = (
    "run the set-up first: `bash scripts/setup.sh` (or `npm ci --prefix maps`)"
    if IN_CHECKOUT
    else "this installation was built without them: in the source folder run `npm ci --prefix maps`, "
    "then `pip install .` again"
)

# URL prefixes the server mounts; also used in the HTML of served pages.
VENDOR_URL = "/assets/vendor"
OWN_URL = "/assets/respmap"


@dataclass(frozen=True, slots=True)
class Asset:
    """One file a page needs: where it is on disk and how it is served."""

    path: Path
    url: str
    kind: str  # "js" or "css"


def _vendor(relative: str) -> Asset:
    return Asset(NODE_MODULES / relative, f"{VENDOR_URL}/{relative}", "css" if relative.endswith(".css") else "js")


def _own(name: str) -> Asset:
    return Asset(OWN_ASSETS / name, f"{OWN_URL}/{name}", "css" if name.endswith(".css") else "js")


# Load order matters: Leaflet before its plugins, plugins before respmap.js.
LEAFLET = (_vendor("leaflet/dist/leaflet.css"), _vendor("leaflet/dist/leaflet.js"))
PLUGINS = (
    _vendor("leaflet.fullscreen/dist/Control.FullScreen.css"),
    _vendor("leaflet.fullscreen/dist/Control.FullScreen.umd.js"),
    _vendor("leaflet.locatecontrol/dist/L.Control.Locate.min.css"),
    _vendor("leaflet.locatecontrol/dist/L.Control.Locate.umd.js"),
)
MAP_ASSETS: tuple[Asset, ...] = (*LEAFLET, *PLUGINS, _own("respmap.css"), _own("datum.js"), _own("respmap.js"))
# The phone page, with the report (field.js shared with the field pages, here-report.js after here.js).
HERE_ASSETS: tuple[Asset, ...] = (
    *LEAFLET,
    _own("here.css"),
    _own("field.css"),
    _own("datum.js"),
    _own("here.js"),
    _own("field.js"),
    _own("here-report.js"),
)
# Clustered markers for the coverage map's cases layer (maps/cases_layer.py).
MARKERCLUSTER = (
    _vendor("leaflet.markercluster/dist/MarkerCluster.css"),
    _vendor("leaflet.markercluster/dist/MarkerCluster.Default.css"),
    _vendor("leaflet.markercluster/dist/leaflet.markercluster.js"),
)
CASES_ASSETS: tuple[Asset, ...] = (*MARKERCLUSTER, _own("cases-layer.css"), _own("cases-layer.js"))
# The field pages (maps/field.py): the sign-in page needs no map; the inbox and the round do.
LOGIN_ASSETS: tuple[Asset, ...] = (_own("field.css"), _own("field.js"), _own("login.js"))
FIELD_ASSETS: dict[str, tuple[Asset, ...]] = {
    "inbox": (*LEAFLET, _own("field.css"), _own("field.js"), _own("inbox.js")),
    "inspect": (*LEAFLET, _own("field.css"), _own("field.js"), _own("inspect.js")),
}

# Swagger UI for the API's /docs page (api/routes/docs.py), served like Leaflet.
SWAGGER_UI_DIST = NODE_MODULES / "swagger-ui-dist"

# The folders the server may hand out files from (nothing else under node_modules).
SERVED_ROOTS: dict[str, Path] = {
    "vendor/leaflet/dist": NODE_MODULES / "leaflet" / "dist",
    "vendor/leaflet.fullscreen/dist": NODE_MODULES / "leaflet.fullscreen" / "dist",
    "vendor/leaflet.locatecontrol/dist": NODE_MODULES / "leaflet.locatecontrol" / "dist",
    "vendor/leaflet.markercluster/dist": NODE_MODULES / "leaflet.markercluster" / "dist",
    "vendor/swagger-ui-dist": NODE_MODULES / "swagger-ui-dist",
    "respmap": OWN_ASSETS,
}


class AssetsMissingError(RuntimeError):
    """Leaflet or a plugin is not installed: the message says how to install it."""


def check_assets(assets: tuple[Asset, ...] = MAP_ASSETS) -> None:
    """Raise :class:`AssetsMissingError` naming the first missing file."""
    for asset in assets:
        if not asset.path.is_file():
            where = (
                asset.path.relative_to(MAPS_DIR.parent) if asset.path.is_relative_to(MAPS_DIR.parent) else asset.path
            )
            raise AssetsMissingError(f"map assets are missing ({where} not found): {SETUP_HINT}")


def _css_with_inline_urls(css_path: Path) -> str:
    """The stylesheet with every relative ``url(...)`` replaced by a data: URI.

    Leaflet's CSS points at ``images/layers.png`` and friends; a single HTML
    file has no folder beside it, so those images travel inside it.
    """
    text = css_path.read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        target = match.group(2)
        if target.startswith(("data:", "#")) or re.match(r"^[a-z]+:", target, re.IGNORECASE):
            return match.group(0)
        file = (css_path.parent / target.split("?")[0].split("#")[0]).resolve()
        if not file.is_file():  # a stale reference in the package: leave it, it only costs an icon
            return match.group(0)
        mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return f'url("data:{mime};base64,{base64.b64encode(file.read_bytes()).decode("ascii")}")'

    return re.sub(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""", inline, text)


def _safe_inline_script(source: str) -> str:
    """JS source that cannot end its own ``<script>`` element early."""
    return re.sub(r"</(script)", r"<\\/\1", source, flags=re.IGNORECASE).replace("<!--", "<\\!--")


def _safe_inline_style(source: str) -> str:
    return re.sub(r"</(style)", r"<\\/\1", source, flags=re.IGNORECASE)


def head_html(assets: tuple[Asset, ...], *, inline: bool, prefix: str = "") -> str:
    """The ``<link>``/``<script>`` tags (served, under ``prefix``) or the inlined files (self-contained)."""
    check_assets(assets)
    parts: list[str] = []
    for asset in assets:
        if inline:
            if asset.kind == "css":
                parts.append(f"<style>\n{_safe_inline_style(_css_with_inline_urls(asset.path))}\n</style>")
            else:
                parts.append(f"<script>\n{_safe_inline_script(asset.path.read_text(encoding='utf-8'))}\n</script>")
        elif asset.kind == "css":
            parts.append(f'<link rel="stylesheet" href="{html.escape(prefix + asset.url)}"/>')
        else:
            parts.append(f'<script src="{html.escape(prefix + asset.url)}"></script>')
    return "\n".join(parts)


def resolve_served(path: str) -> Path | None:
    """The file behind ``/assets/<path>``, or None when it is not one we serve.

    Only files inside :data:`SERVED_ROOTS` qualify; ``..`` and symlinks that
    lead elsewhere are refused by comparing resolved paths.
    """
    clean = path.strip("/")
    for prefix, root in SERVED_ROOTS.items():
        if clean.startswith(prefix + "/"):
            candidate = (root / clean[len(prefix) + 1 :]).resolve()
            if (
                candidate.is_file()
                and candidate.is_relative_to(root.resolve())
                and candidate.suffix not in (".map", ".json")
            ):
                return candidate
            return None
    return None


def media_type(path: Path) -> str:
    """Content type of a served asset (JS and CSS as UTF-8 text)."""
    if path.suffix == ".js":
        return "text/javascript; charset=utf-8"
    if path.suffix == ".css":
        return "text/css; charset=utf-8"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"
