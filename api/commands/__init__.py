"""Sub-commands of the ``respmap`` CLI, one module each (see ``api/cli.py``)."""
