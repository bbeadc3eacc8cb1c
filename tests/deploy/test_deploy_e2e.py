"""End to end: the whole sim deploy graph through the graph runner, driven by a joystick sequence.

sim_g1, lidar_ingest, elevation_map, policy, g1_bridge, joy_teleop and recorder run as processes
(``vm_launch deploy sim:=true record:=true``) over real DDS. The test plays the operator: it holds
the deadman and pushes the stick, presses START (stand) then A (policy), checks the heightmap
shows the default scene's step ahead, presses the e-stop, Ctrl-Cs the graph and reads the bag.
The student is ``smoke_student`` (tests/conftest.py): a pretrained one when videomimic_offline ships
one, else the training pipeline's smoke run exported (plumbing, not walking: it stays on the gantry).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

rclpy = pytest.importorskip("rclpy")
pytestmark = [pytest.mark.ros, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
VM_LAUNCH = REPO / "install" / "videomimic" / "lib" / "videomimic" / "vm_launch"


def _config(tmp: Path, bag_dir: Path) -> Path:
    cfg = tmp / "config"
    cfg.mkdir()
    for f in (REPO / "config").glob("*.yaml"):
        (cfg / f.name).write_text(f.read_text())
    deploy = yaml.safe_load((cfg / "deploy.yaml").read_text())
    deploy["recorder"]["ros__parameters"].update({"output_dir": str(bag_dir), "bag_name": "e2e", "flush_s": 1.0})
    # The simulator shares 2 cores with everything else and can stall for tens of ms; a real G1
    # cannot. Wider watchdogs keep such stalls from ending the run (the 40/60 ms defaults are
    # tested in test_node_faults.py against a steady 500 Hz LowState).
    deploy["g1_bridge"]["ros__parameters"].update({"lowstate_timeout": 0.25, "policy_timeout": 0.25})
    (cfg / "deploy.yaml").write_text(yaml.safe_dump(deploy))
    sim = yaml.safe_load((cfg / "sim.yaml").read_text())
    # Spare the shared 2-core machine: the simulated MID-360's ray casting is over half of sim_g1's
    # CPU. At 5000 points the graph's SCHED_FIFO threads reached the kernel's real-time cap in policy
    # mode (sim_g1 stopped ~50 ms every second), and one e-stop took 36 ms to reach the simulator.
    sim["sim_g1"]["ros__parameters"]["lidar_points_per_scan"] = 2500
    # A smoke-run student cannot stand: keep it on the gantry (a fallen G1 costs the physics ~10x per step)
    sim["sim_g1"]["ros__parameters"]["release_gantry_on_policy"] = False
    (cfg / "sim.yaml").write_text(yaml.safe_dump(sim))
    return cfg


#: Messages a publisher may send before the recorder's subscription has matched it: joy_teleop
#: and the bridge's heartbeat start publishing as soon as they are up, and the bridge answers
#: sim_g1's first LowStates whether or not discovery has paired it with the recorder yet; sim_g1
#: loads MuJoCo for seconds, so the recorder has its streams from their first message.
MISSED_AT_START: dict[str, int] = {"direction_cmd": 100, "bridge_state": 10, "lowcmd": 100}
#: Best-effort streams (QoS depth 1-5) may drop samples when a subscriber is starved: on the shared
#: 2-core machine with a second test suite running, 0.5 % of LowState but up to 9 % of the 0.5 MB
#: clouds were dropped. Reliable topics (joy, estop) are checked exactly.
BEST_EFFORT_LOSS = 0.15
#: e-stop trials; each must reach damping within one cycle (see the assertion for a machine without SCHED_FIFO)
ESTOP_TRIALS = 5


def sent_counts(graph_log: str) -> dict[str, int]:
    """Messages per topic that the graph's nodes report they published (``vm-sent`` lines at exit)."""
    sent: dict[str, int] = {}
    for m in re.finditer(r"vm-sent (\S+) (\{.*\})", graph_log):
        for topic, n in json.loads(m.group(2)).items():
            sent[topic] = sent.get(topic, 0) + int(n)
    return sent


#: the nodes' log line (rcutils' default, pinned: the e-stop check reads the bridge's wall-clock stamp)
LOG_FORMAT = "[{severity}] [{time}] [{name}]: {message}"
#: SCHED_FIFO priority of the test operator's threads: above background load and the recorder (30),
#: below the graph's control nodes (config/deploy.yaml: 40-70). The operator takes the 500 Hz LowState
#: and LowCmd streams as the recorder does; with rclpy's default executor its ~1000 callbacks/s starved
#: the recorder on 2 cores until the bag fell 8 s behind, so it spins the events executor (a third of
#: the CPU per message). Below the recorder, its own lag reached 0.7 s on a quiet machine.
OPERATOR_PRIORITY = 38


class Operator:
    """The test's own node: joystick, e-stop, and listeners on what the graph publishes."""

    def __init__(self) -> None:
        from rclpy.node import Node
        from sensor_msgs.msg import Joy
        from std_msgs.msg import Bool, Float32MultiArray, String
        from unitree_hg.msg import LowCmd, LowState
        from videomimic_nodes.core.realtime import promote_threads, thread_ids
        from videomimic_nodes.ros_common import TOPIC_QOS as Q

        before = set(thread_ids())
        self.ctx = rclpy.Context()
        rclpy.init(context=self.ctx)
        self.node = Node("e2e_operator", context=self.ctx)
        n = self.node
        self.joy_pub = n.create_publisher(Joy, "/joy", Q["joy"])
        self.estop_pub = n.create_publisher(Bool, "/vm/estop", Q["estop"])
        self.states: list[tuple[float, str]] = []
        self.heightmaps: list[tuple[float, str, np.ndarray]] = []
        self.ticks: list[int] = []
        self.damping_cmd_t: list[float] = []
        self.n_joy = 0
        n.create_subscription(String, "/vm/bridge_state", lambda m: self.states.append((time.monotonic(), m.data)),
                              Q["bridge_state"])  # fmt: skip
        n.create_subscription(Float32MultiArray, "/vm/heightmap", self._on_hm, Q["heightmap"])
        # raw 500 Hz streams, read straight from the CDR bytes: deserialising them in Python here
        # would load this process enough to distort the latencies it measures.
        n.create_subscription(LowState, "/lowstate", self._on_state, Q["lowstate"], raw=True)
        n.create_subscription(LowCmd, "/lowcmd", self._on_cmd, Q["lowcmd"], raw=True)
        from grid_map_msgs.msg import GridMap

        self.gridmaps: list = []
        n.create_subscription(GridMap, "/vm/elevation_map", self.gridmaps.append, Q["elevation_map"])
        from rclpy.experimental import EventsExecutor

        # the events executor takes a third of the default one's CPU per message (ros_common.run)
        self.executor = EventsExecutor(context=self.ctx)
        self.executor.add_node(n)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()
        time.sleep(0.05)
        # The operator stands in for a person at a gamepad: the machine's background load must not
        # delay its view of the robot's tick or its button presses, or the test would charge that
        # delay to the graph. Its own threads (DDS + executor) run SCHED_FIFO at OPERATOR_PRIORITY,
        # below every control node of the graph, where permitted; pytest's main thread stays as it is.
        self.realtime = promote_threads(set(thread_ids()) - before, OPERATOR_PRIORITY)

    def _spin(self) -> None:
        while not self._stop.is_set():
            self.executor.spin_once(timeout_sec=0.05)

    def _on_hm(self, m) -> None:
        self.heightmaps.append((time.monotonic(), self.mode, np.asarray(m.data, dtype=np.float32)))

    def _on_state(self, raw: bytes) -> None:
        self.ticks.append(int.from_bytes(raw[16:20], "little"))  # CDR header 4 + version 8 + modes 2 + pad 2

    def _on_cmd(self, raw: bytes) -> None:
        t = time.monotonic()
        kp = np.frombuffer(raw, "<f4", 35 * 7, 4 + 16)[::7]  # motor i's kp at 4 + 16 + 28 i
        if not kp.any():
            self.damping_cmd_t.append(t)

    @property
    def mode(self) -> str:
        return self.states[-1][1] if self.states else ""

    def joy(self, buttons: dict[int, int], ly: float = 0.6) -> None:
        from sensor_msgs.msg import Joy

        msg = Joy()
        msg.axes = [0.0, ly, 0.0, 0.0, 0.0, 0.0]
        msg.buttons = [0] * 12
        msg.buttons[4] = 1  # deadman held
        for b, v in buttons.items():
            msg.buttons[b] = v
        self.joy_pub.publish(msg)
        self.n_joy += 1

    def press(self, button: int, hold_s: float = 0.2) -> None:
        end = time.monotonic() + hold_s
        while time.monotonic() < end:
            self.joy({button: 1})
            time.sleep(0.05)
        self.joy({})

    def press_until(self, button: int, mode: str, tries: int = 3, wait_s: float = 2.0) -> None:
        """Press ``button`` until the bridge reports ``mode`` (at most ``tries`` presses)."""
        for _ in range(tries):
            self.press(button)
            end = time.monotonic() + wait_s
            while time.monotonic() < end and self.mode != mode:
                self.joy({})
                time.sleep(0.05)
            if self.mode == mode:
                return
        raise AssertionError(
            f"bridge not in {mode} after {tries} presses of button {button}; states {self.states[-5:]}"
        )

    def stream_joy(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.joy({})
            time.sleep(0.05)

    def wait_for(self, pred, timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred():
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; bridge states {self.states[-5:]}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.ctx)


def test_sim_deploy_graph_end_to_end(tmp_path: Path, ros_domain: int, smoke_student: Path) -> None:
    from rosbags.rosbag2 import Reader
    from std_msgs.msg import Bool
    from videomimic_nodes.core.realtime import set_fifo

    if not VM_LAUNCH.exists():
        pytest.skip("vm_launch not built: run bash scripts/setup.sh")
    bag_dir = tmp_path / "bags"
    cfg = _config(tmp_path, bag_dir)
    student = smoke_student
    log = open(tmp_path / "graph.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(VM_LAUNCH), "deploy", "sim:=true", "record:=true", f"policy:={student}", f"config_dir:={cfg}"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RCUTILS_CONSOLE_OUTPUT_FORMAT": LOG_FORMAT}, cwd=tmp_path,
    )  # fmt: skip
    op = Operator()
    try:
        op.wait_for(lambda: len(op.ticks) > 100 and op.mode == "damping", 90, "the sim and the bridge (damping)")
        # bridge, joy_teleop and recorder all matched on /joy, so every joystick message counts
        op.wait_for(lambda: op.joy_pub.get_subscription_count() >= 3, 30, "the /joy subscribers")
        op.stream_joy(1.0)
        # --- damping -> stand (START) -> policy (A) -------------------------------------------
        # An operator presses again when the bridge refuses: it refuses START while LowState is
        # stale, and the simulator can fall 0.3 s behind right after start-up on a loaded machine.
        op.press_until(7, "stand")
        t_stand = time.monotonic()
        op.stream_joy(2.6)  # the 2 s ramp
        op.press_until(0, "policy")
        t_policy = time.monotonic()
        seq = [s for _, s in op.states]
        assert seq.index("damping") < seq.index("stand") < seq.index("policy")
        op.stream_joy(4.0)
        # --- heightmap while standing on the gantry: the step (0.1 m at x = 0.35 m) in front --
        hms = [h for t, mode, h in op.heightmaps if mode == "stand" and t > t_stand + 1.0]
        assert hms, "no heightmap while standing"
        hm = np.mean(hms[-10:], axis=0).reshape(11, 11)  # [iy, ix], x ascending
        back, front = hm[:, :4].mean(), hm[:, -2:].mean()  # x in [-0.5, -0.2] vs [+0.4, +0.5]
        assert back == pytest.approx(0.84, abs=0.06), hm  # torso height above the floor
        assert back - front == pytest.approx(0.1, abs=0.03), hm  # the step
        # --- the GridMap: elevation / variance / age layers over 4 x 4 m at 0.05 m ----------------
        gm = op.gridmaps[-1]
        assert list(gm.layers) == ["elevation", "variance", "age"] and gm.info.resolution == pytest.approx(0.05)
        elev = np.asarray(gm.data[0].data, dtype=np.float32)
        assert elev.size == 80 * 80 and np.isfinite(elev).mean() > 0.2  # a good part of the map is known
        # --- e-stop -> damping within one control cycle (20 ms), five trials ---------------------
        # Held in the robot's own time, inside the graph: from the LowState tick the bridge had taken
        # when the e-stop came in (its log) to the tick at which sim_g1 took the damping LowCmd (its
        # log). A loaded machine slows the simulated robot with everything else, so this is
        # load-independent. Delivery from outside (this test's publish to the bridge's callback, by
        # the bridge's log stamp) is bounded below; this test's own view (its last seen tick and its
        # wall clock to its receipt of the damping LowCmd) includes its own lag and is only reported.
        latencies, estop_ticks, estop_wall = [], [], []
        # This thread reads the robot's tick and publishes the e-stop: at normal priority a busy machine
        # could hold it between the two, and the test would charge that to the graph (seen: 0.85 s).
        main_rt = set_fifo(0, OPERATOR_PRIORITY)
        for trial in range(ESTOP_TRIALS):
            if trial:  # release, back to damping, stand again (kp > 0 commands flowing)
                op.estop_pub.publish(Bool(data=False))
                time.sleep(0.1)
                op.press_until(6, "damping")
                op.press_until(7, "stand")
                op.stream_joy(0.3)
            n_before = len(op.damping_cmd_t)
            t_estop = time.monotonic()
            estop_ticks.append(op.ticks[-1])
            estop_wall.append(time.time())  # the clock of the nodes' log stamps
            op.estop_pub.publish(Bool(data=True))
            op.wait_for(lambda n=n_before: len(op.damping_cmd_t) > n, 2, "a damping LowCmd after the e-stop")
            latencies.append(op.damping_cmd_t[n_before] - t_estop)
            op.wait_for(lambda: op.mode == "estop", 2, "bridge state estop")
        if main_rt:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        # at least 10 s of simulated time (a loaded machine runs the sim slower than real time)
        end = time.monotonic() + 60
        while (op.ticks[-1] - op.ticks[0]) / 1000.0 < 11.5 and time.monotonic() < end:
            op.stream_joy(0.5)
        sim_seconds = (op.ticks[-1] - op.ticks[0]) / 1000.0
        assert sim_seconds >= 10.0, f"only {sim_seconds:.1f} s simulated in a minute"
        time.sleep(0.5)  # let the recorder take the last joystick messages before Ctrl-C
    finally:
        op.close()
        proc.send_signal(signal.SIGINT)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = -9
        log.close()
    graph_log = (tmp_path / "graph.log").read_text()
    assert rc == 0, graph_log[-3000:]
    damp_ticks = [int(x) for x in re.findall(r"damping from tick (\d+)", graph_log)]
    # each bridge line is stamped with the wall clock ({time} of LOG_FORMAT) when the e-stop callback ran
    estops = re.findall(
        r"\[(\d+\.\d+)\] \[g1_bridge\]: E-STOP: damping \(robot tick (-?\d+) when it came in\)", graph_log
    )
    assert len(estops) == ESTOP_TRIALS, f"the bridge logged {len(estops)} e-stops, not {ESTOP_TRIALS}"
    bridge_ticks = [int(tick) for _, tick in estops]
    delivery_ms = [round((float(t) - w) * 1000.0, 1) for (t, _), w in zip(estops, estop_wall, strict=True)]

    def to_damping_ms(starts: list[int]) -> list[int]:  # ticks are ms
        return [min(d for d in damp_ticks if d >= t) - t for t in starts]

    graph_ms, test_sim_ms = to_damping_ms(bridge_ticks), to_damping_ms(estop_ticks)
    print(
        f"e-stop -> damping: {graph_ms} ms of robot time from the bridge's receipt; this test's publish -> "
        f"the bridge's callback {delivery_ms} ms wall clock; seen from this test (its own lag included): "
        f"{test_sim_ms} ms of robot time from its last seen tick, {[round(x * 1000, 1) for x in latencies]} ms "
        f"wall clock to its receipt of the damping LowCmd; {sim_seconds:.1f} s simulated"
    )
    # The bridge damps inside the e-stop callback. With the graph at SCHED_FIFO (config/deploy.yaml;
    # root or CAP_SYS_NICE) background load cannot queue it: every trial lands within one 20 ms
    # cycle (0-14 ms of sim time seen here with 4 extra busy processes on 2 cores). Where the
    # machine refuses real-time scheduling the queueing under load took 16-108 ms: then the best
    # trial must still make the cycle and none may exceed five.
    bridge_rt = re.search(r"\[g1_bridge[^\]]*\].*SCHED_FIFO priority \d+ on all", graph_log) is not None
    if bridge_rt:
        assert max(graph_ms) <= 20, f"e-stop to damping took {graph_ms} ms of robot time (> one 20 ms cycle)"
    else:
        assert min(graph_ms) <= 20, f"e-stop to damping took {graph_ms} ms of robot time (none within a cycle)"
        assert max(graph_ms) <= 100, f"an e-stop took {max(graph_ms)} ms of robot time (> 5 cycles)"
    # Delivery, from outside the graph: this process's publish to the bridge's callback (its log stamp,
    # the same wall clock), so an e-stop that DDS delays is caught, which the robot-time figure above
    # (from the bridge's receipt) cannot see. Not this process's receipt of the damping LowCmd: that
    # adds its own lag on a loaded machine (up to 272 ms of stale tick seen with two busy processes).
    assert min(delivery_ms) <= 20, f"e-stop delivery to the bridge took {delivery_ms} ms (none within a cycle)"
    assert max(delivery_ms) <= 100, f"an e-stop took {max(delivery_ms)} ms to reach the bridge (> 5 cycles)"
    assert t_policy - t_stand >= 2.0

    # --- physical sense: spawned on the terrain, the torso at the default pose's height in stand,
    # no fall (it hangs from the gantry), nothing off the known terrain -------------------------------
    from videomimic_nodes.core.deploy_check import check_deploy, summary

    check = check_deploy(bag_dir / "e2e")
    print(summary(check))
    assert check.ok and check.stand_samples > 0 and not check.falls_seen and check.off_terrain_s == 0, summary(check)
    assert abs(check.stand_height_error) < 0.02  # on the gantry the pose is held exactly

    # --- the bag: every configured topic, with the counts the run implies ---------------------
    from videomimic_offline.bag_types import interface_typestore

    store = interface_typestore([Path(p) / "share" for p in os.environ["AMENT_PREFIX_PATH"].split(":") if p])
    stamps: dict[str, list[int]] = {}
    ticks: list[int] = []
    with Reader(bag_dir / "e2e") as reader:
        for c in reader.connections:
            stamps.setdefault(c.topic, [])
        for conn, t_ns, raw in reader.messages():
            stamps[conn.topic].append(t_ns)
            if conn.topic == "/lowstate":
                ticks.append(int(store.deserialize_cdr(raw, conn.msgtype).tick))
    meta = yaml.safe_load((bag_dir / "e2e" / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    custom = meta.get("custom_data") or {}
    configured = yaml.safe_load((cfg / "deploy.yaml").read_text())["recorder"]["ros__parameters"]["topics"]
    from videomimic.graph import TOPICS

    assert set(stamps) == {TOPICS[k] for k in configured}
    assert custom.get("policy") == str(student) and custom.get("git_revision")
    counts = {k: len(stamps[TOPICS[k]]) for k in configured}
    assert counts["joy"] == op.n_joy  # reliable, from this test: every one recorded
    assert counts["estop"] == 2 * ESTOP_TRIALS - 1  # true, false, true, ..., true
    twist_type = "geometry_msgs/msg/Twist"
    with Reader(bag_dir / "e2e") as reader:  # the deadman was held with the stick at 0.6: x = 0.5 * 0.6
        xs = [store.deserialize_cdr(raw, twist_type).linear.x for c, _, raw in reader.messages()
              if c.topic == TOPICS["direction_cmd"]]  # fmt: skip
    assert max(xs) == pytest.approx(0.3, abs=1e-6)
    assert counts["bridge_state"] >= 8  # damping, stand, policy, estop, damping, stand, estop ... (+ 5 Hz heartbeat)
    # Every other count is checked against what the publishing nodes say they sent (``vm-sent`` at
    # exit), not against a rate: a loaded machine publishes fewer messages, never different ones.
    sent = sent_counts(graph_log)
    sent[TOPICS["joy"]], sent[TOPICS["estop"]] = op.n_joy, 2 * ESTOP_TRIALS - 1
    missing = {k: sent.get(TOPICS[k], 0) - counts[k] for k in configured}
    gaps = np.diff(ticks) // 2 - 1  # LowState carries its own sequence (tick, +2 ms per 500 Hz message)
    print(f"bag counts {counts}; sent - recorded {missing}; LowState lost inside the bag {int(gaps.sum())}")
    assert all(counts[k] > 0 for k in configured), counts
    assert all(m >= 0 for m in missing.values()), ("the bag holds more than was sent", counts, sent)
    assert missing["joy"] == missing["estop"] == 0  # reliable, published only once everything matched
    # LowState carries its own sequence (tick 2 is sim_g1's first message, +2 per message), so the
    # bag can be checked message by message: it holds no message sim_g1 did not send, and between
    # its first and last LowState it lost at most 2 % (best effort at 500 Hz on 2 shared cores).
    # What sim_g1 sent before discovery paired it with the recorder, or after the recorder stopped,
    # is not in the bag: with another suite beside this one that was up to ~1 s at each end.
    span = (ticks[-1] - ticks[0]) // 2 + 1
    print(f"LowState: bag ticks {ticks[0]}..{ticks[-1]}, sim_g1 sent {sent[TOPICS['lowstate']]}")
    assert ticks[-1] // 2 <= sent[TOPICS["lowstate"]] and np.all(np.diff(ticks) > 0), (ticks[0], ticks[-1], sent)
    assert int(gaps.sum()) <= 0.02 * span + 2, ("LowState lost inside the bag", int(gaps.sum()), span)
    assert (ticks[-1] - ticks[0]) / 1000.0 >= 10.0
    # The rest may miss what was published before the recorder matched (joy_teleop and the bridge
    # heartbeat publish from the start) plus best-effort samples a loaded machine drops (the
    # LowState gaps above measure those: ~0.5 % at 500 Hz on the shared 2-core machine).
    # The recorder's own late start / early stop (measured exactly on LowState above) costs every
    # other stream the same fraction of its messages.
    ends_frac = 1.0 - span / sent[TOPICS["lowstate"]]
    for k, m in missing.items():
        if k == "lowstate":
            continue
        allowed = MISSED_AT_START.get(k, 0) + (BEST_EFFORT_LOSS + ends_frac) * sent[TOPICS[k]] + 2
        assert m <= allowed, (k, missing, counts, f"ends_frac {ends_frac:.3f}")
