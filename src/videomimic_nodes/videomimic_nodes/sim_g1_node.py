"""sim_g1: a MuJoCo G1 on the robot's own topics (LowState/LowCmd), plus a MID-360 and odometry.

Physics runs in its own thread, paced to the wall clock (real time, or ``realtime_factor`` times
it); if the machine cannot keep up, simulated time falls behind rather than jumping, and the
node logs it. LowCmd with a wrong CRC is dropped, as the robot's firmware drops it. The robot
starts at ``spawn`` on known terrain, hung from a gantry; the node reports (log + /vm/events, so
bags keep it) where it spawned, and when the robot leaves the known terrain, falls or gets up.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import rclpy
from nav_msgs.msg import Odometry
from rclpy._rclpy_pybind11 import RCLError
from rclpy.node import Node
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import String
from unitree_hg.msg import LowCmd, LowState
from videomimic_offline.contracts.heightfield import read_heightfield
from videomimic_offline.errors import InputError
from videomimic_offline.robot import physics
from videomimic_offline.sim.terrain import step_heightfield

from videomimic_nodes.core.cloud import pose_matrix, xyz_to_cloud2_fields
from videomimic_nodes.core.lowcmd import lowcmd_crc, record_from_cdr, record_to_arrays
from videomimic_nodes.core.sim import LidarConfig, SimConfig, SimG1
from videomimic_nodes.core.sim_watch import SimWatch, WatchConfig
from videomimic_nodes.core.spawn import resolve_spawn
from videomimic_nodes.core.stall import Stall, StallWatch
from videomimic_nodes.ros_common import TOPIC_QOS, Events, Params, counted, params, run, topic_param
from videomimic_nodes.shutdown import STOP
from videomimic_nodes.unitree_msgs import LOWCMD, LOWSTATE

PARAMS: Params = {
    "scene": ("", "scene folder or heightfield.npz of a reconstruction; empty: flat ground and a step"),
    "spawn": (
        "",
        "where the robot starts: a robot_motion.npz (its first frame), x,y[,yaw] (m, m, rad), or empty "
        "(the origin if it is on known terrain, else the nearest known spot)",
    ),
    "step_x": (0.35, "default scene: m from the origin to the step edge"),
    "step_height": (0.1, "default scene: m, height of the step"),
    "physics_dt": (
        physics.DEPLOY_SIM_TIMESTEP,
        "s: physics and PD step (robot/physics.py: 500 Hz, like the G1's motor drivers)",
    ),
    "lowstate_decimation": (1, "publish LowState every N physics steps (1: 500 Hz, as the robot)"),
    "odom_hz": (50.0, "Hz: true odometry of torso_link"),
    "realtime_factor": (1.0, "simulated seconds per wall-clock second"),
    "gantry": (True, "hang the pelvis from a gantry at the start"),
    "gantry_release_s": (-1.0, "s of simulated time after which the gantry lets go (<= 0: never by time)"),
    "release_gantry_on_policy": (True, "let go when the bridge enters policy mode"),
    "lidar_points_per_scan": (20000, "simulated MID-360 points per scan (the real one: 20000)"),
    "lidar_hz": (10.0, "Hz: scans"),
    "lidar_mount_xyz": ([0.0, 0.0, 0.4], "m: LiDAR origin in torso_link (keep equal to lidar_ingest's mount)"),
    "lidar_mount_rpy": ([3.14159265, 0.35, 0.0], "rad: LiDAR orientation in torso_link"),
    "lidar_noise_std": (0.01, "m: range noise"),
    "lidar_frame": ("livox_frame", "frame_id of the clouds"),
    "fall_tilt": (WatchConfig.fall_tilt, "rad: reported as a fall when the pelvis stays tilted beyond this"),
    "fall_height": (WatchConfig.fall_height, "m: ... or stays this low above the lowest ground nearby"),
    "stall_report_s": (
        0.05,
        "s: a physics pause longer than this is reported with its cause (CPU wait, own work, GIL)",
    ),
    "max_cpu": (0.7, "fraction of a core the simulator may take when it cannot keep real time (it then runs slower)"),
    "seed": (0, "LiDAR noise seed"),
}


class SimG1Node(Node):
    def __init__(self) -> None:
        super().__init__("sim_g1")
        p = params(self, PARAMS)
        self.p = p
        scene = str(p["scene"]).strip()
        field = read_heightfield(scene) if scene else step_heightfield(p["step_x"], p["step_height"])
        lidar = LidarConfig(points_per_scan=int(p["lidar_points_per_scan"]), scan_hz=float(p["lidar_hz"]),
                            noise_std=float(p["lidar_noise_std"]),
                            T_torso_lidar=pose_matrix(np.array(p["lidar_mount_xyz"]), np.array(p["lidar_mount_rpy"])))  # fmt: skip
        cfg = SimConfig(physics_dt=float(p["physics_dt"]), gantry=bool(p["gantry"]),
                        gantry_release_s=float(p["gantry_release_s"]), lidar=lidar)  # fmt: skip
        if cfg.physics_dt <= 0 or cfg.physics_dt > 0.01:
            raise InputError(f"physics_dt {cfg.physics_dt} s is outside (0, 0.01]; PD needs a fast physics rate")
        spawn = resolve_spawn(field, str(p["spawn"]))
        STOP.check()  # building the model takes seconds: not after a Ctrl-C
        self.sim = SimG1(cfg, field, seed=int(p["seed"]), spawn=spawn)
        self.watch = SimWatch(field, WatchConfig(fall_tilt=float(p["fall_tilt"]), fall_height=float(p["fall_height"])))
        self.events = Events(self)
        q = TOPIC_QOS
        self.pub_state = counted(self.create_publisher(LowState, topic_param(self, "lowstate"), q["lowstate"]))
        self.pub_odom = counted(self.create_publisher(Odometry, topic_param(self, "odom"), q["odom"]))
        self.pub_cloud = counted(
            self.create_publisher(PointCloud2, topic_param(self, "lidar_points"), q["lidar_points"])
        )
        self.create_subscription(LowCmd, topic_param(self, "lowcmd"), self.on_lowcmd, q["lowcmd"], raw=True)
        self.create_subscription(String, topic_param(self, "bridge_state"), self.on_bridge_state, q["bridge_state"])
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._state = LOWSTATE.new()
        LOWSTATE.put(self._state, "mode_machine", 5)
        self._tick = 0
        self.n_bad_crc = 0
        self._damping = True  # the robot starts unpowered
        self.fatal: str | None = None
        self._thread = threading.Thread(target=self.physics, name="physics", daemon=True)
        self._thread.start()
        self.get_logger().info(f"sim_g1 up: scene {scene or 'default step'}, physics {1 / cfg.physics_dt:.0f} Hz")
        x, y = (float(v) for v in spawn.xy)
        self.events.report("spawn", f"robot spawned at {spawn.describe()}", level="info", x=x, y=y,
                           yaw=float(spawn.yaw), ground_z=float(spawn.ground_z),
                           stand_torso_height=self.sim.stand_torso_height, scene=scene)  # fmt: skip

    def on_lowcmd(self, raw: bytes) -> None:
        try:
            rec = record_from_cdr(LOWCMD, raw)
        except ValueError as exc:
            self.get_logger().error(f"malformed LowCmd dropped: {exc}", throttle_duration_sec=1.0)
            return
        if lowcmd_crc(rec) != int(rec["crc"]):
            self.n_bad_crc += 1
            self.get_logger().error("LowCmd with a wrong CRC dropped (as the firmware does)", throttle_duration_sec=1.0)
            return
        arrays = record_to_arrays(rec)
        with self._lock:
            self.sim.set_command(arrays)
            tick = self._tick
        damping = not np.any(arrays.kp[:29])
        if damping and not self._damping:  # when the robot itself starts damping, in its own (sim) time
            self.get_logger().info(f"damping from tick {tick}")
        self._damping = damping

    def on_bridge_state(self, msg: String) -> None:
        if msg.data == "policy" and self.p["release_gantry_on_policy"] and self.sim.gantry_on:
            with self._lock:
                self.sim.release_gantry()
            self.get_logger().info("gantry released (bridge in policy mode)")

    # ---- physics thread -----------------------------------------------------------------------
    def physics(self) -> None:
        """The physics thread: a failure ends the node (exit 1), never leaves a frozen robot behind."""
        try:
            self.loop()
        except Exception as exc:  # noqa: BLE001 - reported and turned into the node's exit
            self.fatal = f"sim_g1 physics thread failed: {exc!r}"
            self.get_logger().error(self.fatal)
            STOP.request()

    def loop(self) -> None:
        dt = self.sim.cfg.physics_dt
        rtf = max(float(self.p["realtime_factor"]), 1e-3)
        dec = max(1, int(self.p["lowstate_decimation"]))
        odom_every = max(1, int(round(1.0 / (float(self.p["odom_hz"]) * dt))))
        scan_every = max(1, int(round(1.0 / (float(self.p["lidar_hz"]) * dt))))
        max_cpu = min(max(float(self.p["max_cpu"]), 0.05), 1.0)
        t0 = time.monotonic()
        sim0 = self.sim.time
        step = 0
        behind_logged = 0.0
        stalls = StallWatch(float(self.p["stall_report_s"]))
        while not self._stop.is_set():
            if (stall := stalls.tick()) is not None:
                self.report_stall(stall)
            t_step = time.thread_time()
            with self._lock:
                self.sim.step()
            step += 1
            try:
                if step % dec == 0:
                    self.publish_lowstate(step)
                if step % odom_every == 0:
                    self.publish_odom()
                    self.watch_robot()
                if step % scan_every == 0:
                    self.publish_scan()
            except RCLError:
                if not rclpy.ok():
                    return  # shutting down (Ctrl-C): the context went away under us
                raise
            target = t0 + (self.sim.time - sim0) / rtf
            lag = time.monotonic() - target
            if lag < 0:
                time.sleep(-lag)
            else:
                # Catching up. Rest in proportion to the step's CPU time, so the simulator (SCHED_FIFO
                # in sim.yaml) takes at most max_cpu of a core and the nodes it feeds, and the
                # recorder, keep running when the machine cannot keep up: simulated time falls behind
                # instead. The rest also hands the GIL to the ROS thread between steps, so a LowCmd is
                # applied at the next step as on the robot, not after a burst of steps.
                time.sleep((time.thread_time() - t_step) * (1.0 / max_cpu - 1.0))
            if lag > 0.05:  # cannot keep up: let simulated time fall behind instead of bursting
                t0 += lag
                if time.monotonic() - behind_logged > 5.0:
                    behind_logged = time.monotonic()
                    self.get_logger().warning(f"simulation {lag * 1000:.0f} ms behind real time")

    def report_stall(self, stall: Stall) -> None:
        """A pause of the robot's clock, with its cause: on a busy machine this says whether the
        simulator was starved of a CPU or held up inside its own process (issue: stale LowState)."""
        with self._lock:
            t = self.sim.time
        self.events.report("physics_stall", f"physics {stall.describe()}", t_sim=t, gap_ms=stall.gap_ms,
                           cpu_wait_ms=stall.cpu_wait_ms, own_cpu_ms=stall.own_cpu_ms,
                           process_cpu_ms=stall.process_cpu_ms)  # fmt: skip

    def publish_lowstate(self, step: int) -> None:
        q, dq, tau = self.sim.joint_state29()
        quat, gyro, acc = self.sim.imu()
        data, put = self._state, LOWSTATE.put
        self._tick = (step * int(self.sim.cfg.physics_dt * 1e6) // 1000) & 0xFFFFFFFF
        put(data, "tick", self._tick)
        put(data, "imu_state.quaternion", quat)
        put(data, "imu_state.gyroscope", gyro)
        put(data, "imu_state.accelerometer", acc)
        for field, values in (("q", q), ("dq", dq), ("tau_est", tau)):  # slots 29-34 (no motor) stay 0
            put(data, f"motor_state.{field}", np.pad(values[:29], (0, LOWSTATE.leaves["motor_state.q"].shape[0] - 29)))
        self.pub_state.publish(data.tobytes())

    def watch_robot(self) -> None:
        """Report leaving the known terrain, falls and getting up (simulated time)."""
        with self._lock:
            pos, quat = self.sim.pelvis_pose()
            t = self.sim.time
        for r in self.watch.update(t, pos, quat):
            x, y, z = (float(v) for v in pos)
            self.events.report(r.kind, r.text, level="info" if r.kind in ("on_terrain", "upright") else "warning",
                               t_sim=t, x=x, y=y, z=z)  # fmt: skip

    def publish_odom(self) -> None:
        pos, quat, lin, ang = self.sim.torso_pose()
        msg = Odometry()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id, msg.child_frame_id = "odom", "torso_link"
        pp, po = msg.pose.pose.position, msg.pose.pose.orientation
        pp.x, pp.y, pp.z = (float(v) for v in pos)
        po.w, po.x, po.y, po.z = (float(v) for v in quat)
        tl, ta = msg.twist.twist.linear, msg.twist.twist.angular
        tl.x, tl.y, tl.z = (float(v) for v in lin)
        ta.x, ta.y, ta.z = (float(v) for v in ang)
        self.pub_odom.publish(msg)

    def publish_scan(self) -> None:
        with self._lock:
            scan = self.sim.take_scan()
            sim_now = self.sim.time
        if scan is None or len(scan[0]) == 0:
            return
        xyz, t_sim, _ = scan
        now = self.get_clock().now()
        t_abs_ns = now.nanoseconds - (sim_now - t_sim) * 1e9  # Livox xfer_format 0: absolute ns per point
        n = len(xyz)
        fields, data, step = xyz_to_cloud2_fields(
            xyz, {"intensity": np.full(n, 100.0, np.float32), "timestamp": t_abs_ns.astype(np.float64)}
        )
        msg = PointCloud2()
        msg.header.stamp = now.to_msg()
        msg.header.frame_id = str(self.p["lidar_frame"])
        msg.height, msg.width = 1, n
        msg.fields = [PointField(name=k, offset=o, datatype=d, count=1) for k, o, d in fields]
        msg.is_bigendian, msg.point_step, msg.row_step, msg.is_dense = False, step, step * n, True
        msg.data = data
        self.pub_cloud.publish(msg)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)


def main() -> None:
    run(SimG1Node, events_executor=True)
