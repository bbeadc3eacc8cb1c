"""The scripted gamepad that drives unattended sim runs: timing, validation, and the real node."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from videomimic_nodes.core.joy_script import JoyScript
from videomimic_offline.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_demo_script_goes_stand_then_policy_then_walks() -> None:
    script = JoyScript.load(REPO / "config" / "joy_demo.yaml")
    assert script.state(0.5)[1][7] == 0
    assert script.state(1.1)[1][7] == 1 and script.state(2.6)[1][7] == 1  # START, repeated
    assert script.state(1.5)[1] == [0] * 17  # released between presses: two rising edges
    assert script.state(5.1)[1][0] == 1 and script.state(6.6)[1][0] == 1  # A, repeated
    axes, buttons = script.state(10.0)
    assert buttons[4] == 1 and axes[1] == pytest.approx(0.6)  # deadman + forward
    assert script.state(100.0) == ([0.0] * 8, [0] * 17)


def test_a_held_up_player_still_plays_every_press() -> None:
    """On a busy machine the joy_script node can be held up for longer than a 0.3 s press: it must still
    publish that press and its release (the main job's START / A), not jump over them."""
    script = JoyScript.load(REPO / "config" / "joy_demo.yaml")
    states, index = script.states_since(-1, 0.5)
    assert [b[7] for _, b in states] == [0]
    states, index = script.states_since(index, 7.2)  # held up from 0.5 s to 7.2 s
    start = [b[7] for _, b in states]
    a = [b[0] for _, b in states]
    assert start[:4] == [1, 0, 1, 0] and a[4:8] == [1, 0, 1, 0]  # START, START, A, A: each a rising edge
    assert script.states_since(index, 7.3)[0] == [script.state(7.3)]  # nothing new: the current state


@pytest.mark.parametrize(
    ("text", "message"),
    [("steps: []", "non-empty"), ("steps:\n  - {t: 2}\n  - {t: 1}", "increasing"), ("steps:\n  - {t: 0, buttons: [40]}", "outside"),
     ("nope: 1", "malformed"), ("steps:\n  - {buttons: [1]}", "malformed")],
)  # fmt: skip
def test_bad_scripts_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        JoyScript.load(path)
    with pytest.raises(ConfigError, match="not found"):
        JoyScript.load(tmp_path / "missing.yaml")


@pytest.mark.ros
def test_node_publishes_the_script_over_dds(ros_domain: int, tmp_path: Path) -> None:
    import rclpy
    from rclpy.node import Node
    from sensor_msgs.msg import Joy
    from unitree_hg.msg import LowState
    from videomimic_nodes.ros_common import TOPIC_QOS

    script = tmp_path / "s.yaml"
    script.write_text("steps:\n  - {t: 0.0, buttons: [7]}\n  - {t: 3.0, axes: {1: 0.5}}\n")  # > discovery time
    from videomimic.ament import find_executable

    proc = subprocess.Popen(
        [str(find_executable("videomimic_nodes", "joy_script")), "--ros-args", "-p", f"script:={script}"]
    )
    rclpy.init()
    node = Node("vm_test_joy_listener")
    got: list[tuple[float, Joy]] = []
    node.create_subscription(Joy, "/joy", lambda m: got.append((time.monotonic(), m)), TOPIC_QOS["joy"])
    robot = node.create_publisher(LowState, "/lowstate", TOPIC_QOS["lowstate"])
    try:
        # Until the robot is up (no LowState yet), every button stays released.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(got) < 25:
            rclpy.spin_once(node, timeout_sec=0.1)
        assert len(got) >= 25 and all(sum(m.buttons) == 0 for _, m in got)
        got.clear()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (got and got[-1][1].axes[1] == pytest.approx(0.5)):
            robot.publish(LowState())
            rclpy.spin_once(node, timeout_sec=0.1)
        assert got, "no Joy from joy_script"
        assert any(m.buttons[7] == 1 for _, m in got) and got[-1][1].axes[1] == pytest.approx(0.5)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:  # slow DDS teardown on a loaded machine
            proc.kill()
            proc.wait(10)


def test_joy_script_is_sim_only() -> None:
    from videomimic.graph import deploy_graph

    nodes = deploy_graph({"sim": "true", "joy_script": "joy_demo.yaml"}, REPO / "config")
    spec = next(n for n in nodes if n.name == "joy_script")
    assert spec.parameters[0]["script"] == str(REPO / "config" / "joy_demo.yaml")
    with pytest.raises(ValueError, match="sim:=true only"):
        deploy_graph({"sim": "false", "joy_script": "joy_demo.yaml"}, REPO / "config")
