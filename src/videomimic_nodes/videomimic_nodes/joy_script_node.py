"""joy_script: publish sensor_msgs/Joy from a timed script (an unattended operator for sim runs)."""

from __future__ import annotations

import time

from rclpy.node import Node
from sensor_msgs.msg import Joy

from videomimic_nodes.core.joy_script import JoyScript
from videomimic_nodes.ros_common import TOPIC_QOS, params, run, topic_param


class JoyScriptNode(Node):
    def __init__(self) -> None:
        super().__init__("joy_script")
        p = params(self, {"script": "", "rate_hz": 50.0})
        self.script = JoyScript.load(p["script"])
        self.pub = self.create_publisher(Joy, topic_param(self, "joy"), TOPIC_QOS["joy"])
        self.t0 = time.monotonic()
        self.create_timer(1.0 / float(p["rate_hz"]), self.tick)
        self.get_logger().info(f"playing {p['script']} ({len(self.script.steps)} steps, {self.script.duration:.1f} s)")

    def tick(self) -> None:
        axes, buttons = self.script.state(time.monotonic() - self.t0)
        msg = Joy(axes=axes, buttons=buttons)
        msg.header.stamp = self.get_clock().now().to_msg()
        self.pub.publish(msg)


def main() -> None:
    run(JoyScriptNode)


if __name__ == "__main__":
    main()
