"""Deploy-side latencies (issue 6 targets): policy inference, heightmap update, LowState->LowCmd, loop jitter.

Usage: ``nice -n 10 python bench/deploy_latency.py [--seconds 20]`` inside ``. scripts/env.sh``.
Prints one line per figure, then a JSON object on the last line. Never asserts.

Every figure is measured the way the deployed node runs (config/deploy.yaml: SCHED_FIFO where the
machine permits it, see docs/real_robot.md), and again at normal priority in the same run
(``*_normal_prio``), interleaved so that load changes hit both alike. ``--load N`` adds N
busy-looping processes for the whole run, so a figure under load is reproducible rather than
whatever else the machine happens to be doing.

* policy_p99_ms: one policy step (observation build + ONNX Runtime, 1 thread) of a random student
  with the deployed architecture (MLP 1024-512-256-128, ELU, 499 inputs with heightmap), inside
  core.loop.PeriodicLoop with the policy node's loop options (its 50 Hz thread), ticking every 3 ms.
* heightmap_p99_ms: fusing a 20k-point cloud into the 4 x 4 m @ 0.05 m map + the 11 x 11 heightmap,
  in a thread at elevation_map's realtime_priority.
* lowstate_to_lowcmd_p99_ms: LowState published here -> LowCmd received here, through a running
  g1_bridge process over DDS (500 Hz; the bridge echoes LowState.mode_machine, used as a sequence
  number), the bridge at its configured realtime_priority. This process stands in for the robot's
  firmware (which is real-time) and runs at SCHED_FIFO 70 when permitted, so its own scheduling
  delay is not charged to the bridge. The same with the bridge at normal priority follows.
* loop_jitter_p99_ms: |period - 20 ms| of the policy node's 50 Hz loop (core.loop.PeriodicLoop
  running the policy step, with the node's loop options from config/deploy.yaml); each option set
  of JITTER_VARIANTS (loop_jitter_p99_ms_<variant>, interleaved in the same run) and an rclpy timer
  doing the same are reported beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


P50: dict[str, float] = {}  # medians, reported beside the p99 targets (a shared machine's p99 is mostly load)


def p99(xs, name: str = "") -> float:
    a = np.asarray(xs) * 1e3
    if name:
        P50[name] = float(np.median(a))
    return float(np.percentile(a, 99))


def deployed_student(out: Path) -> Path:
    import torch
    from videomimic_offline.policy.exported import export_policy
    from videomimic_offline.policy.layout import NUM_ACTIONS, StudentLayout

    layout = StudentLayout()
    dims = [layout.dim, 1024, 512, 256, 128]
    layers: list[torch.nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ELU()]
    actor = torch.nn.Sequential(*layers, torch.nn.Linear(128, NUM_ACTIONS))
    return export_policy(actor, layout, out, provenance="bench random student")["onnx"]


def _interleaved(chunks: int, variants: dict[str, int], work) -> dict[str, list[float]]:
    """Run ``work(name, out_list)`` in a fresh thread per chunk, alternating the variants
    (name -> SCHED_FIFO priority, 0 = normal), so that load changes hit every variant alike."""
    from videomimic_nodes.core.realtime import set_fifo

    out: dict[str, list[float]] = {k: [] for k in variants}
    granted: dict[str, bool] = {}
    for _ in range(chunks):
        for name, prio in variants.items():

            def body(name: str = name, prio: int = prio) -> None:
                granted[name] = set_fifo(0, prio)  # False for priority 0
                work(name, out[name])

            th = threading.Thread(target=body)
            th.start()
            th.join()
    for name, prio in variants.items():
        if prio > 0 and not granted.get(name):
            P50[f"{name}_fifo_refused"] = 1.0
    return out


def bench_policy(path: Path, loop_options: dict[str, object], n: int = 3000) -> tuple[float, float, object]:
    """Policy step times: inside the node's loop (PeriodicLoop, its options) and in a plain loop."""
    from videomimic_nodes.core.loop import PeriodicLoop
    from videomimic_nodes.core.policy_runner import PolicyRunner
    from videomimic_offline.robot import g1

    r = PolicyRunner.from_file(path)
    q0 = g1.as_array(g1.DEFAULT_POSE)
    rng = np.random.default_rng(0)
    hm = np.full(121, 0.8, np.float32)
    times: dict[str, list[float]] = {"node": [], "normal": []}

    def step(out: list[float]) -> None:
        q = q0 + rng.normal(0, 0.02, 23)
        t0 = time.perf_counter()
        r.step(q, np.zeros(23), np.zeros(3), np.array([1.0, 0, 0, 0]), np.zeros(3), hm)
        out.append(time.perf_counter() - t0)

    for _ in range(5):  # interleaved chunks
        for name, opts in (("node", loop_options), ("normal", {})):
            done = threading.Event()
            out = times[name]
            goal = len(out) + n // 5

            def tick(out: list[float] = out, goal: int = goal, done: threading.Event = done) -> None:
                if len(out) < goal:
                    step(out)
                else:
                    done.set()

            loop = PeriodicLoop(0.003, tick, name="bench-policy", **opts).start()
            done.wait(120)
            loop.stop()
            if opts.get("realtime_priority") and not loop.realtime:
                P50["policy_fifo_refused"] = 1.0
    return p99(times["node"][50:], "policy_p50_ms"), p99(times["normal"][50:], "policy_normal_prio_p50_ms"), r


def bench_heightmap(priority: int, n: int = 200) -> dict[str, float]:
    """Heightmap update and cloud cleaning (20k points), at ``priority`` and at normal priority."""
    from videomimic_nodes.core.cloud import CleanConfig, Cloud, OdomBuffer, clean_cloud, pose_matrix
    from videomimic_nodes.core.elevation import ElevationMap

    rng = np.random.default_rng(0)
    T = pose_matrix(np.array([0.0, 0.0, 0.4]), np.array([np.pi, 0.35, 0.0]))
    maps = {"node": ElevationMap(), "normal": ElevationMap()}
    steps = {"node": 0, "normal": 0}
    t_clean: dict[str, list[float]] = {"node": [], "normal": []}

    def work(name: str, t_map: list[float]) -> None:
        m = maps[name]
        for _ in range(n // 5):
            k = steps[name]
            steps[name] += 1
            robot = np.array([0.01 * k, 0.0, 0.82])  # walking forward 0.5 m/s at 50 Hz: the map recentres
            xy = rng.uniform(-2, 2, (20000, 2)) + robot[:2]
            z = np.where(xy[:, 0] > robot[0] + 0.4, 0.1, 0.0) + rng.normal(0, 0.01, 20000)
            pts = np.column_stack([xy, z])
            t0 = time.perf_counter()
            m.integrate(pts, robot[:2], now=k * 0.1)
            m.policy_heightmap(robot, 0.0)
            t_map.append(time.perf_counter() - t0)
            odom = OdomBuffer()
            odom.add(k * 0.1, robot, np.array([0, 0, 0, 1.0]))
            odom.add(k * 0.1 + 0.1, robot + [0.05, 0, 0], np.array([0, 0, 0, 1.0]))
            lidar_pts = (pts - robot - T[:3, 3]) @ T[:3, :3]  # the same cloud in the lidar frame
            c = Cloud(lidar_pts, np.linspace(0, 0.1, 20000), k * 0.1)
            t0 = time.perf_counter()
            clean_cloud(c, T, odom, CleanConfig())
            t_clean[name].append(time.perf_counter() - t0)

    prios = {"node": priority, "normal": 0}
    t_map = _interleaved(5, prios, work)
    return {
        "heightmap_p99_ms": p99(t_map["node"][5:], "heightmap_p50_ms"),
        "heightmap_p99_ms_normal_prio": p99(t_map["normal"][5:], "heightmap_normal_prio_p50_ms"),
        "cloud_clean_20k_p99_ms": p99(t_clean["node"][5:], "cloud_clean_20k_p50_ms"),
        "cloud_clean_20k_p99_ms_normal_prio": p99(t_clean["normal"][5:]),
    }


#: SCHED_FIFO priority of this process while it plays the robot's firmware in bench_bridge.
CLIENT_PRIORITY = 70


def bench_bridge(seconds: float, bridge_priority: int | None = None) -> tuple[float, int, int]:
    """LowState -> LowCmd through a g1_bridge process; ``bridge_priority`` overrides its config."""
    import rclpy
    from rclpy.node import Node
    from sensor_msgs.msg import Joy
    from unitree_hg.msg import LowCmd, LowState
    from videomimic_nodes.core.realtime import at_normal_priority, promote_process
    from videomimic_nodes.ros_common import TOPIC_QOS as Q
    from videomimic_offline.robot import g1

    env = {**os.environ, "ROS_DOMAIN_ID": str(150 + os.getpid() % 80)}
    os.environ["ROS_DOMAIN_ID"] = env["ROS_DOMAIN_ID"]
    exe = REPO / "install" / "videomimic_nodes" / "lib" / "videomimic_nodes" / "g1_bridge"
    log = tempfile.NamedTemporaryFile("w", suffix=".log", delete=False)  # noqa: SIM115
    cmd = [str(exe), "--ros-args", "--params-file", str(REPO / "config" / "deploy.yaml"), "-p", "arm_on_start:=true"]
    if bridge_priority is not None:
        cmd += ["-p", f"realtime_priority:={bridge_priority}"]
    # After the first run this process is SCHED_FIFO 70 (promote_process below), and a child would
    # inherit that: the "normal priority" bridge then ran at 70. Started at normal scheduling, the
    # bridge takes the priority its parameters give it.
    proc = subprocess.Popen(at_normal_priority(cmd), stdout=log, stderr=subprocess.STDOUT, env=env)
    rclpy.init()
    node = Node("bench_bridge")
    sent: dict[int, float] = {}
    lat: list[float] = []

    def on_cmd(raw: bytes) -> None:
        t = time.perf_counter()
        seq = raw[5]  # CDR: 4-byte encapsulation header, mode_pr, mode_machine
        if seq in sent:
            lat.append(t - sent.pop(seq))

    node.create_subscription(LowCmd, "/lowcmd", on_cmd, Q["lowcmd"], raw=True)
    pub = node.create_publisher(LowState, "/lowstate", Q["lowstate"])
    joy = node.create_publisher(Joy, "/joy", Q["joy"])
    ex = rclpy.executors.SingleThreadedExecutor()
    ex.add_node(node)
    threading.Thread(target=ex.spin, daemon=True).start()
    done, total = promote_process(CLIENT_PRIORITY)
    P50["client_threads_fifo"] = f"{done}/{total}"
    msg = LowState()
    for i, name in enumerate(g1.JOINT_NAMES_29):
        msg.motor_state[i].q = g1.DEFAULT_POSE.get(name, 0.0)
    end = time.monotonic() + 30
    while pub.get_subscription_count() == 0 and time.monotonic() < end:
        time.sleep(0.05)
    k = 0
    t_next = time.perf_counter()
    t_end = t_next + seconds
    stood = False
    while time.perf_counter() < t_end:
        msg.mode_machine = k % 256
        sent[k % 256] = time.perf_counter()
        pub.publish(msg)
        k += 1
        if not stood and k > 500:  # measure in stand mode (the ramp path computes targets)
            for v in (1, 0):
                j = Joy(axes=[0.0] * 6, buttons=[0] * 12)
                j.buttons[7] = v
                joy.publish(j)
            stood = True
        t_next += 0.002
        time.sleep(max(0.0, t_next - time.perf_counter()))
    time.sleep(0.2)
    ex.shutdown()
    node.destroy_node()
    rclpy.try_shutdown()
    proc.send_signal(2)
    proc.wait(10)
    return p99(lat[200:], "lowstate_to_lowcmd_p50_ms"), k, len(lat)


#: PeriodicLoop options compared in one run, interleaved in short chunks so load changes hit all alike.
JITTER_VARIANTS: dict[str, dict[str, object]] = {
    "plain": {},
    "gc": {"gc_control": True},
    "fifo": {"realtime_priority": 80},
    "fifo_gc": {"realtime_priority": 80, "gc_control": True},
    "fifo_gc_spin": {"realtime_priority": 80, "gc_control": True, "spin_s": 0.0005},
}


def bench_jitter(runner, seconds: float, loop_options: dict[str, object]) -> tuple[float, float, dict[str, float]]:
    """The policy node's loop (core.loop.PeriodicLoop running the policy step, with the node's
    options), each variant of JITTER_VARIANTS beside it, and an rclpy timer."""
    import rclpy
    from rclpy.node import Node
    from videomimic_nodes.core.loop import PeriodicLoop
    from videomimic_offline.robot import g1

    q0 = g1.as_array(g1.DEFAULT_POSE)
    hm = np.full(121, 0.8, np.float32)

    def tick() -> None:
        runner.step(q0, np.zeros(23), np.zeros(3), np.array([1.0, 0, 0, 0]), np.zeros(3), hm)

    variants = {"node": loop_options, **JITTER_VARIANTS}
    jitter: dict[str, list[float]] = {k: [] for k in variants}
    rounds = 5
    for _ in range(rounds):
        for name, opts in variants.items():
            loop = PeriodicLoop(g1.CONTROL_DT, tick, **opts).start()
            time.sleep(seconds / rounds)
            loop.stop()
            jitter[name] += loop.jitter_s()[5:]
            if opts.get("realtime_priority") and not loop.realtime:
                P50[f"{name}_fifo_refused"] = 1.0
    node_loop = p99(jitter.pop("node"), "loop_jitter_p50_ms")
    per_variant = {f"loop_jitter_p99_ms_{k}": p99(v) for k, v in jitter.items()}

    rclpy.init()
    node = Node("bench_loop")
    stamps: list[float] = []
    node.create_timer(g1.CONTROL_DT, lambda: (stamps.append(time.perf_counter()), tick()))
    ex = rclpy.executors.SingleThreadedExecutor()
    ex.add_node(node)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ex.spin_once(timeout_sec=0.1)
    node.destroy_node()
    rclpy.try_shutdown()
    return node_loop, p99(np.abs(np.diff(stamps) - g1.CONTROL_DT)[5:], "rclpy_timer_jitter_p50_ms"), per_variant


def policy_loop_options() -> dict[str, object]:
    """The loop options the policy node runs with (config/deploy.yaml)."""
    import yaml

    p = yaml.safe_load((REPO / "config" / "deploy.yaml").read_text())["policy"]["ros__parameters"]
    return {"realtime_priority": int(p.get("loop_priority", 0)), "gc_control": bool(p.get("loop_gc_control", False)),
            "spin_s": float(p.get("loop_spin_s", 0.0))}  # fmt: skip


def node_priority(node: str) -> int:
    """A node's realtime_priority in config/deploy.yaml (0: normal scheduling)."""
    import yaml

    return int(
        yaml.safe_load((REPO / "config" / "deploy.yaml").read_text())[node]["ros__parameters"].get(
            "realtime_priority", 0
        )
    )


def _burn() -> None:
    while True:
        pass


def start_load(n: int) -> list:
    """``n`` busy-looping processes at normal priority (a reproducible stand-in for a busy machine)."""
    import multiprocessing as mp

    procs = [mp.get_context("fork").Process(target=_burn, daemon=True) for _ in range(n)]
    for pr in procs:
        pr.start()
    return procs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="duration of each timed DDS / loop run")
    ap.add_argument("--load", type=int, default=0, help="busy-looping processes to run beside the measurement")
    args = ap.parse_args()
    out: dict[str, object] = {"extra_load_processes": args.load}
    load = start_load(args.load)
    loads: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = deployed_student(Path(tmp))
            out["policy_p99_ms"], out["policy_p99_ms_normal_prio"], runner = bench_policy(path, policy_loop_options())
            print(f"policy step p99 {out['policy_p99_ms']:.3f} ms in the node's loop thread (target <= 1; "
                  f"normal priority {out['policy_p99_ms_normal_prio']:.3f} ms)", flush=True)  # fmt: skip
            loads.append(os.getloadavg()[0])
            out.update(bench_heightmap(node_priority("elevation_map")))
            print(f"heightmap update (20k points) p99 {out['heightmap_p99_ms']:.2f} ms (target <= 5; normal priority "
                  f"{out['heightmap_p99_ms_normal_prio']:.2f}); cloud cleaning + de-skew p99 "
                  f"{out['cloud_clean_20k_p99_ms']:.2f} ms", flush=True)  # fmt: skip
            loads.append(os.getloadavg()[0])
            out["loop_jitter_p99_ms"], out["rclpy_timer_jitter_p99_ms"], variants = bench_jitter(
                runner, args.seconds, policy_loop_options()
            )
            out.update(variants)
            print(f"50 Hz loop jitter p99 {out['loop_jitter_p99_ms']:.2f} ms (target <= 2; an rclpy timer: "
                  f"{out['rclpy_timer_jitter_p99_ms']:.2f} ms; variants "
                  + ", ".join(f"{k[len('loop_jitter_p99_ms_'):]} {v:.2f}" for k, v in variants.items()) + ")", flush=True)  # fmt: skip
            loads.append(os.getloadavg()[0])
            for key, prio in (("", None), ("_normal_prio", 0)):
                lat, sent, got = bench_bridge(args.seconds, prio)
                out[f"lowstate_to_lowcmd_p99_ms{key}"] = lat
                out[f"lowcmd_matched{key}"] = f"{got}/{sent}"
                print(f"LowState -> LowCmd through g1_bridge p99 {lat:.2f} ms ({got}/{sent} matched; "
                      + ("target <= 5)" if prio is None else "bridge at normal priority)"), flush=True)  # fmt: skip
                loads.append(os.getloadavg()[0])
    finally:
        for pr in load:
            pr.kill()
    out.update(P50)
    out["load_avg_1min"] = float(np.mean(loads)) if loads else os.getloadavg()[0]
    out["cpus"] = os.cpu_count()
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
