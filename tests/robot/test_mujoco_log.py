"""MuJoCo leaves no MUJOCO_LOG.TXT in the user's working directory (issue #13).

MuJoCo appends each warning to ``MUJOCO_LOG.TXT`` in the cwd unless a handler is installed. The
warning users found there was an attach conflict: ``g1_spec`` once set the policy's 0.005 s timestep
on the robot's spec, and mjlab attaches that spec into a scene at MuJoCo's default 0.002 s ("Attach
conflict ... timestep: parent has 0.002 (default), child has 0.005"). The robot's spec now carries no
solver options (``robot.physics.apply_options`` sets them on the scene), and loading the G1 routes
MuJoCo's warnings to stderr. Each check runs in a fresh process in an empty cwd.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ATTACH_G1 = """
import mujoco
from videomimic_offline.robot.model import g1_spec
scene = mujoco.MjSpec()  # as mjlab's Scene: a default spec, the robot attached into it
scene.attach(g1_spec("29dof", actuators=True), prefix="robot/", frame=scene.worldbody.add_frame())
scene.compile()
"""

CONFLICT = """
import mujoco
from videomimic_offline.robot.model import g1_spec
g1_spec()  # loading the G1 installs the handler
child = mujoco.MjSpec()
child.option.timestep = 0.005
body = child.worldbody.add_body(name="b")
body.add_geom(size=[0.1, 0, 0])
parent = mujoco.MjSpec()
parent.attach(child, prefix="c/", frame=parent.worldbody.add_frame())
parent.compile()
"""


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_attaching_the_g1_as_mjlab_does_warns_nothing(tmp_path: Path) -> None:
    res = _run(ATTACH_G1, tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "[mujoco] warning" not in res.stderr, res.stderr[-2000:]
    assert not list(tmp_path.iterdir()), [p.name for p in tmp_path.iterdir()]


def test_a_mujoco_warning_goes_to_stderr_not_to_a_file_in_the_cwd(tmp_path: Path) -> None:
    res = _run(CONFLICT, tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "[mujoco] warning: Attach conflict" in res.stderr, res.stderr[-2000:]
    assert not (tmp_path / "MUJOCO_LOG.TXT").exists()
