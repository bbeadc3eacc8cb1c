"""Run the deploy graph the way a user does (vm_launch, then Ctrl-C), timed from when it is up.

``vm_launch --duration N`` counts from the runner's own start. On a loaded machine (CI at load 10
on 2 cores) the simulator can take longer than that to build its scene, so a test that gave the
graph 8 s recorded a bag without a single /vm/odom message. These helpers count the seconds from
the simulator's "robot spawned" line instead, as the main job counts its deploy from the bag.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from videomimic_offline.mainjob import run_then_stop

#: sim_g1 logs this once its scene is built and the robot placed: odometry follows from then on
SIM_UP = "robot spawned at"


def run_graph(cmd: list[str], env: dict[str, str], cwd: Path, seconds: float, start_timeout: float = 240.0,
              ready: str = SIM_UP) -> tuple[int, str]:  # fmt: skip
    """Start ``cmd`` (a vm_launch command), wait until its log shows ``ready``, let it run ``seconds``
    more, then stop it as a terminal's Ctrl-C would (the main job's rule); its exit code and whole log."""
    log_path = cwd / "launch.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        try:
            rc = run_then_stop(proc, lambda: ready in log_path.read_text(errors="replace"), seconds, start_timeout)
        finally:
            if proc.poll() is None:  # the test itself was interrupted: leave no graph behind
                proc.kill()
                proc.wait()
    return rc, log_path.read_text(errors="replace")
