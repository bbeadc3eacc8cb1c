"""Ctrl-C mid-retargeting (SIGINT to the tool's whole process group, as a terminal sends it): exit 130
without a traceback, nothing half-written, and the re-run ends with the uninterrupted run's outputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.contracts.human_motion import write_human_motion
from videomimic_offline.retarget import terrain as tr
from videomimic_offline.retarget.procedural import walking_clip

CMD = [sys.executable, "-c", "from videomimic_offline.retarget.tool import main; main()"]


def _outputs(out: Path) -> dict[str, object]:
    """robot_motion.npz by value, the JSON files as data (the output folder's name and the stage
    record's timing left out)."""
    got: dict[str, object] = {}
    with np.load(out / "robot_motion.npz") as z:
        got["robot_motion.npz"] = {k: z[k].tobytes() for k in z.files}
    for f in sorted(out.glob("*.json")):
        data = json.loads(f.read_text())
        data.pop("out", None)
        if f.name == "stage.json":
            data = {k: v for k, v in data.items() if "time" not in k and "second" not in k and k != "finished"}
        got[f.name] = data
    return got


@pytest.mark.slow
def test_ctrl_c_mid_retargeting_then_rerun_gives_the_uninterrupted_outputs(tmp_path: Path) -> None:
    # a 60 s walk: several seconds of solving, so the SIGINT lands inside the work
    motion = tmp_path / "motion.npz"
    write_human_motion(motion, walking_clip(tr.flat(), [0.3 * k for k in range(100)]))
    args = [str(motion), "--iterations", "3"]
    ref = subprocess.run(
        [*CMD, *args, "--out", str(tmp_path / "a" / "robot")], capture_output=True, text=True, timeout=900
    )
    assert ref.returncode == 0, ref.stderr[-3000:]

    out = tmp_path / "b" / "robot"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    p = subprocess.Popen([*CMD, *args, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, start_new_session=True)  # fmt: skip
    assert p.stdout is not None
    seen = ""
    while "input up:" not in seen:  # the motion is loaded; solving starts now
        line = p.stdout.readline()
        assert line, f"retarget ended before solving: {seen[-2000:]} {p.stderr.read()[-2000:] if p.stderr else ''}"
        seen += line
    time.sleep(0.5)
    assert p.poll() is None, "retargeting finished before the Ctrl-C: give it a longer clip"
    os.killpg(p.pid, signal.SIGINT)
    so, se = p.communicate(timeout=120)
    assert p.returncode == 130, (p.returncode, se[-3000:])
    assert "interrupted" in se and "Traceback" not in se, se[-3000:]
    assert not out.exists(), "an interrupted retargeting published an output folder"
    assert not [q.name for q in out.parent.iterdir()], "nothing half-written beside it"

    again = subprocess.run([*CMD, *args, "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert _outputs(out) == _outputs(tmp_path / "a" / "robot")


SLOW_CLEANUP_TOOL = """#!{python}
import pathlib, shutil, sys, time
partial = pathlib.Path(sys.argv[1]) / ".robot.partial-1"
partial.mkdir(parents=True)
try:
    print("working", flush=True)
    time.sleep(60)
except KeyboardInterrupt:
    time.sleep(1.0)  # a clean-up that takes a moment (a large folder, a checkpoint being closed)
    shutil.rmtree(partial)
    print("tool cleaned up", flush=True)
    sys.exit(130)
"""


def test_ctrl_c_reaches_a_chained_tool_and_lets_it_clean_up(tmp_path: Path) -> None:
    """The main job and the batch runner chain tools through ``toolrun.run_tool_process``. A terminal's
    Ctrl-C reaches the chain and its tool together; ``subprocess.call`` then SIGKILLed the tool while it
    was removing its half-written output, leaving a ``.partial`` folder behind."""
    prefix = tmp_path / "prefix"
    tool = prefix / "lib" / "videomimic_offline" / "slow_cleanup"
    tool.parent.mkdir(parents=True)
    tool.write_text(SLOW_CLEANUP_TOOL.format(python=sys.executable))
    tool.chmod(0o755)
    out = tmp_path / "job"
    code = ("import sys; from videomimic_offline.toolrun import run_tool_process\n"
            "try:\n    run_tool_process('slow_cleanup', sys.argv[1])\n"
            "except KeyboardInterrupt:\n    print('chain interrupted', flush=True); sys.exit(130)\n")  # fmt: skip
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "AMENT_PREFIX_PATH": f"{prefix}{os.pathsep}{os.environ.get('AMENT_PREFIX_PATH', '')}",
    }
    p = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, env=env, start_new_session=True)  # fmt: skip
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "working"
    os.killpg(p.pid, signal.SIGINT)
    rest, _ = p.communicate(timeout=60)
    assert p.returncode == 130 and "chain interrupted" in rest, rest[-2000:]
    assert "tool cleaned up" in rest and not list(out.iterdir()), list(out.iterdir())
