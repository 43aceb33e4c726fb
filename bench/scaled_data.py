"""The datasets the benchmarks run on: the bundled demo, or a scaled copy made once in /tmp.

Shared by every script in bench/ (run as ``python bench/<name>.py``, which puts this
folder on ``sys.path``), so that all of them measure the same generated data.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def dataset_folder(scale: int) -> Path:
    """``layers/ankang`` for scale 1; else ``/tmp/respmap_ankang_x<scale>``, generated if missing."""
    if scale == 1:
        return REPO / "layers" / "ankang"
    folder = Path(f"/tmp/respmap_ankang_x{scale}")
    if not (folder / "catalog.toml").is_file():
        print(f"generating scale {scale} into {folder} ...", flush=True)
        subprocess.run(
            [sys.executable, str(REPO / "layers" / "generate_demo.py"), "--scale", str(scale), "--out", str(folder)],
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
    return folder
