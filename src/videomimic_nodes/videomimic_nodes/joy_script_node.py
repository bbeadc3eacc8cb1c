"""joy_script: publish sensor_msgs/Joy from a timed script (an unattended operator for sim runs).

Like an operator, it waits for the robot: the script's clock starts at the first LowState (the
simulator may take seconds to load a scene on a busy machine); until then it holds every button
released.
"""

from __future__ import annotations

import time

from rclpy.node import Node
from sensor_msgs.msg import Joy
from unitree_hg.msg import LowState

from videomimic_nodes.core.joy_script import JoyScript
from videomimic_nodes.ros_common import TOPIC_QOS, Params, counted, params, run, topic_param

PARAMS: Params = {
    "script": ("", "the gamepad script (YAML, e.g. config/joy_demo.yaml); required"),
    "rate_hz": (50.0, "Hz: Joy rate"),
}


class JoyScriptNode(Node):
    def __init__(self) -> None:
        super().__init__("joy_script")
        p = params(self, PARAMS)
        self.script = JoyScript.load(p["script"])
        self.pub = counted(self.create_publisher(Joy, topic_param(self, "joy"), TOPIC_QOS["joy"]))
        self.t0: float | None = None
        self._index = -1  # the last script step published
        self._sub = self.create_subscription(LowState, topic_param(self, "lowstate"), self.on_lowstate,
                                             TOPIC_QOS["lowstate"])  # fmt: skip
        self.create_timer(1.0 / float(p["rate_hz"]), self.tick)
        self.get_logger().info(f"{p['script']} ({len(self.script.steps)} steps, {self.script.duration:.1f} s): "
                               "starts at the first LowState")  # fmt: skip

    def on_lowstate(self, _msg: LowState) -> None:
        if self.t0 is None:
            self.t0 = time.monotonic()
            self.get_logger().info("robot is up: playing the script")
            self.destroy_subscription(self._sub)

    def tick(self) -> None:
        elapsed = -1.0 if self.t0 is None else time.monotonic() - self.t0
        states, self._index = self.script.states_since(self._index, elapsed)
        for axes, buttons in states:  # every step at least once, even after this process was held up
            msg = Joy(axes=axes, buttons=buttons)
            msg.header.stamp = self.get_clock().now().to_msg()
            self.pub.publish(msg)


def main() -> None:
    run(JoyScriptNode)
