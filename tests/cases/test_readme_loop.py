"""The README's case-loop block runs as written, on the demo, against a fresh store.

``CASE_ID`` in the block stands for the id that the block's ``cases add`` line prints; every
line must exit 0 without a traceback, and the case must end closed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess

from tests.api.test_readme_tour import DEMO, README, respmap_command

CASE_ID = re.compile(r"\b\d{8}-\d{6}\b")


def loop_lines() -> list[list[str]]:
    text = README.read_text(encoding="utf-8").split("\n## The case loop", 1)
    assert len(text) == 2, "README.md has no '## The case loop' section"
    block = re.search(r"```bash\n(.*?)```", text[1], flags=re.DOTALL)
    assert block is not None
    return [argv for argv in (shlex.split(line, comments=True) for line in block.group(1).splitlines()) if argv]


def test_the_case_loop_block_runs_as_written(tmp_path):
    env = {**os.environ, "RESPMAP_DATASET": str(DEMO), "RESPMAP_DATA_DIR": str(tmp_path / "store")}
    env.pop("RESPMAP_DATABASE_URL", None)
    case_id = None
    lines = loop_lines()
    assert [argv[1] for argv in lines[:3]] == ["db", "users", "users"]
    for argv in lines:
        if "CASE_ID" in argv:
            assert case_id is not None, "a line uses CASE_ID before `cases add` printed one"
            argv = [case_id if part == "CASE_ID" else part for part in argv]
        done = subprocess.run(
            respmap_command() + argv[1:], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"`{shlex.join(argv)}` exited {done.returncode}:\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr
        if argv[1:3] == ["cases", "add"]:
            found = CASE_ID.search(done.stdout)
            assert found, done.stdout
            case_id = found.group(0)
    shown = subprocess.run(
        [*respmap_command(), "cases", "show", case_id, "--json"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    case = json.loads(shown.stdout)
    assert case["state"] == "closed"
    assert [e["action"] for e in case["events"]] == ["report", "dispatch", "rectify", "close"]
    assert (tmp_path / "案件.xlsx").is_file() and (tmp_path / "通报.docx").is_file()
