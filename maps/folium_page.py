"""folium's part of the interactive map: the offline Map and the element that hands it to respmap.js.

Kept apart from :mod:`maps.interactive` so that importing that module (a server
discovering its routes, ``respmap`` parsing its command line) does not import
folium, branca and their templates, a few tenths of a second that only drawing a
map needs: :func:`maps.interactive.render_map` imports this module when it runs.
"""

from __future__ import annotations

from typing import ClassVar

import folium
from branca.element import MacroElement
from jinja2 import Template


class OfflineMap(folium.Map):
    """folium's Map without its CDN scripts and styles (jQuery, Bootstrap, Font Awesome...)."""

    default_js: ClassVar[list[tuple[str, str]]] = []
    default_css: ClassVar[list[tuple[str, str]]] = []


class RespmapInit(MacroElement):
    """Hands folium's map, groups and layer control to ``respmap.init`` once they exist."""

    _template = Template(
        """{% macro script(this, kwargs) %}
respmap.init(
    {{ this._parent.get_name() }}, [{{ this.group_names }}], {{ this.control_name }}, {{ this.data_id|tojson }}
);
{% endmacro %}"""
    )

    def __init__(self, group_names: list[str], control_name: str, data_id: str) -> None:
        super().__init__()
        self._name = "RespmapInit"
        self.group_names = ", ".join(group_names)
        self.control_name = control_name
        self.data_id = data_id
