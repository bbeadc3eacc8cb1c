"""Every process of the workspace talks over UDP on this machine, none over Fast DDS's shared memory.

Why: to send to a process's shared-memory port, Fast DDS takes a polled interprocess lock while it
holds its participant's send lock; a busy normal-priority process holding that lock stopped
sim_g1's physics for 0.3-0.7 s and the bridge damped on "stale LowState" (docs/real_robot.md).
scripts/env.sh is the one owner of the setting; this starts a node from a shell that sourced it,
with no DDS settings of its own, and checks both what the node maps and that it is heard.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("rclpy")
pytestmark = pytest.mark.ros

from rosprobe import NODE_LIB, REPO, Probe, stop_node  # noqa: E402

DDS_VARS = ("ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_LOCALHOST_ONLY", "FASTRTPS_DEFAULT_PROFILES_FILE",
            "FASTDDS_DEFAULT_PROFILES_FILE", "FASTDDS_BUILTIN_TRANSPORTS", "ROS_STATIC_PEERS")  # fmt: skip


def _shared_memory_maps(pid: int) -> list[str]:
    """The Fast DDS shared-memory segments (ports, participant segments) process ``pid`` has mapped."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return sorted({line.split()[-1] for line in lines if "/dev/shm/fastrtps" in line})


def test_a_node_started_from_the_workspace_shell_uses_no_shared_memory_and_is_heard(
    tmp_path: Path, ros_domain: int
) -> None:
    if not NODE_LIB.is_dir():
        pytest.skip("videomimic_nodes not built: run bash scripts/setup.sh")
    from geometry_msgs.msg import Twist
    from videomimic_offline.topics import TOPICS

    env = {k: v for k, v in os.environ.items() if k not in DDS_VARS}  # the user's shell: nothing set
    node = f"exec {NODE_LIB / 'joy_teleop'} --ros-args -r __node:=joy_teleop --params-file {REPO / 'config' / 'deploy.yaml'}"
    proc = subprocess.Popen(["bash", "-c", f". {REPO / 'scripts' / 'env.sh'} && {node}"], env=env,
                            stdout=open(tmp_path / "node.log", "w"), stderr=subprocess.STDOUT)  # noqa: SIM115  # fmt: skip
    probe = Probe()
    try:
        heard: list[Twist] = []
        probe.node.create_subscription(Twist, TOPICS["direction_cmd"], heard.append, 10)
        probe.wait_for(lambda: len(heard) >= 5 or proc.poll() is not None, 60, "the node's direction commands")
        assert proc.poll() is None, (tmp_path / "node.log").read_text()
        assert _shared_memory_maps(proc.pid) == [], "the node talks over Fast DDS shared memory"
        assert _shared_memory_maps(os.getpid()) == [], "this test process talks over Fast DDS shared memory"
    finally:
        probe.close()
        stop_node(proc)
