"""The sim deploy graph under ROS CLI queries (issue 13 item 8): which process is starved, the simulator or the bridge?

Usage: ``python bench/cli_queries.py [--phase-s 8] [--rounds 3] [--load N] [--scene DIR|heightfield.npz]
[--query-fifo P]``
inside ``. scripts/env.sh`` (a busy run: ``flock /work/wt/heavy.lock python bench/cli_queries.py``).
Prints one line per phase and a summary, then a JSON object on the last line. Never asserts.

It starts ``vm_launch deploy sim:=true`` with a random student (exported as bench/deploy_latency.py
makes one), ``joy_script:=joy_demo.yaml`` (stand -> policy; the robot stays on the gantry, a random
student cannot stand) and a scene with tall relief like a real reconstruction (a room with 2.7 m
walls and furniture, written with the repo's heightfield writer; ``--scene`` takes a real one such
as runs/main/recon). Then, in interleaved phases (quiet, queries, burst; ``--rounds`` times):

* quiet: nothing but the graph (and ``--load`` busy processes, in every phase alike).
* queries: a separate process runs, back to back, what ``ros2 node list`` and ``ros2 param dump
  <node>`` for every node do without a daemon (ros2cli 0.36: ros2node/verb/list.py,
  ros2param/verb/dump.py): every invocation is a fresh Python process with a fresh DDS participant
  that spins 0.5 s for discovery (ros2cli's DirectNode), then graph introspection
  (``get_node_names_and_namespaces``); a param dump first waits for the node to appear (one such
  participant), then opens a second one and calls the node's ``list_parameters`` and
  ``get_parameters`` (all names) services. ``ros2 param dump`` does not call describe_parameters.
* burst: one long-lived client process calls ``list_parameters`` + ``get_parameters`` of every node
  back to back, as fast as they answer (the service path alone, no discovery, no start-up cost).

The query processes run at normal priority, as from a user's shell (started through
``core.realtime.at_normal_priority``: a child of this SCHED_FIFO monitor would otherwise inherit
SCHED_FIFO and preempt the whole graph). ``--query-fifo P`` runs them at SCHED_FIFO P instead.

Measured per phase (this process is the monitor, at SCHED_FIFO above sim_g1 where permitted so its own
scheduling does not blur the figures; it receives what the graph publishes):

* sim_rtf: simulated seconds (LowState.tick) per wall second, and the LowState rate and largest
  gap as they arrive here: the simulator's output.
* bridge_js_hz / bridge_gap_max_ms: the bridge republishes every LowState it handles as
  /vm/joint_states stamped with its clock when its callback ran: the rate and largest gap of those
  stamps are the bridge's own progress; bridge_delay_*_ms = that stamp minus this process's receipt
  of the same LowState (matched by joint values): how long a LowState waited in the bridge.
* lowcmd_hz, targets_hz / targets_gap_max_ms (the policy's /vm/joint_targets).
* damping: the bridge's mode changes to damping and their reasons (/vm/events, kind "mode").
* cpu: CPU seconds per wall second (cores) of each node process, of the query process(es), and this monitor.

Verdict: the simulator is starved when its real-time factor falls in the query phases; the bridge is
starved when its joint_states gaps / delays grow while LowState arrives on time. A simulator pause that was
mostly sleeping or blocked (sim_g1's own report) is Fast DDS's shared-memory port lock, not a lack of
CPU: docs/real_robot.md. The workspace default (scripts/env.sh) is UDP without shared memory; run this
with ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` to compare against shared memory in the same conditions.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
VM_LAUNCH = REPO / "install" / "videomimic" / "lib" / "videomimic" / "vm_launch"
DOMAIN_LOCKS = Path("/tmp/videomimic-ros-domains")


def monitor_priority() -> int:
    """SCHED_FIFO priority of this monitor: above the whole sim graph (sim_g1's in config/sim.yaml)."""
    import yaml

    return (
        int(
            yaml.safe_load((REPO / "config" / "sim.yaml").read_text())["sim_g1"]["ros__parameters"]["realtime_priority"]
        )
        + 5
    )


#: ros2cli's DirectNode spins this long for discovery before answering (ros2cli/node/direct.py).
CLI_SPIN_S = 0.5
MONITOR = "cli_bench_monitor"


# ---- one ros2 CLI invocation (``--cli``), run as its own process --------------------------------------
class DirectParticipant:
    """What ros2cli's DirectNode is: a fresh context and node (a new DDS participant), spun
    ``CLI_SPIN_S`` for discovery, with no parameter services of its own."""

    def __enter__(self):  # -> rclpy Node
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        self.ctx = rclpy.Context()
        rclpy.init(context=self.ctx)
        self.node = rclpy.create_node(f"_ros2cli_{os.getpid()}", context=self.ctx, start_parameter_services=False)
        self.ex = SingleThreadedExecutor(context=self.ctx)
        self.ex.add_node(self.node)
        end = time.monotonic() + CLI_SPIN_S
        while time.monotonic() < end:
            self.ex.spin_once(timeout_sec=max(0.0, end - time.monotonic()))
        return self.node

    def spin_until(self, future, timeout: float = 5.0) -> None:
        end = time.monotonic() + timeout
        while not future.done() and time.monotonic() < end:
            self.ex.spin_once(timeout_sec=0.05)

    def __exit__(self, *_exc) -> None:
        import rclpy

        self.ex.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.ctx)


def _visible(names_ns: list[tuple[str, str]]) -> list[str]:
    """Node names as ``ros2 node list`` prints them (hidden ones left out), less this bench's monitor."""
    return sorted(ns.rstrip("/") + "/" + n for n, ns in names_ns if n and not n.startswith("_") and n != MONITOR)


def dump_parameters(part: DirectParticipant, node, target: str) -> tuple[int, float]:
    """list_parameters, then get_parameters of every name (what param dump asks); (count, seconds)."""
    from rclpy.parameter_client import AsyncParameterClient

    t0 = time.perf_counter()
    client = AsyncParameterClient(node, target)
    if not client.wait_for_services(timeout_sec=5.0):
        return -1, time.perf_counter() - t0
    fut = client.list_parameters()
    part.spin_until(fut)
    if not fut.done() or fut.result() is None:
        return -1, time.perf_counter() - t0
    names = sorted(fut.result().result.names)
    fut = client.get_parameters(names)
    part.spin_until(fut)
    n = len(fut.result().values) if fut.done() and fut.result() is not None else -1
    return n, time.perf_counter() - t0


def cli_invocation(verb: str, target: str) -> int:
    """``ros2 node list`` (verb node-list) or ``ros2 param dump <target>`` (param-dump), no daemon."""
    if verb == "node-list":
        part = DirectParticipant()
        with part as node:
            print("\n".join(_visible(node.get_node_names_and_namespaces())), flush=True)
        return 0
    part = DirectParticipant()  # ros2param: wait_for_node through the node strategy (a direct node here)
    with part as node:
        end = time.monotonic() + 1.0
        while target not in _visible(node.get_node_names_and_namespaces()) and time.monotonic() < end:
            part.ex.spin_once(timeout_sec=0.1)
    part = DirectParticipant()  # then a second DirectNode for the service calls
    with part as node:
        n, dt = dump_parameters(part, node, target)
    print(json.dumps({"node": target, "parameters": n, "service_s": round(dt, 4)}), flush=True)
    return 0 if n >= 0 else 1


def query_loop(seconds: float, stats_path: Path) -> int:
    """``ros2 node list``, then ``ros2 param dump`` of each node, back to back, each a fresh process."""
    me = [sys.executable, str(Path(__file__).resolve()), "--cli"]
    end = time.monotonic() + seconds
    stats = {"node_list": 0, "param_dump": 0, "failed": 0, "service_s": []}
    while time.monotonic() < end:
        out = subprocess.run([*me, "node-list"], capture_output=True, text=True, timeout=60)
        stats["node_list"] += 1
        for target in out.stdout.split():
            if time.monotonic() >= end:
                break
            r = subprocess.run([*me, "param-dump", target], capture_output=True, text=True, timeout=60)
            stats["param_dump"] += 1
            try:
                stats["service_s"].append(json.loads(r.stdout.strip().splitlines()[-1])["service_s"])
            except (IndexError, ValueError, KeyError):
                stats["failed"] += 1
    stats_path.write_text(json.dumps(stats))
    return 0


def _discovered(part: DirectParticipant, node, settle_s: float = 1.0, timeout_s: float = 60.0) -> list[str]:
    """The graph's nodes once discovery has settled (no new name for ``settle_s``).

    A starved client can see no node at all after ros2cli's 0.5 s spin; the burst then called
    nothing for its whole phase (2 of 3 rounds, 19:16 and 19:21 on 2026-12-07)."""
    names: list[str] = []
    last_new = start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        part.ex.spin_once(timeout_sec=0.1)
        now = _visible(node.get_node_names_and_namespaces())
        if set(now) - set(names):
            names, last_new = now, time.monotonic()
        elif names and time.monotonic() - last_new >= settle_s:
            break
    return names


def burst_loop(seconds: float, stats_path: Path) -> int:
    """One client calling every node's list_parameters + get_parameters back to back."""
    part = DirectParticipant()
    stats = {"requests": 0, "failed": 0, "service_s": []}
    with part as node:
        names = _discovered(part, node)
        print("ready", flush=True)  # the monitor starts the phase's clock here
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for target in names:
                n, dt = dump_parameters(part, node, target)
                stats["requests"] += 2
                stats["failed"] += n < 0
                stats["service_s"].append(dt)
    stats_path.write_text(json.dumps(stats))
    return 0


# ---- the bench ------------------------------------------------------------------------------------------
def tall_relief_scene(out: Path) -> Path:
    """A reconstruction-like room: floor at 0, 2.7 m walls, a 0.45 m seat, a 1.1 m table, a 2 m
    cupboard and unknown cells, 5 cm cells (the LiDAR's rays meet tall relief, as in a real scene)."""
    from videomimic_offline.contracts.heightfield import Heightfield, write_heightfield

    res, W, H = 0.05, 153, 93
    h = np.zeros((H, W))
    h[:3, :], h[-3:, :], h[:, :3], h[:, -3:] = 2.7, 2.7, 2.7, 2.7
    h[10:25, 100:130] = 0.45  # seat
    h[60:80, 20:45] = 1.1  # table
    h[5:20, 20:40] = 2.0  # cupboard
    h[40:50, 140:150] = np.nan  # never seen
    rng = np.random.default_rng(0)
    h += np.where(np.isfinite(h), rng.normal(0, 0.005, h.shape), 0.0)  # reconstruction noise
    path = out / "heightfield.npz"
    write_heightfield(path, Heightfield(h, np.array([-W // 2 * res, -H // 2 * res]), res))
    return path


def claim_domain() -> tuple[int, object]:
    """A ROS domain held for the run (as tests/conftest.py's ros_domain, above the tests' 1-101)."""
    DOMAIN_LOCKS.mkdir(exist_ok=True)
    for domain in range(150, 232):
        fh = open(DOMAIN_LOCKS / f"{domain}.lock", "a")  # noqa: SIM115 - held for the run
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return domain, fh
        except BlockingIOError:
            fh.close()
    raise SystemExit("every ROS domain 150-231 is held")


def graph_config(tmp: Path) -> Path:
    import yaml

    cfg = tmp / "config"
    cfg.mkdir()
    for f in (REPO / "config").glob("*.yaml"):
        (cfg / f.name).write_text(f.read_text())
    sim = yaml.safe_load((cfg / "sim.yaml").read_text())
    sim["sim_g1"]["ros__parameters"]["release_gantry_on_policy"] = False  # a random student cannot stand
    # every LowState republished (sim.yaml's 100 Hz is for the policy): the bridge's own progress and
    # the LowState waiting in it are read from /vm/joint_states, matched to each LowState
    sim["g1_bridge"]["ros__parameters"]["state_decimation"] = 1
    (cfg / "sim.yaml").write_text(yaml.safe_dump(sim))
    return cfg


def proc_cpu_s(pid: int) -> float:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def _raw_layout() -> dict[str, int]:
    """Byte offsets in the CDR of LowState (tick, q of motors 0-2) and of the bridge's JointState
    (stamp, position[0]), found by serialising marked messages (the bridge's names, empty frame_id)."""
    import struct

    from rclpy.serialization import serialize_message
    from sensor_msgs.msg import JointState
    from unitree_hg.msg import LowState
    from videomimic_offline.robot import g1

    ls = LowState()
    ls.tick = 0x1A2B3C4D
    for i, v in enumerate((1.25, 2.5, 3.75)):
        ls.motor_state[i].q = v
    raw = serialize_message(ls)
    lay = {"tick": raw.find(struct.pack("<I", 0x1A2B3C4D))}
    lay.update({f"q{i}": raw.find(struct.pack("<f", v)) for i, v in enumerate((1.25, 2.5, 3.75))})
    js = JointState(name=list(g1.JOINT_NAMES_29), position=[1.25, 2.5, 3.75] + [0.0] * 26)
    js.header.stamp.sec = 0x1A2B3C4D
    raw = serialize_message(js)
    lay["js_stamp"] = raw.find(struct.pack("<i", 0x1A2B3C4D))
    lay["js_pos"] = raw.find(struct.pack("<ddd", 1.25, 2.5, 3.75))
    if min(lay.values()) < 0:
        raise SystemExit(f"could not locate fields in the CDR: {lay}")
    return lay


class Monitor:
    """Receives the graph's streams (see the module docstring). Raw CDR and deep reader queues: a
    500 Hz stream parsed with a few struct reads, so the monitor neither loads the machine nor
    loses samples when it is late (the publishers' depth-1 QoS is the graph's, not the reader's)."""

    def __init__(self) -> None:
        import struct

        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import JointState, Joy
        from std_msgs.msg import String
        from unitree_hg.msg import LowCmd, LowState
        from videomimic_nodes.ros_common import TOPIC_QOS as Q
        from videomimic_offline.topics import TOPICS as T

        self.ctx = rclpy.Context()
        rclpy.init(context=self.ctx)
        self.node = rclpy.create_node(MONITOR, context=self.ctx)
        lay = _raw_layout()
        deep = QoSProfile(depth=5000, reliability=ReliabilityPolicy.BEST_EFFORT)
        self.ls: list[tuple[float, int]] = []  # (receipt, tick)
        self.ls_key: dict[tuple, float] = {}  # (q0, q1, q2) -> receipt
        self.js: list[tuple[float, float, float]] = []  # (bridge stamp, receipt, receipt of its LowState or nan)
        self.cmd: list[float] = []
        self.targets: list[float] = []
        self.mode = ""
        self.mode_changes: list[tuple[float, str, str]] = []  # (receipt, mode, reason)
        self.events: list[dict] = []
        offset = time.time() - time.monotonic()
        tick_at, q_at = lay["tick"], (lay["q0"], lay["q1"], lay["q2"])
        st_at, pos_at = lay["js_stamp"], lay["js_pos"]
        unpack_f, unpack_i, unpack_3d = (
            struct.Struct("<f").unpack_from,
            struct.Struct("<I").unpack_from,
            struct.Struct("<ddd").unpack_from,
        )
        unpack_st = struct.Struct("<iI").unpack_from

        def on_ls(raw: bytes) -> None:
            t = time.monotonic()
            self.ls.append((t, unpack_i(raw, tick_at)[0]))
            self.ls_key[tuple(unpack_f(raw, a)[0] for a in q_at)] = t
            if len(self.ls_key) > 4000:
                for k in list(self.ls_key)[:2000]:
                    del self.ls_key[k]

        def on_js(raw: bytes) -> None:
            t = time.monotonic()
            sec, nsec = unpack_st(raw, st_at)
            key = unpack_3d(raw, pos_at) if len(raw) >= pos_at + 24 else None
            self.js.append((sec + nsec * 1e-9 - offset, t, self.ls_key.get(key, float("nan"))))

        n = self.node
        n.create_subscription(LowState, T["lowstate"], on_ls, deep, raw=True)
        n.create_subscription(JointState, T["joint_states"], on_js, deep, raw=True)
        n.create_subscription(LowCmd, T["lowcmd"], lambda _b: self.cmd.append(time.monotonic()), deep, raw=True)
        n.create_subscription(JointState, T["joint_targets"], lambda _b: self.targets.append(time.monotonic()),
                              deep, raw=True)  # fmt: skip
        n.create_subscription(String, T["bridge_state"], self.on_mode, Q["bridge_state"])
        n.create_subscription(String, T["events"], self.on_event, Q["events"])
        self.joy = n.create_publisher(Joy, T["joy"], Q["joy"])
        self.ex = SingleThreadedExecutor(context=self.ctx)
        self.ex.add_node(n)
        self.thread = threading.Thread(target=self.spin, daemon=True)
        self.thread.start()

    def spin(self) -> None:
        while self.ctx.ok():
            try:
                self.ex.spin_once(timeout_sec=0.1)
            except Exception:  # noqa: BLE001 - shutting down
                return

    def on_mode(self, msg) -> None:
        self.mode = msg.data

    def on_event(self, msg) -> None:
        try:
            ev = json.loads(msg.data)
        except ValueError:
            return
        ev["_t"] = time.monotonic()
        self.events.append(ev)
        if ev.get("kind") == "mode":
            self.mode_changes.append((ev["_t"], str(ev.get("mode")), str(ev.get("reason"))))

    def press(self, button: int) -> None:
        from sensor_msgs.msg import Joy

        for v in (1, 0):
            j = Joy(axes=[0.0] * 8, buttons=[0] * 12)
            j.buttons[button] = v
            self.joy.publish(j)
            time.sleep(0.1)

    def to_policy(self, timeout: float = 30.0) -> bool:
        """Play the operator: START, the 2 s ramp, A, until the bridge is in policy mode."""
        end = time.monotonic() + timeout
        while self.mode != "policy" and time.monotonic() < end:
            if self.mode in ("damping", ""):
                self.press(7)
                time.sleep(0.5)
            elif self.mode == "stand":
                time.sleep(2.2)
                self.press(0)
                time.sleep(0.5)
            else:  # estop: nothing here sends one
                return False
        return self.mode == "policy"

    def close(self) -> None:
        import rclpy

        self.ex.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.ctx)


def _gap_ms(ts: list[float]) -> float:
    return float(np.max(np.diff(ts)) * 1e3) if len(ts) > 1 else float("nan")


def phase_figures(mon: Monitor, t0: float, t1: float) -> dict[str, float | int | str]:
    ls = [(t, k) for t, k in mon.ls if t0 <= t < t1]
    js = [x for x in mon.js if t0 <= x[1] < t1]
    cmd = [t for t in mon.cmd if t0 <= t < t1]
    tg = [t for t in mon.targets if t0 <= t < t1]
    dur = t1 - t0
    f: dict[str, float | int | str] = {}
    if len(ls) > 1:
        ticks = np.array([k for _, k in ls], np.int64)
        f["sim_rtf"] = float((ticks[-1] - ticks[0]) / 1000.0 / (ls[-1][0] - ls[0][0]))
        f["lowstate_hz"] = len(ls) / dur
        f["lowstate_gap_max_ms"] = _gap_ms([t for t, _ in ls])
        f["sim_tick_gap_max_ms"] = float(np.max(np.diff(ticks)))  # simulated ms between consecutive LowStates here
    stamps = [s for s, _, _ in js]
    f["bridge_js_hz"] = len(js) / dur
    f["bridge_gap_max_ms"] = _gap_ms(stamps)
    d = np.array([s - tl for s, _, tl in js if np.isfinite(tl)]) * 1e3
    if d.size:
        f["bridge_delay_p50_ms"] = float(np.median(d))
        f["bridge_delay_p99_ms"] = float(np.percentile(d, 99))
        f["bridge_delay_max_ms"] = float(d.max())
        f["bridge_delay_matched"] = int(d.size)
    f["lowcmd_hz"] = len(cmd) / dur
    f["lowcmd_gap_max_ms"] = _gap_ms(cmd)
    f["targets_hz"] = len(tg) / dur
    f["targets_gap_max_ms"] = _gap_ms(tg)
    # sim_g1's own account of each pause of its physics (> stall_report_s), with the cause
    stalls = [e for e in mon.events if e.get("kind") == "physics_stall" and t0 <= e["_t"] < t1]
    f["sim_stalls"] = len(stalls)
    if stalls:
        worst = max(stalls, key=lambda e: float(e.get("gap_ms", 0.0)))
        f["sim_stall_max_ms"] = float(worst.get("gap_ms", 0.0))
        f["sim_stall_worst"] = str(worst.get("text", ""))
    damp = [r for t, m, r in mon.mode_changes if t0 <= t < t1 and m == "damping"]
    f["damping"] = len(damp)
    if damp:
        f["damping_reasons"] = "; ".join(sorted(set(damp)))
    return f


def start_load(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phase-s", type=float, default=8.0, help="seconds per phase")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of quiet / queries / burst")
    ap.add_argument("--load", type=int, default=0, help="busy-looping processes beside the graph, in every phase")
    ap.add_argument("--scene", default="", help="scene folder or heightfield.npz (default: a written tall-relief room)")
    ap.add_argument(
        "--query-fifo",
        type=int,
        default=0,
        help="run the query processes at this SCHED_FIFO priority (default 0: normal, as a user's shell)",
    )
    ap.add_argument("--cli", nargs="+", metavar=("VERB", "NODE"), help=argparse.SUPPRESS)  # one ros2 CLI call
    ap.add_argument("--loop", nargs=3, metavar=("KIND", "SECONDS", "STATS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cli:
        return cli_invocation(args.cli[0], args.cli[1] if len(args.cli) > 1 else "")
    if args.loop:
        kind, seconds, stats = args.loop
        return (query_loop if kind == "queries" else burst_loop)(float(seconds), Path(stats))

    from videomimic_nodes.core.realtime import at_normal_priority, promote_process

    sys.path.insert(0, str(REPO / "bench"))
    from deploy_latency import deployed_student

    domain, _domain_lock = claim_domain()
    os.environ["ROS_DOMAIN_ID"] = str(domain)
    # DDS reach and transport: scripts/env.sh's (UDP on this machine) unless the shell sets others; to see the
    # shared-memory stalls, run it with ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST (rmw_fastrtps then adds it)
    out: dict[str, object] = {"extra_load_processes": args.load, "phase_s": args.phase_s, "rounds": args.rounds,
                              "query_fifo": args.query_fifo}  # fmt: skip
    load = start_load(args.load)
    tmp = Path(tempfile.mkdtemp(prefix="cli-bench-"))
    scene = Path(args.scene) if args.scene else tall_relief_scene(tmp)
    out["scene"] = str(scene) if args.scene else "written tall-relief room (153 x 93 at 5 cm, 0-2.7 m)"
    policy = deployed_student(tmp)
    cfg = graph_config(tmp)
    glog_path = tmp / "graph.log"
    glog = open(glog_path, "w")  # noqa: SIM115
    cmd = [str(VM_LAUNCH), "deploy", "sim:=true", f"policy:={policy}", f"scene:={scene}",
           "joy_script:=joy_demo.yaml", f"config_dir:={cfg}"]  # fmt: skip
    graph = subprocess.Popen(cmd, stdout=glog, stderr=subprocess.STDOUT, cwd=tmp)
    mon = Monitor()
    done, total = promote_process(monitor_priority())
    out["monitor_fifo_threads"] = f"{done}/{total}"
    phases: list[dict[str, object]] = []
    try:
        end = time.monotonic() + 120
        while len(mon.ls) < 500 and time.monotonic() < end:
            time.sleep(0.2)
        if len(mon.ls) < 500:
            raise SystemExit(f"the sim graph did not come up in 120 s (log {glog_path})")
        time.sleep(17.0)  # joy_demo.yaml: stand at 1 s, policy at 5 s, walk until 16 s
        pids = {
            m.group(1): int(m.group(2))
            for m in re.finditer(r"\[vm_launch\] started (\S+) \[\S+\] pid (\d+)", glog_path.read_text())
        }
        out["nodes"] = sorted(pids)
        for r in range(args.rounds):
            for kind in ("quiet", "queries", "burst"):
                in_policy = mon.to_policy()
                stats = tmp / f"stats-{r}-{kind}.json"
                q = None
                if kind != "quiet":
                    # at normal priority, as a user's shell: a child of this (SCHED_FIFO) monitor would
                    # inherit its priority and starve the graph (seen: 100-380 ms bridge stalls)
                    me = [sys.executable, str(Path(__file__).resolve())]
                    qcmd = [*me, "--loop", kind, str(args.phase_s), str(stats)]
                    # the worst case (--query-fifo): queries above the graph
                    qcmd = (
                        ["chrt", "--fifo", str(args.query_fifo), *qcmd]
                        if args.query_fifo > 0
                        else at_normal_priority(qcmd)
                    )
                    q = subprocess.Popen(qcmd, stdout=subprocess.PIPE if kind == "burst" else None, text=True)
                    if kind == "burst":  # its discovery is not part of the burst
                        ready = q.stdout.readline().strip() if q.stdout else ""
                        if ready != "ready":
                            raise SystemExit(f"the burst client did not start (said {ready!r})")
                cpu0 = {k: proc_cpu_s(p) for k, p in pids.items()}
                ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                me0 = resource.getrusage(resource.RUSAGE_SELF)
                la0 = os.getloadavg()[0]
                t0 = time.monotonic()
                time.sleep(args.phase_s)
                if q is not None:
                    q.wait(120)  # finishes the invocation it is in
                t1 = time.monotonic()
                ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                me1 = resource.getrusage(resource.RUSAGE_SELF)
                f = phase_figures(mon, t0, t1)
                f.update({"round": r, "kind": kind, "started_in_policy": in_policy, "wall_s": round(t1 - t0, 2)})
                # CPU time per wall second of the phase (a phase lasts >= --phase-s: the query process
                # finishes the invocation it is in). The query processes' whole CPU is counted, the
                # burst client's discovery before the phase included.
                wall = t1 - t0
                f["cpu_s"] = {k: round((proc_cpu_s(p) - cpu0[k]) / wall, 3) for k, p in pids.items()}
                f["cpu_s"]["query_processes"] = round(
                    (ch1.ru_utime + ch1.ru_stime - ch0.ru_utime - ch0.ru_stime) / wall, 3
                )
                f["cpu_s"]["monitor"] = round((me1.ru_utime + me1.ru_stime - me0.ru_utime - me0.ru_stime) / wall, 3)
                f["load_avg_1min"] = round((la0 + os.getloadavg()[0]) / 2, 2)
                if stats.exists():
                    s = json.loads(stats.read_text())
                    st = s.pop("service_s")
                    s["param_dump_service_p50_ms"] = round(float(np.median(st)) * 1e3, 2) if st else None
                    s["param_dump_service_max_ms"] = round(float(np.max(st)) * 1e3, 2) if st else None
                    f["queries"] = s
                phases.append(f)
                print(f"[{r}] {kind:7s} sim rtf {f.get('sim_rtf', float('nan')):.2f}, LowState "
                      f"{f.get('lowstate_hz', 0):.0f} Hz (gap max {f.get('lowstate_gap_max_ms', float('nan')):.0f} ms); "
                      f"bridge {f['bridge_js_hz']:.0f} Hz (gap max {f['bridge_gap_max_ms']:.0f} ms, delay p99 "
                      f"{f.get('bridge_delay_p99_ms', float('nan')):.1f} max {f.get('bridge_delay_max_ms', float('nan')):.1f} ms); "
                      f"targets {f['targets_hz']:.0f} Hz (gap max {f['targets_gap_max_ms']:.0f} ms); "
                      f"sim pauses {f['sim_stalls']} (max {f.get('sim_stall_max_ms', 0):.0f} ms); damping {f['damping']}"
                      f"{' (' + str(f['damping_reasons']) + ')' if f['damping'] else ''}; {f['wall_s']} s; CPU cores {f['cpu_s']}; "
                      f"{f.get('queries', '')}", flush=True)  # fmt: skip
    finally:
        mon.close()
        graph.send_signal(2)
        try:
            graph.wait(40)
        except subprocess.TimeoutExpired:
            graph.kill()
        glog.close()
        for p in load:
            p.kill()
    out["phases"] = phases
    for kind in ("quiet", "queries", "burst"):
        ph = [p for p in phases if p["kind"] == kind]
        for key in ("sim_rtf", "lowstate_hz", "lowstate_gap_max_ms", "bridge_js_hz", "bridge_gap_max_ms",
                    "bridge_delay_p99_ms", "bridge_delay_max_ms", "targets_hz", "targets_gap_max_ms"):  # fmt: skip
            vals = [float(p[key]) for p in ph if key in p]
            if vals:
                agg = max if key.endswith("max_ms") or key.endswith("p99_ms") else np.mean
                out[f"{kind}_{key}"] = float(agg(vals))
        out[f"{kind}_damping"] = sum(int(p["damping"]) for p in ph)
        out[f"{kind}_sim_stalls"] = sum(int(p["sim_stalls"]) for p in ph)
        worst = max(ph, key=lambda p: float(p.get("sim_stall_max_ms", 0.0)), default={})
        if worst.get("sim_stall_worst"):
            out[f"{kind}_sim_stall_worst"] = worst["sim_stall_worst"]
        for node in out.get("nodes", []):
            out[f"{kind}_cpu_cores_{node}"] = float(np.mean([p["cpu_s"][node] for p in ph]))
        out[f"{kind}_cpu_cores_query_processes"] = float(np.mean([p["cpu_s"]["query_processes"] for p in ph]))
    behind = re.findall(r"simulation (\d+) ms behind real time", glog_path.read_text())
    out["sim_behind_warnings"] = len(behind)
    out["graph_log"] = str(glog_path)
    out["cpus"] = os.cpu_count()
    print(verdict(out), flush=True)
    slim = {k: v for k, v in out.items() if k != "phases"}
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in slim.items()}))
    return 0


def verdict(out: dict[str, object]) -> str:
    """Which process the queries starve, from the per-kind figures: the simulator when its real-time
    factor falls or its LowState stream stalls (blocked rather than starved when its worst pause was
    mostly sleeping or blocked); the bridge when it handles LowState later than it arrives (its own
    gaps beyond the stream's, or a LowState waiting > 40 ms, the robot's watchdog)."""
    nan = float("nan")
    lines = []
    q_rtf, q_gap = out.get("quiet_sim_rtf", nan), out.get("quiet_lowstate_gap_max_ms", nan)
    for kind in ("queries", "burst"):
        rtf = out.get(f"{kind}_sim_rtf", nan)
        gap_b, gap_s = out.get(f"{kind}_bridge_gap_max_ms", nan), out.get(f"{kind}_lowstate_gap_max_ms", nan)
        delay = out.get(f"{kind}_bridge_delay_max_ms", nan)
        starved = []
        if rtf < 0.9 * q_rtf or gap_s > max(40.0, 3.0 * q_gap):
            worst = str(out.get(f"{kind}_sim_stall_worst") or "")
            # blocked, not short of CPU: Fast DDS's shared-memory port lock (docs/real_robot.md)
            how = "blocked in DDS, not starved" if "sleeping or blocked" in worst else "starved"
            starved.append(f"the simulator {how}" + (f" (its worst pause: {worst})" if worst else ""))
        if gap_b - gap_s > 20.0 or delay > 40.0:
            starved.append("the bridge starved")
        lines.append(
            f"{kind}: sim rtf {rtf:.2f} (quiet {q_rtf:.2f}); LowState largest gap {gap_s:.0f} ms (quiet {q_gap:.0f}), "
            f"bridge's largest gap {gap_b:.0f} ms, LowState waiting in the bridge at most {delay:.0f} ms; damping "
            f"{out.get(f'{kind}_damping')} (quiet {out.get('quiet_damping')}): "
            + (" and ".join(starved) if starved else "neither starved")
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
