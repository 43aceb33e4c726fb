"""The synthetic Ankang demo generator (示例数据), split by concern.

``names`` (pools in ``names.toml``) · ``model`` (constants, records, the ``Demo`` state) ·
``geometry`` (ground) · ``standards`` · ``organisation`` (units, assignments, planted
problems) · ``staffing`` · ``writers`` (files, README from ``readme_template.md``) ·
``builder`` (the steps in order).  The command line is ``layers/generate_demo.py``.
"""
