"""joy_teleop: joystick -> direction command (Twist), with a deadman and a loss timeout.

With ``device`` set (e.g. /dev/input/js0) it reads the Linux joystick API itself and republishes
``sensor_msgs/Joy`` (so the bridge's buttons work without a joy node); otherwise it subscribes to
/joy. The command goes out at a fixed rate so a lost joystick becomes a zero command.
"""

from __future__ import annotations

import os
import stat

from geometry_msgs.msg import Twist
from rclpy.node import Node
from sensor_msgs.msg import Joy

from videomimic_nodes.core.teleop import JsState, Teleop, TeleopConfig
from videomimic_nodes.ros_common import TOPIC_QOS, Params, counted, now_s, params, run, topic_param

_D = TeleopConfig()
PARAMS: Params = {
    "device": ("", "a /dev/input/jsN to read directly (and republish as /joy); empty: subscribe to /joy"),
    "rate_hz": (50.0, "Hz: direction command rate (a lost joystick becomes a zero command)"),
    "axis_lx": (_D.axis_lx, "Joy axis: left stick horizontal (sideways)"),
    "axis_ly": (_D.axis_ly, "Joy axis: left stick vertical (forward)"),
    "axis_rx": (_D.axis_rx, "Joy axis: right stick horizontal (turn)"),
    "invert_horizontal": (_D.invert_horizontal, "stick right = negative y / yaw (the ROS joy node's sign)"),
    "deadman_button": (_D.deadman_button, "button to hold for any motion (LB); -1: none"),
    "timeout_s": (_D.timeout_s, "s: no joystick input for this long -> zero command"),
    "deadzone": (_D.deadzone, "stick values below this read as 0"),
}


class JoyTeleop(Node):
    def __init__(self) -> None:
        super().__init__("joy_teleop")
        p = params(self, PARAMS)
        self.teleop = Teleop(TeleopConfig(p["axis_lx"], p["axis_ly"], p["axis_rx"], p["invert_horizontal"],
                                          p["deadman_button"], p["timeout_s"], p["deadzone"]))  # fmt: skip
        q = TOPIC_QOS
        self.pub = counted(self.create_publisher(Twist, topic_param(self, "direction_cmd"), q["direction_cmd"]))
        joy_topic = topic_param(self, "joy")
        self.fd: int | None = None
        self.js = JsState()
        self._pending = b""
        self._t_joy_pub = 0.0
        self._is_chardev = True
        if p["device"]:
            self.device = str(p["device"])
            self.pub_joy = counted(self.create_publisher(Joy, joy_topic, q["joy"]))
            self.open_device()
            self.create_timer(0.01, self.read_device)
        else:
            self.create_subscription(Joy, joy_topic, self.on_joy, q["joy"])
        self.create_timer(1.0 / p["rate_hz"], self.publish)

    def on_joy(self, msg: Joy) -> None:
        self.teleop.on_joy(list(msg.axes), list(msg.buttons), now_s(self))

    def open_device(self) -> None:
        try:
            self.fd = os.open(self.device, os.O_RDONLY | os.O_NONBLOCK)
            self._is_chardev = stat.S_ISCHR(os.fstat(self.fd).st_mode)
            self.get_logger().info(f"reading joystick {self.device}")
        except OSError as exc:
            self.fd = None
            self.get_logger().error(f"cannot open {self.device} ({exc.strerror}); retrying", throttle_duration_sec=5.0)

    def read_device(self) -> None:
        """Drain pending events; while the device is open its state counts as fresh (sticks held still)."""
        if self.fd is None:
            self.open_device()
            return
        try:
            data = os.read(self.fd, 8 * 64)
        except BlockingIOError:
            data = None  # nothing new
        except OSError as exc:  # unplugged: stop refreshing, the teleop timeout zeroes the command
            self.get_logger().error(f"joystick {self.device} lost ({exc.strerror})")
            os.close(self.fd)
            self.fd = None
            return
        if (
            data is not None and len(data) == 0 and not self._is_chardev
        ):  # end of file (a FIFO or recording): the stick is gone
            self.get_logger().error(f"joystick {self.device} closed", throttle_duration_sec=5.0)
            os.close(self.fd)
            self.fd = None
            return
        if data:
            buf = self._pending + data
            self._pending = buf[self.js.feed(buf) :]
        now = now_s(self)
        self.teleop.on_joy(self.js.axes, self.js.buttons, now)
        if data or now - self._t_joy_pub > 0.05:
            self._t_joy_pub = now
            msg = Joy()
            msg.header.stamp = self.get_clock().now().to_msg()
            msg.axes, msg.buttons = [float(a) for a in self.js.axes], [int(b) for b in self.js.buttons]
            self.pub_joy.publish(msg)

    def publish(self) -> None:
        c = self.teleop.command(now_s(self))
        msg = Twist()
        msg.linear.x, msg.linear.y, msg.angular.z = float(c[0]), float(c[1]), float(c[2])
        self.pub.publish(msg)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)


def main() -> None:
    run(JoyTeleop)
