"""recorder: a rosbag2 (MCAP) of the configured topics, with policy / scene / git revision metadata.

Subscriptions are raw (serialized CDR straight from DDS); the writer (:class:`core.bag.SegmentedBag`)
closes a complete part file every ``flush_s`` so a crash keeps everything up to the last flush;
Ctrl-C closes the current part and joins the parts into one file. Nothing received: no bag folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from rclpy.node import Node
from rclpy.qos import QoSProfile
from videomimic_offline.bag_types import interface_typestore
from videomimic_offline.errors import ConfigError
from videomimic_offline.topics import RECORDED_TOPICS, TOPICS

from videomimic_nodes.core.bag import SegmentedBag
from videomimic_nodes.ros_common import TOPIC_QOS, TOPIC_TYPES, Params, msg_class, params, run


def git_revision() -> str:
    root = os.environ.get("VM_ROOT") or str(Path(__file__).resolve().parents[3])
    try:
        out = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()  # fmt: skip
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


PARAMS: Params = {
    "topics": (list(RECORDED_TOPICS), f"topic keys to record (of: {', '.join(TOPICS)})"),
    "output_dir": ("runs/bags", "folder for bags (the environment variable VM_BAG_DIR overrides it)"),
    "bag_name": ("", "bag folder name; empty: vm_<date>_<time>"),
    "flush_s": (2.0, "s: a crash loses at most this much (a complete part file is closed this often)"),
    "max_bag_size": (0, "bytes per file of the finished bag, like ros2 bag record --max-bag-size; 0: one file"),
    "policy": ("", "recorded in the bag's metadata (custom_data)"),
    "scene": ("", "recorded in the bag's metadata (custom_data)"),
}


class Recorder(Node):
    def __init__(self) -> None:
        super().__init__("recorder")
        p = params(self, PARAMS)
        unknown = [k for k in p["topics"] if k not in TOPICS]
        if unknown:
            raise ConfigError(f"recorder: unknown topic key(s) {unknown}; known: {sorted(TOPICS)}")
        name = p["bag_name"] or time.strftime("vm_%Y%m%d_%H%M%S")
        out_dir = os.environ.get("VM_BAG_DIR") or p["output_dir"]  # the pipeline runner points bags at its run
        path = Path(out_dir).expanduser() / name
        share = [Path(x) / "share" for x in os.environ.get("AMENT_PREFIX_PATH", "").split(":") if x]
        topics = {TOPICS[k]: TOPIC_TYPES[k] for k in p["topics"]}
        custom = {"policy": str(p["policy"]), "scene": str(p["scene"]) or "default step", "git_revision": git_revision(),
                  "topics": ",".join(p["topics"])}  # fmt: skip
        self.bag = SegmentedBag(
            path,
            topics,
            interface_typestore(share),
            custom,
            flush_s=float(p["flush_s"]),
            max_bag_size=int(p["max_bag_size"]),
        )
        for key in p["topics"]:
            topic = TOPICS[key]
            qos = TOPIC_QOS[key]
            # Deep queues: the recorder is the lowest real-time node, and on a 2-core machine the graph above
            # it can take every core for seconds. 2 s at 500 Hz lost up to a third of the LowStates in the
            # deploy test's bag; 10 s lost none. Memory grows only while it lags.
            qos = QoSProfile(depth=5000, reliability=qos.reliability, durability=qos.durability, history=qos.history)
            self.create_subscription(msg_class(TOPIC_TYPES[key]), topic, self._writer(topic), qos, raw=True)
        self.create_timer(0.5, lambda: self.bag.maybe_flush(time.monotonic()))
        self.get_logger().info(f"recording {len(topics)} topics to {path}")

    def _writer(self, topic: str):
        def write(data: bytes) -> None:
            self.last_rx = time.monotonic()
            self.bag.write(topic, self.get_clock().now().nanoseconds, data, self.last_rx)

        return write

    def close(self) -> None:
        self.bag.close()
        # said on stderr: it is the last thing the process does, after its /rosout may be gone
        if self.bag.path.exists():
            files = len(list(self.bag.path.glob("*.mcap")))
            print(f"[recorder] bag closed: {self.bag.path} ({files} file{'s' if files > 1 else ''}) {self.bag.counts}",
                  file=sys.stderr, flush=True)  # fmt: skip
        else:
            print(f"[recorder] nothing was received: no bag written at {self.bag.path}", file=sys.stderr, flush=True)


def main() -> None:
    # after Ctrl-C: until 0.3 s without a message, at most 3 s. The events executor: a third of the CPU
    # per message, and the recorder is the lowest real-time node, the one starved when cores run short
    run(Recorder, drain_s=3.0, events_executor=True)
