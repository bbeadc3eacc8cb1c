"""The graph runner starts real nodes and handles every exit path: Ctrl-C, a required node
crashing, a bad parameter file; plus `vm_run` resolution like `ros2 run`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("rclpy")
pytestmark = pytest.mark.ros

HERE = Path(__file__).parent

DRIVER = """
import json, os, sys
from videomimic.graph import NodeSpec
from videomimic.runner import GraphRunner, GraphError, run
specs = [NodeSpec(**{**s, "parameters": tuple(s["parameters"]), "remappings": tuple(map(tuple, s["remappings"]))})
         for s in json.loads(os.environ["VM_TEST_GRAPH"])]
try:
    runner = GraphRunner(specs)
except GraphError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)
sys.exit(run(runner, float(os.environ.get("VM_TEST_DURATION", "0")) or None))
"""


@pytest.fixture()
def prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ament prefix holding package `vm_testpkg` with executables `talker` and `listener`."""
    pre = tmp_path / "prefix"
    (pre / "share" / "ament_index" / "resource_index" / "packages").mkdir(parents=True)
    (pre / "share" / "ament_index" / "resource_index" / "packages" / "vm_testpkg").touch()
    lib = pre / "lib" / "vm_testpkg"
    lib.mkdir(parents=True)
    for name in ("talker", "listener"):
        exe = lib / name
        exe.write_text(f"#!{sys.executable}\nimport runpy, sys\nsys.argv.insert(1, '{name}')\n"
                       f"runpy.run_path('{HERE / 'graph_nodes.py'}', run_name='__main__')\n")  # fmt: skip
        exe.chmod(0o755)
    monkeypatch.setenv("AMENT_PREFIX_PATH", f"{pre}{os.pathsep}{os.environ.get('AMENT_PREFIX_PATH', '')}")
    return pre


def _spec(name: str, exe: str, params=(), remaps=(), required=False) -> dict:
    return {"name": name, "package": "vm_testpkg", "executable": exe, "parameters": list(params),
            "remappings": list(remaps), "required": required}  # fmt: skip


def _start(graph: list[dict], duration: float = 0, own_group: bool = False) -> subprocess.Popen:
    """The runner on ``graph``; ``own_group``: in a process group of its own, as a terminal's foreground job."""
    env = {**os.environ, "VM_TEST_GRAPH": json.dumps(graph), "VM_TEST_DURATION": str(duration)}
    return subprocess.Popen([sys.executable, "-c", DRIVER], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=own_group)  # fmt: skip


def _read_until(proc: subprocess.Popen, needle: str, timeout: float = 30) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if needle in line:
            return lines
    raise AssertionError(f"'{needle}' not seen in {timeout}s; output:\n" + "\n".join(lines))


def _graph(tmp_path: Path, **talker) -> list[dict]:
    params = tmp_path / "params.yaml"
    params.write_text("listener:\n  ros__parameters:\n    greeting: hello-from-yaml\n")
    return [
        _spec("talker", "talker", params=[talker.get("params", {})], remaps=[("chatter", "/vm_test/chat")],
              required=talker.get("required", False)),
        _spec("listener", "listener", params=[str(params)], remaps=[("chatter", "/vm_test/chat")], required=True),
    ]  # fmt: skip


def test_ctrl_c_stops_every_node_cleanly(prefix: Path, tmp_path: Path, ros_domain: int) -> None:
    proc = _start(_graph(tmp_path))
    lines = _read_until(proc, "[listener] heard talker")  # remapping + DDS across processes work
    assert "[listener] greeting hello-from-yaml" in lines  # the params file reached the node
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "[talker] talker stopped cleanly" in out and "[listener] listener stopped cleanly" in out


#: Light nodes of the real deploy graph (no simulator, no policy): what a terminal's Ctrl-C must stop cleanly.
REAL_NODES = ("g1_bridge", "joy_teleop", "lidar_ingest", "elevation_map")


@pytest.mark.parametrize("times", [1, 2])
def test_terminal_ctrl_c_to_the_process_group(ros_domain: int, times: int) -> None:
    """A terminal's Ctrl-C signals the whole group (the runner and every node), and the runner then
    signals each node again, as `ros2 launch` does: every node must still exit 0 without a traceback.
    ``times`` = 2: the user presses Ctrl-C twice."""
    graph = [{**_spec(n, n), "package": "videomimic_nodes", "required": n == "g1_bridge"} for n in REAL_NODES]
    proc = _start(graph, own_group=True)
    _read_until(proc, "g1_bridge up", timeout=60)  # nodes constructed and spinning
    for _ in range(times):
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does: the group, not one process
        time.sleep(0.1)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    for name in REAL_NODES:  # each printed its sent counts: it went through the orderly stop
        assert f"vm-sent {name} " in out, (name, out)
    assert "Traceback" not in out and "KeyboardInterrupt" not in out and "exited with code" not in out, out


def test_required_node_crash_stops_graph_nonzero(prefix: Path, tmp_path: Path, ros_domain: int) -> None:
    proc = _start(_graph(tmp_path, params={"crash_after": 1.5}, required=True))
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, out
    assert "required node talker exited with code 3" in out
    assert "[listener] listener stopped cleanly" in out  # the rest was stopped, not orphaned


def test_optional_node_crash_keeps_graph(prefix: Path, tmp_path: Path, ros_domain: int) -> None:
    proc = _start(_graph(tmp_path, params={"crash_after": 0.5}), duration=4)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "node talker exited with code 3 (not required" in out
    assert "duration 4.0 s elapsed" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [("listener: [unclosed", "not valid YAML"), ("listener:\n  params: {}\n", "no 'ros__parameters'"), (None, "does not exist")],
)  # fmt: skip
def test_bad_parameter_file_starts_nothing(prefix: Path, tmp_path: Path, content, message) -> None:
    graph = _graph(tmp_path)
    bad = tmp_path / "bad.yaml"
    if content is not None:
        bad.write_text(content)
    graph[1]["parameters"] = [str(bad)]
    proc = _start(graph)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert message in out and str(bad) in out
    assert "started" not in out


def test_missing_executable_is_reported(prefix: Path, tmp_path: Path) -> None:
    graph = _graph(tmp_path)
    graph[0]["executable"] = "no_such_node"
    proc = _start(graph)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert "no executable 'no_such_node' in package 'vm_testpkg' (it has: listener, talker)" in out


def test_vm_run_resolves_like_ros2_run(prefix: Path) -> None:
    listed = subprocess.run([sys.executable, "-m", "videomimic.rosrun", "vm_testpkg"], capture_output=True, text=True)
    assert listed.stdout.split("\n")[:2] == ["vm_testpkg listener", "vm_testpkg talker"]
    bad = subprocess.run([sys.executable, "-m", "videomimic.rosrun", "nope_pkg", "x"], capture_output=True, text=True)
    assert bad.returncode == 2 and "package 'nope_pkg' not found" in bad.stderr


def test_deploy_graph_arguments_are_checked() -> None:
    from videomimic.runner import GraphError, parse_launch_args, resolve_graph

    with pytest.raises(GraphError, match="name:=value"):
        parse_launch_args(["sim=true"])
    with pytest.raises(GraphError, match="unknown launch argument"):
        resolve_graph("deploy.launch.py", {"simulate": "true"})
    with pytest.raises(GraphError, match="unknown graph"):
        resolve_graph("nav.launch.py", {})


def test_stop_handlers_take_no_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Ctrl-C handlers of vm_launch and of every node only set a flag.

    A handler runs on the main thread between two bytecodes; one that takes a lock (``Event.set``
    enters the Event's Condition) can wait for ever on the lock the main thread holds inside
    ``Event.wait``. On the loaded CI machine vm_launch ignored the main job's SIGINT for 120 s that
    way, was killed, and left its nodes running. Entering any Condition fails this test.
    """
    import threading

    from videomimic.runner import GraphRunner
    from videomimic_nodes.shutdown import StopRequest

    runner, stop = GraphRunner([]), StopRequest()  # built before the patch, as in the real processes

    def locked(*_a: object, **_k: object) -> None:
        raise AssertionError("a signal handler entered a threading.Condition")

    monkeypatch.setattr(threading.Condition, "__enter__", locked)
    monkeypatch.setattr(threading.Condition, "acquire", locked, raising=False)
    runner.request_stop(signal.SIGINT, None)
    stop._on_signal(signal.SIGINT, None)
    assert runner.stop_requested and stop.requested
