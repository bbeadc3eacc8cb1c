"""Every console tool answers --help: its usage line names the tool, every option that takes a value
says its default (or that it is required), and options with a fixed set of values list them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import catalog  # noqa: E402

TOOLS = [(name, "videomimic_nodes" if area == "deploy" else "videomimic_offline")
         for area, rows in catalog.tools().items() for name, _ in rows] + [("vm_launch", "videomimic")]  # fmt: skip
_BOX = str.maketrans("", "", "│╭╮╰╯─")


def _help(package: str, tool: str) -> str:
    from videomimic.ament import find_executable

    exe = find_executable(package, tool)
    env = {**os.environ, "COLUMNS": "100"}  # one column of tyro boxes, as on an ordinary terminal
    res = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def option_entries(text: str) -> list[list[str]]:
    """The option entries of an argparse or tyro help text: each the option line and its help lines."""
    entries: list[list[str]] = []
    cur: list[str] | None = None
    for raw in text.splitlines():
        unboxed = raw.translate(_BOX)
        line = unboxed.strip()
        indent = len(unboxed) - len(unboxed.lstrip())
        if line.startswith("-") and indent <= 2:  # help lines are indented further (and may start with --x)
            cur = [line]
            entries.append(cur)
        elif not line or line.endswith(("options", "arguments:", "options:")):
            cur = None
        elif cur is not None:
            cur.append(line)
    return entries


def _takes_value(option_line: str) -> bool:
    spec = re.split(r"\s{2,}", option_line, maxsplit=1)[0]
    return any(len(part.split()) > 1 for part in spec.split(", "))


@pytest.mark.parametrize(("tool", "package"), TOOLS, ids=[t for t, _ in TOOLS])
def test_help_names_tool_and_says_defaults(tool: str, package: str) -> None:
    text = _help(package, tool)
    assert text.lstrip().startswith(f"usage: {tool} "), text[:200]
    entries = option_entries(text)
    assert entries, "no options found in --help"
    missing = []
    for entry in entries:
        if entry[0].startswith("-h, --help") or not _takes_value(entry[0]):
            continue
        said = " ".join(entry).lower()
        if "default" not in said and "required" not in said:
            missing.append(entry[0])
    assert not missing, f"{tool} --help gives no default for: {missing}"
    # tyro reads a field's trailing comment as its help: a lint pragma there is shown to the user
    assert not re.search(r"type: ?ignore|noqa|fmt: ?(skip|off)", text), f"{tool} --help shows a code comment"


def test_choices_are_listed() -> None:
    """The choices named in the docs and the issue, read from their owners."""
    from videomimic_offline.real2sim.config import MeshBackend
    from videomimic_offline.real2sim.synthetic.clip import CAMERA_REGIMES, SCENE_KINDS
    from videomimic_offline.training.config import TERRAINS

    expect = {
        ("videomimic_offline", "train_teacher"): "{" + ",".join(TERRAINS) + "}",
        ("videomimic_offline", "reconstruct"): "{" + ",".join(typing.get_args(MeshBackend)) + "}",
        ("videomimic_offline", "make_synthetic_clip"): "{" + ",".join(SCENE_KINDS) + "}",
    }
    expect_more = {("videomimic_offline", "make_synthetic_clip"): "{" + ",".join(CAMERA_REGIMES) + "}"}
    for (package, tool), shown in expect.items():
        text = _help(package, tool)
        assert shown in text, f"{tool} --help does not list {shown}"
        if (package, tool) in expect_more:
            assert expect_more[package, tool] in text


def test_option_entries_parser() -> None:
    text = """usage: x [-h] --out OUT
options:
  -h, --help   show
  --kind {a,b}  what (default: a)
  --portrait   flag
  --out OUT    where (required)
│ --progress, --no-progress                                                    │
│                       Show a progress bar. (default: True)                   │
│ --max-minutes {None}|FLOAT                                                   │
│                       Stop after this wall time; the same                    │
│                       --max-minutes continues. (default:                     │
│                       None)                                                  │
"""
    entries = option_entries(text)
    assert [e[0].split()[0] for e in entries] == [
        "-h,",
        "--kind",
        "--portrait",
        "--out",
        "--progress,",
        "--max-minutes",
    ]
    assert [_takes_value(e[0]) for e in entries] == [False, True, False, True, False, True]
    assert entries[-1][-1] == "None)"
