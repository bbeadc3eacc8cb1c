"""`vm_operator`: the operator's actions from a terminal, with or without a ROS install.

    vm_operator estop      # emergency stop: the bridge damps and stays in estop
    vm_operator release    # release the e-stop topic (then `damp` returns to damping)
    vm_operator damp | stand | policy   # what BACK / START / A do on the gamepad
    vm_operator state      # print the bridge's mode

Each action waits for the bridge to report the mode it leads to and says so in one line; it exits
1 when the bridge does not answer (graph not running, another ROS_DOMAIN_ID) or refuses (e.g.
policy before the stand ramp has finished). On a ROS install ``ros2 topic pub --once /vm/estop
std_msgs/msg/Bool "{data: true}"`` does the same as ``estop``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

#: action -> (bridge parameter naming the Joy button, or None for the e-stop topic; the mode it leads to)
ACTIONS: dict[str, tuple[str | None, str | None]] = {
    "estop": (None, "estop"),
    "release": (None, None),
    "damp": ("button_damp", "damping"),
    "stand": ("button_stand", "stand"),
    "policy": ("button_policy", "policy"),
    "state": (None, None),
}


#: What an operator can do next from each bridge mode (the second line of the tool's answer).
NEXT: dict[str, str] = {
    "estop": "held until `vm_operator release`, then `vm_operator damp`",
    "damping": "`vm_operator stand` ramps to the default pose; `vm_operator estop` latches damping",
    "stand": "`vm_operator policy` hands over to the policy (needs policy:=); `vm_operator damp` goes limp",
    "policy": "`vm_operator damp` or `vm_operator estop` stops it",
}

#: Presses of a mode button before giving up (the bridge refuses e.g. START while LowState is stale).
PRESSES = 3


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="vm_operator",
        description=__doc__.split("\n\n")[0],
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=list(ACTIONS), help="what to do")
    parser.add_argument("--timeout", type=float, default=5.0, help="s to wait for the bridge's new mode (default 5)")
    parser.add_argument("--discovery", type=float, default=15.0,
                        help="s to wait for the bridge to be found at all (default 15; DDS discovery is slow on a busy machine)")  # fmt: skip
    ns = parser.parse_args(argv)

    import rclpy
    from rclpy.node import Node
    from sensor_msgs.msg import Joy
    from std_msgs.msg import Bool, String
    from videomimic_offline.cli import finished
    from videomimic_offline.topics import TOPICS

    from videomimic_nodes.g1_bridge_node import PARAMS as BRIDGE
    from videomimic_nodes.ros_common import TOPIC_QOS

    rclpy.init()
    node = Node("vm_operator")
    modes: list[str] = []
    node.create_subscription(String, TOPICS["bridge_state"], lambda m: modes.append(m.data), TOPIC_QOS["bridge_state"])

    def spin_until(pred, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred():
                return True
            rclpy.spin_once(node, timeout_sec=0.05)
        return pred()

    try:
        if not spin_until(lambda: modes, ns.discovery):
            print(f"vm_operator: no g1_bridge answered on {TOPICS['bridge_state']} within {ns.discovery:.0f} s: "
                  "is the deploy graph running, with the same ROS_DOMAIN_ID?", file=sys.stderr)  # fmt: skip
            return 1
        button, target = ACTIONS[ns.action]
        if ns.action == "state":
            finished("vm_operator", f"bridge mode: {modes[-1]}", NEXT.get(modes[-1], NEXT["damping"]))
            return 0
        if ns.action in ("estop", "release"):
            pub = node.create_publisher(Bool, TOPICS["estop"], TOPIC_QOS["estop"])
            spin_until(lambda: pub.get_subscription_count() > 0, ns.timeout)
            pub.publish(Bool(data=ns.action == "estop"))
        else:
            pub = node.create_publisher(Joy, TOPICS["joy"], TOPIC_QOS["joy"])
            spin_until(lambda: pub.get_subscription_count() > 0, ns.timeout)
            index = int(BRIDGE[button][0])
            for _ in range(PRESSES):  # as an operator does: press again if the bridge did not react
                for pressed in (1, 0):  # a rising edge, then released
                    buttons = [0] * max(17, index + 1)
                    buttons[index] = pressed
                    pub.publish(Joy(axes=[0.0] * 8, buttons=buttons))
                    spin_until(lambda: False, 0.1)
                if spin_until(lambda: modes[-1] == target, ns.timeout / PRESSES):
                    break
        if target is None:
            spin_until(lambda: False, 0.3)  # let the message out before this process goes away
            finished(
                "vm_operator", f"e-stop released (bridge mode: {modes[-1]})", "`vm_operator damp` returns to damping"
            )
            return 0
        if spin_until(lambda: modes[-1] == target, ns.timeout):
            finished("vm_operator", f"{ns.action}: bridge now in {target}", NEXT[target])
            return 0
        print(f"vm_operator: {ns.action} sent, but the bridge stays in {modes[-1]} (refused; see its log)",
              file=sys.stderr)  # fmt: skip
        return 1
    except KeyboardInterrupt:
        from videomimic_offline.cli import forget_interrupt

        forget_interrupt()  # else CPython may end the process with -2 instead of 130
        return 130
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    sys.exit(main())
