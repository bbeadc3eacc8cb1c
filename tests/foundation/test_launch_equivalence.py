"""launch/deploy.launch.py and the graph runner start the same graph (where launch_ros exists).

launch, launch_ros and ros2cli are not installable from a registry here, so this module skips on a
machine without them; where they exist (a ROS 2 Jazzy install, or the three built from their
sources) it compares through public API and behaviour only:

* the launch description's Node actions (``node_package``, ``node_executable``, and the
  ``Shutdown`` that ``get_sub_entities()`` exposes for a required node) against ``deploy_graph``;
* both launchers on a real graph: the same node names and every parameter of every node, read
  over the nodes' own parameter services;
* a required node's death stops the whole graph under both; an optional one's does not;
* a terminal's Ctrl-C (SIGINT to the whole process group) under upstream ``ros2 launch`` on the
  simulated graph: every node finishes cleanly, none "has died".
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

launch = pytest.importorskip(
    "launch", reason="launch/launch_ros are not installable from PyPI; runs on a ROS 2 install"
)
launch_ros = pytest.importorskip("launch_ros")

REPO = Path(__file__).resolve().parents[2]
VM_LAUNCH = REPO / "install" / "videomimic" / "lib" / "videomimic" / "vm_launch"
#: A deploy graph without simulator or robot drivers (quick to start): sim false, LiDAR driver off,
#: odometry external, the environment's RMW, recorder on, no policy.
LIGHT = ["sim:=false", "lidar_driver:=false", "dds:=default", "odom:=external", "record:=true"]


def _deploy_helper(name: str):
    """A helper module of tests/deploy (rosprobe, students) by path: it is not on this folder's sys.path."""
    spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "deploy" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _description_nodes(args: dict[str, str]) -> list:
    from launch.launch_context import LaunchContext

    spec = importlib.util.spec_from_file_location("deploy_launch", REPO / "launch" / "deploy.launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ctx = LaunchContext()
    ctx.launch_configurations.update(args)
    description = module.generate_launch_description()
    for entity in description.entities:
        if isinstance(entity, launch.actions.DeclareLaunchArgument):
            ctx.launch_configurations.setdefault(entity.name, entity.default_value[0].perform(ctx))
    out = []
    for entity in description.entities:
        if isinstance(entity, launch.actions.OpaqueFunction):
            out += entity.execute(ctx)
    return [e for e in out if isinstance(e, launch_ros.actions.Node)]


@pytest.mark.parametrize(
    "args",
    [{"sim": "true", "record": "true", "policy": "/p.onnx"}, {"sim": "false"}, {"sim": "true", "dds": "default"}],
)
def test_launch_file_matches_runner(args: dict[str, str]) -> None:
    from videomimic.graph import deploy_graph

    config_dir = REPO / "config"
    args = {"config_dir": str(config_dir), **args}
    nodes = _description_nodes(args)
    expected = deploy_graph(args, config_dir)
    assert [(n.node_package, n.node_executable) for n in nodes] == [(s.package, s.executable) for s in expected]
    for node, s in zip(nodes, expected, strict=True):  # a required node's exit shuts the launch down
        shutdown = [e for e in node.get_sub_entities() if isinstance(e, launch.actions.Shutdown)]
        assert bool(shutdown) == s.required, s.name


# ---- behaviour: both launchers on a real graph --------------------------------------------------------


def _ros2() -> str:
    exe = shutil.which("ros2")
    if exe is None:
        pytest.skip("ros2 (ros2cli) is not on PATH")
    return exe


def _start(cmd: list[str], log: Path, cwd: Path) -> subprocess.Popen:
    """A launcher in a process group of its own (as a terminal's foreground job)."""
    return subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT, cwd=cwd,  # noqa: SIM115
                            start_new_session=True, env={**os.environ, "VM_BAG_DIR": str(cwd / "bags")})  # fmt: skip


def _parameters(probe, names: list[str]) -> dict[str, dict[str, object]]:
    """Every parameter of every node in ``names``, over the nodes' own parameter services."""
    from rcl_interfaces.srv import GetParameters, ListParameters
    from rclpy.parameter import parameter_value_to_python

    out = {}
    for name in names:
        lister = probe.node.create_client(ListParameters, f"/{name}/list_parameters")
        getter = probe.node.create_client(GetParameters, f"/{name}/get_parameters")
        assert lister.wait_for_service(30) and getter.wait_for_service(30), name
        listed = _call(lister, ListParameters.Request()).result.names
        values = _call(getter, GetParameters.Request(names=list(listed))).values
        out[name] = {k: parameter_value_to_python(v) for k, v in zip(listed, values, strict=True)}
        probe.node.destroy_client(lister)
        probe.node.destroy_client(getter)
    return out


def _call(client, request):
    future = client.call_async(request)
    end = time.monotonic() + 30
    while not future.done() and time.monotonic() < end:
        time.sleep(0.01)
    assert future.done(), client.srv_name
    return future.result()


def _stop_group(proc: subprocess.Popen) -> int:
    os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C
    try:
        return proc.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return -9


def _node_pid(launcher: subprocess.Popen, executable: str) -> int:
    import psutil

    for child in psutil.Process(launcher.pid).children(recursive=True):
        if any(Path(a).name == executable for a in child.cmdline()[:2]):
            return child.pid
    raise AssertionError(f"no {executable} process under the launcher")


@pytest.mark.ros
@pytest.mark.slow
def test_both_launchers_start_the_same_nodes_with_the_same_parameters(tmp_path: Path, ros_domain: int) -> None:
    from videomimic.graph import deploy_graph

    Probe = _deploy_helper("rosprobe").Probe

    expected = [s.name for s in deploy_graph(dict(a.split(":=") for a in LIGHT), REPO / "config")]
    launchers = {
        "ros2 launch": [_ros2(), "launch", "videomimic", "deploy.launch.py", *LIGHT],
        "vm_launch": [str(VM_LAUNCH), "deploy", *LIGHT],
    }
    seen: dict[str, dict] = {}
    probe = Probe()
    try:
        for label, cmd in launchers.items():
            log = tmp_path / f"{label.replace(' ', '_')}.log"
            proc = _start(cmd, log, tmp_path)
            try:
                probe.wait_for(lambda: set(expected) <= set(probe.node.get_node_names()), 90, f"{label}: {expected}")
                seen[label] = _parameters(probe, expected)
                # an optional node dies: the graph keeps running
                os.kill(_node_pid(proc, "joy_teleop"), signal.SIGKILL)
                probe.wait_for(lambda: "joy_teleop" not in probe.node.get_node_names(), 30, "joy_teleop gone")
                assert proc.poll() is None, f"{label} stopped when an optional node died"
                # a required node dies: everything stops
                os.kill(_node_pid(proc, "g1_bridge"), signal.SIGKILL)
                rc = proc.wait(60)
                assert rc in ((0,) if label == "ros2 launch" else (1,)), (label, rc, log.read_text()[-2000:])
                probe.wait_for(lambda: not set(expected) & set(probe.node.get_node_names()), 30, "all nodes gone")
            finally:
                if proc.poll() is None:
                    _stop_group(proc)
    finally:
        probe.close()
    assert seen["ros2 launch"] == seen["vm_launch"]
    assert seen["vm_launch"]["g1_bridge"]["lowstate_timeout"] == pytest.approx(0.04)  # deploy.yaml reached it


@pytest.mark.ros
@pytest.mark.slow
def test_terminal_ctrl_c_under_ros2_launch(tmp_path: Path, ros_domain: int) -> None:
    """Issue #13 item 1: `ros2 launch ... sim:=true` and Ctrl-C in its terminal (SIGINT to the process
    group, then launch's own SIGINT to each node): every node finishes cleanly, the bag is complete."""
    Probe = _deploy_helper("rosprobe").Probe
    student = _deploy_helper("students").make_student(tmp_path / "student")
    cmd = [_ros2(), "launch", "videomimic", "deploy.launch.py", "sim:=true", "record:=true", f"policy:={student}"]
    log = tmp_path / "launch.log"
    probe = Probe()
    try:
        from unitree_hg.msg import LowState
        from videomimic_nodes.ros_common import TOPIC_QOS

        ticks: list[bytes] = []
        probe.node.create_subscription(LowState, "/lowstate", ticks.append, TOPIC_QOS["lowstate"], raw=True)
        proc = _start(cmd, log, tmp_path)
        # running: the simulator publishing LowState for a few seconds, clouds and the recorder busy
        probe.wait_for(lambda: len(ticks) > 1000 or proc.poll() is not None, 240, "LowState from sim_g1")
        rc = _stop_group(proc)
    finally:
        probe.close()
    text = log.read_text()
    assert rc == 0, text[-3000:]
    assert "process has died" not in text and "Traceback" not in text and "KeyboardInterrupt" not in text, text[-4000:]
    finished = set(re.findall(r"\[INFO\] \[(\w+)-\d+\]: process has finished cleanly", text))
    assert finished == {"sim_g1", "lidar_ingest", "elevation_map", "policy", "g1_bridge", "joy_teleop", "recorder"}
    bags = [p for p in (tmp_path / "bags").iterdir() if not p.name.startswith(".")]
    assert len(bags) == 1 and len(list(bags[0].glob("*.mcap"))) == 1  # closed and joined
