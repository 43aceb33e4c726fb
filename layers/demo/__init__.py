"""The synthetic Ankang demo generator (示例数据), split by concern.

``names`` (pools in ``names.toml``) · ``model`` (constants, records, the ``Demo`` state) ·
``plan`` (river, main roads, districts, riverbanks, entrances) · ``places`` (villages,
alleys, compounds, facilities) · ``standards`` · ``organisation`` (units, assignments,
planted problems) · ``staffing`` · ``writers`` (files, README from ``readme_template.md``)
· ``builder`` (the steps in order).  The command line is ``layers/generate_demo.py``.
"""
