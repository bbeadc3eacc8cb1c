"""Every tool ends with what it did and where to look, in two to five lines (issue 16): run the tools
that finish in seconds on a small input and read the end of their output.

The closing lines are those of ``cli.finished``: ``<tool>: <what it did>``, then one to four lines
indented by two spaces, the last of them ``look at: ...`` naming files that exist. Nothing follows
them on stdout. (The tools that need a reconstruction, a checkpoint or a bag are run by their own
tests and the main job; retarget's NOT-usable ending by tests/retarget/test_inputs_from_real2sim.py.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


def _run(tool: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    from videomimic.ament import find_executable

    exe = find_executable("videomimic_offline", tool)
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=180, cwd=cwd, env={**os.environ})


def closing_lines(tool: str, stdout: str) -> list[str]:
    """The summary at the end of ``stdout``, checked against the form of ``cli.finished``."""
    lines = stdout.rstrip("\n").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(f"{tool}: ")]
    assert starts, f"no line '{tool}: ...' in the output:\n{stdout[-1500:]}"
    tail = lines[starts[-1] :]
    assert 2 <= len(tail) <= 5, tail
    assert all(line.startswith("  ") and line.strip() for line in tail[1:]), tail
    return tail


def looked_at(tail: list[str], cwd: Path) -> list[Path]:
    look = [line for line in tail if line.startswith("  look at: ")]
    assert look == tail[-1:], f"the last line says where to look: {tail}"
    paths = [cwd / p for p in look[0].removeprefix("  look at: ").split(", ")]
    assert all(p.exists() for p in paths), paths
    return paths


def _motion(cwd: Path) -> list[str]:
    from videomimic_offline.contracts.human_motion import write_human_motion
    from videomimic_offline.retarget.procedural import fk_clip

    motion, _ = fk_clip(30)
    write_human_motion(cwd / "m.npz", motion)
    return ["m.npz", "--out", "rt"]


CASES = {
    "make_mocap": lambda cwd: ["--out", "mocap", "--kinds", "stand", "--seconds", "1"],
    "make_synthetic_clip": lambda cwd: ["--seconds", "1", "--width", "160", "--out", "clip"],
    "retarget": _motion,
    "plot_training": lambda cwd: (cwd / "run" / "mpt").mkdir(parents=True) or ["--run", "run"],  # no logs yet
}


@pytest.mark.parametrize("tool", sorted(CASES))
def test_tool_ends_with_what_it_did_and_where_to_look(tool: str, tmp_path: Path) -> None:
    res = _run(tool, CASES[tool](tmp_path), tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    tail = closing_lines(tool, res.stdout)
    looked_at(tail, tmp_path)
    assert "Traceback" not in res.stderr


def test_the_form_is_cli_finished() -> None:
    """What the tests above read is exactly what ``cli.finished`` prints."""
    import contextlib
    import io

    from videomimic_offline.cli import finished

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        finished("tool", "did a thing", "figure 1", look=["a", "b"])
    assert closing_lines("tool", "noise\n" + buf.getvalue()) == ["tool: did a thing", "  figure 1", "  look at: a, b"]
    with pytest.raises(ValueError):
        finished("tool", "did", "1", "2", "3", "4", look=["x"])
