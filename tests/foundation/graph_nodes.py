"""Real rclpy nodes installed into a throw-away ament prefix for the graph-runner tests.

`talker` publishes std_msgs/String on `chatter` (remappable) and exits with code 3 after
parameter `crash_after` seconds when it is > 0; `listener` prints `heard <text>` once per message
and echoes its parameter `greeting` at start-up.
"""

import sys
import time

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from std_msgs.msg import String


class Talker(Node):
    def __init__(self) -> None:
        super().__init__("talker")
        self.crash_after = self.declare_parameter("crash_after", 0.0).value
        self.pub = self.create_publisher(String, "chatter", 10)
        self.start = time.monotonic()
        self.create_timer(0.05, self.tick)
        print("talker up", flush=True)

    def tick(self) -> None:
        self.pub.publish(String(data=f"{self.get_name()}"))
        if self.crash_after > 0 and time.monotonic() - self.start > self.crash_after:
            print("talker crashing", flush=True)
            sys.exit(3)


class Listener(Node):
    def __init__(self) -> None:
        super().__init__("listener")
        print(f"greeting {self.declare_parameter('greeting', 'none').value}", flush=True)
        self.create_subscription(String, "chatter", lambda m: print(f"heard {m.data}", flush=True), 10)


def main(cls) -> None:
    rclpy.init()
    node = cls()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        print(f"{node.get_name()} stopped cleanly", flush=True)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main({"talker": Talker, "listener": Listener}[sys.argv[1]])
