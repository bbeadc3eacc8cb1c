"""Helpers for node tests over real DDS: start a node executable, and a probe node in this process."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import rclpy
from rclpy.node import Node

REPO = Path(__file__).resolve().parents[2]
NODE_LIB = REPO / "install" / "videomimic_nodes" / "lib" / "videomimic_nodes"


def start_node(name: str, log: Path, **params: object) -> subprocess.Popen:
    """Run ``videomimic_nodes/<name>`` with config/deploy.yaml and ``-p k:=v`` overrides."""
    cmd = [
        str(NODE_LIB / name),
        "--ros-args",
        "-r",
        f"__node:={name}",
        "--params-file",
        str(REPO / "config" / "deploy.yaml"),
    ]
    for k, v in params.items():
        cmd += ["-p", f"{k}:={str(v).lower() if isinstance(v, bool) else v}"]
    return subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT, env=os.environ.copy())  # noqa: SIM115


def stop_node(proc: subprocess.Popen) -> int:
    proc.send_signal(2)
    try:
        return proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        return -9


class Probe:
    """A node in this process (own context) spinning in a thread; tests add pubs/subs to ``node``."""

    def __init__(self, name: str = "probe") -> None:
        self.ctx = rclpy.Context()
        rclpy.init(context=self.ctx)
        self.node = Node(name, context=self.ctx)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.ctx)
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()

    @staticmethod
    def wait_for(pred, timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred():
                return
            time.sleep(0.01)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.ctx)
