"""What every node shell shares: topic types and QoS, parameter helpers, the Jazzy run idiom.

Topic names come from :data:`videomimic_offline.topics.TOPICS` (the one source of truth) and are node
parameters named ``<key>_topic``, so a params file or launch remap can move them.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from videomimic_offline.topics import TOPICS

from videomimic_nodes.shutdown import STOP, StoppedDuringStart

#: ROS type of every topic in topics.TOPICS.
TOPIC_TYPES: dict[str, str] = {
    "lowstate": "unitree_hg/msg/LowState",
    "lowcmd": "unitree_hg/msg/LowCmd",
    "lidar_custom": "livox_ros_driver2/msg/CustomMsg",
    "lidar_points": "sensor_msgs/msg/PointCloud2",
    "odom": "nav_msgs/msg/Odometry",
    "cloud": "sensor_msgs/msg/PointCloud2",
    "elevation_map": "grid_map_msgs/msg/GridMap",
    "heightmap": "std_msgs/msg/Float32MultiArray",
    "joint_states": "sensor_msgs/msg/JointState",
    "imu": "sensor_msgs/msg/Imu",
    "joint_targets": "sensor_msgs/msg/JointState",
    "joy": "sensor_msgs/msg/Joy",
    "direction_cmd": "geometry_msgs/msg/Twist",
    "estop": "std_msgs/msg/Bool",
    "bridge_state": "std_msgs/msg/String",
    "events": "std_msgs/msg/String",
}

_FAST = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT, history=HistoryPolicy.KEEP_LAST)
_STREAM = QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT, history=HistoryPolicy.KEEP_LAST)
_RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST)
_LATCHED = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL,
    history=HistoryPolicy.KEEP_LAST,
)  # fmt: skip

_EVENTS = QoSProfile(
    depth=100, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL,
    history=HistoryPolicy.KEEP_LAST,
)  # fmt: skip

#: QoS per topic key. Control streams are best effort, depth 1 (a late sample is worthless);
#: operator and safety topics are reliable; the e-stop and bridge state are latched.
TOPIC_QOS: dict[str, QoSProfile] = {
    "lowstate": _FAST, "lowcmd": _FAST, "joint_states": _FAST, "imu": _FAST, "joint_targets": _FAST,
    "lidar_custom": _STREAM, "lidar_points": _STREAM, "cloud": _STREAM, "elevation_map": _STREAM,
    "heightmap": _FAST, "odom": _STREAM, "joy": _RELIABLE, "direction_cmd": _RELIABLE,
    "estop": _LATCHED, "bridge_state": _LATCHED, "events": _EVENTS,
}  # fmt: skip


class RateLimitedLog:
    """Log each *kind* of problem at most once per ``period`` (rclpy throttles per call site only,
    which would hide a second, different malformed input arriving right after the first)."""

    def __init__(self, node: Node, period: float = 1.0) -> None:
        self.logger, self.period = node.get_logger(), period
        self._last: dict[str, float] = {}

    def error(self, text: str, kind: str | None = None) -> None:
        key = kind or text[:32]
        now = time.monotonic()
        if now - self._last.get(key, -1e9) >= self.period:
            self._last[key] = now
            self.logger.error(text)


#: Messages this process published, per topic (see :func:`counted`); printed at exit as
#: ``vm-sent <node> {json}`` so a recorder's bag can be checked against what was really sent.
SENT: dict[str, int] = {}
_SENT_LOCK = threading.Lock()


def counted(pub):  # -> the same Publisher
    """Make ``pub.publish`` count into :data:`SENT` (a lock and an add: ~0.2 us per message).

    A publish that fails because the context has gone (the process is shutting down) is dropped
    quietly, whichever thread or callback made it: there is no one left to send to. Any other
    failure still raises.
    """
    topic = pub.topic_name
    publish = pub.publish
    SENT.setdefault(topic, 0)

    def counting_publish(msg) -> None:
        with _SENT_LOCK:  # counted first: a Ctrl-C landing right after publish() must not lose the count
            SENT[topic] += 1
        try:
            publish(msg)
        except Exception:  # not sent: uncount it
            with _SENT_LOCK:
                SENT[topic] -= 1
            if not rclpy.ok():
                return
            raise

    pub.publish = counting_publish
    return pub


class Events:
    """Notable moments (a fall, a spawn, the robot off the terrain) logged *and* published on the
    events topic as JSON ``{"node", "kind", "text", ...}``, so the recorder keeps them in the bag."""

    def __init__(self, node: Node) -> None:
        from std_msgs.msg import String

        self.node, self._msg = node, String
        self.pub = counted(node.create_publisher(String, topic_param(node, "events"), TOPIC_QOS["events"]))

    def report(self, kind: str, text: str, level: str = "warning", **data: object) -> None:
        log = self.node.get_logger()  # one call site per severity: rclpy refuses to mix them on one line
        if level == "error":
            log.error(text)
        elif level == "info":
            log.info(text)
        else:
            log.warning(text)
        stamp = now_s(self.node)  # the node's own clock: a recorder that lags receives late, not out of order
        self.pub.publish(
            self._msg(data=json.dumps({"node": self.node.get_name(), "kind": kind, "text": text, "t": stamp, **data}))
        )


def msg_class(type_name: str):  # -> type
    """Message class from 'pkg/msg/Type'."""
    import importlib

    pkg, _, name = type_name.split("/")
    return getattr(importlib.import_module(f"{pkg}.msg"), name)


def topic_param(node: Node, key: str) -> str:
    """Declare ``<key>_topic`` (default from topics.TOPICS) and return its value."""
    return node.declare_parameter(f"{key}_topic", TOPICS[key]).value


#: A node's parameters: name -> (default, what it means). ``--help`` prints them.
Params = dict[str, tuple[object, str]]


def params(node: Node, declared: Params) -> dict[str, object]:
    """Declare ``declared`` (name -> (default, description)) and return the (possibly overridden) values."""
    return {k: node.declare_parameter(k, default).value for k, (default, _doc) in declared.items()}


def now_s(node: Node) -> float:
    return node.get_clock().now().nanoseconds * 1e-9


def stamp_to_s(stamp) -> float:
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


def _go_realtime(node: Node) -> None:
    """Apply the node's ``realtime_priority`` parameter (0: normal scheduling) to the whole process."""
    from videomimic_nodes.core.realtime import promote_process

    name = "realtime_priority"
    prio = int(node.get_parameter(name).value if node.has_parameter(name) else node.declare_parameter(name, 0).value)
    if prio <= 0:
        return
    done, total = promote_process(prio)
    if done == total:
        node.get_logger().info(f"SCHED_FIFO priority {prio} on all {total} threads")
    else:
        node.get_logger().warning(
            f"realtime_priority {prio} refused for {total - done}/{total} threads (needs root or CAP_SYS_NICE; "
            "see docs/real_robot.md): running at normal priority, latency will follow the machine's load"
        )


def run(
    make_node: Callable[[], Node],
    multithreaded: bool = False,
    drain_s: float = 0.0,
    quiet_s: float = 0.3,
    events_executor: bool = False,
) -> None:
    """Spin a node until SIGINT/SIGTERM and exit 0; exit 2 on setup errors (one line, no traceback).

    Signals are the node's own (:mod:`videomimic_nodes.shutdown`): rclpy is started without its
    handlers, so it never shuts the context down under a running callback, and a second signal
    (terminal + ``ros2 launch``) cannot interrupt the orderly stop: stop spinning, ``close()``
    (threads that publish), destroy the node, shut rclpy down.

    A node whose worker thread fails sets ``node.fatal`` (a message) and requests the stop: the
    process then exits 1, so a launcher sees it (a required node stops the graph).

    ``drain_s`` > 0 keeps spinning after the signal until the node has received nothing for
    ``quiet_s`` (its ``last_rx``, monotonic s) or ``drain_s`` has passed: the recorder uses it to
    take what its peers send while they shut down at the same moment, however slowly they stop.

    ``events_executor`` spins with rclpy's EventsExecutor (C++ event queue, Jazzy: experimental)
    instead of rebuilding a wait set for every callback: the recorder took 31 % of a core for
    1000 messages/s with the default executor and 11 % with this one.
    """
    from videomimic_offline.errors import VideomimicError

    STOP.install()
    rclpy.init(args=sys.argv, signal_handler_options=SignalHandlerOptions.NO)
    node = None
    code = 0
    try:
        node = make_node()
        _go_realtime(node)
        if events_executor:
            from rclpy.experimental import EventsExecutor

            executor = EventsExecutor()
        else:
            executor = MultiThreadedExecutor(num_threads=2) if multithreaded else SingleThreadedExecutor()
        executor.add_node(node)
        t_stop: float | None = None
        while rclpy.ok():
            if STOP.requested:
                now = time.monotonic()
                t_stop = now if t_stop is None else t_stop
                if now - t_stop >= drain_s or now - max(getattr(node, "last_rx", 0.0), t_stop) > quiet_s:
                    break
            executor.spin_once(timeout_sec=0.05)
        fatal = getattr(node, "fatal", None)  # a worker thread of the node failed
        if fatal:
            print(f"error: {fatal}", file=sys.stderr, flush=True)
            code = 1
    except (ExternalShutdownException, StoppedDuringStart):
        pass
    except VideomimicError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = exc.exit_code
    finally:
        if node is not None:
            close = getattr(node, "close", None)
            if close is not None:
                close()
            if SENT:
                with _SENT_LOCK:
                    print(f"vm-sent {node.get_name()} {json.dumps(SENT)}", file=sys.stderr, flush=True)
            node.destroy_node()
        rclpy.try_shutdown()
        STOP.ignore_from_now()
    sys.exit(code)
