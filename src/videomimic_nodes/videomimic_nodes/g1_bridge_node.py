"""g1_bridge: LowState -> JointState + Imu; policy targets -> LowCmd (gains + CRC), with safety.

The safety logic lives in :class:`core.bridge.BridgeCore`; this shell feeds it messages and the
clock, and publishes LowCmd on every LowState (the robot's 500 Hz) once armed. A 50 Hz timer runs
the watchdogs and keeps sending damping when LowState stops. The e-stop callback commands damping
immediately, without waiting for the next cycle. A fall (the IMU's tilt beyond ``fall_tilt`` for
``fall_hold_s``) drops to damping at once and is logged and published on /vm/events (recorded).
"""

from __future__ import annotations

import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import Imu, JointState, Joy
from std_msgs.msg import Bool, String
from unitree_hg.msg import LowCmd, LowState
from videomimic_offline.robot import g1

from videomimic_nodes.core.bridge import BridgeConfig, BridgeCore, ButtonEdges, Mode
from videomimic_nodes.core.lowcmd import MotorArrays, cdr_from_record, pack_lowcmd
from videomimic_nodes.core.teleop import remote_to_joy
from videomimic_nodes.ros_common import TOPIC_QOS, Events, Params, counted, now_s, params, run, topic_param
from videomimic_nodes.unitree_msgs import LOWCMD, LOWSTATE

N_G1 = len(g1.JOINT_NAMES_29)

_D = BridgeConfig()
PARAMS: Params = {
    "sim": (False, "set by the launch file: the robot is sim_g1"),
    "arm_on_start": (False, "send motor commands from the start (real robot: arm with the joystick instead)"),
    "sim_auto_arm": (True, "with sim true the bridge arms itself"),
    "arm_buttons": ([4, 5], "Joy buttons held together to arm (LB + RB)"),
    "button_stand": (7, "Joy button: stand, ramp to the default pose (START)"),
    "button_policy": (0, "Joy button: run the policy, after the ramp (A)"),
    "button_damp": (6, "Joy button: damping (BACK)"),
    "button_estop": (1, "Joy button: emergency stop, latched damping (B)"),
    "lowstate_timeout": (_D.lowstate_timeout, "s: LowState older than this in stand/policy -> damping"),
    "policy_timeout": (_D.policy_timeout, "s: targets older than this in policy -> damping"),
    "ramp_s": (_D.ramp_s, "s: stand ramp to the default pose"),
    "fall_tilt": (_D.fall_tilt, "rad: pelvis tilt (IMU) that, held, is a fall -> damping; <= 0: off"),
    "fall_hold_s": (_D.fall_hold_s, "s the tilt must last to count as a fall"),
    "control_hz": (50.0, "Hz: watchdog timer (motor commands follow LowState)"),
    "state_decimation": (1, "publish JointState/Imu every N LowState"),
    "remote_to_joy": (False, "publish the G1's own wireless remote as /joy"),
}


class G1Bridge(Node):
    def __init__(self) -> None:
        super().__init__("g1_bridge")
        p = params(self, PARAMS)
        self.p = p
        armed = bool(p["arm_on_start"]) or (bool(p["sim"]) and bool(p["sim_auto_arm"]))
        cfg = BridgeConfig(lowstate_timeout=p["lowstate_timeout"], policy_timeout=p["policy_timeout"],
                           ramp_s=p["ramp_s"], fall_tilt=p["fall_tilt"], fall_hold_s=p["fall_hold_s"])  # fmt: skip
        self.core = BridgeCore(cfg, armed=armed)
        self.edges = ButtonEdges()
        self.mode_machine = 0
        self._n_state = 0
        self._last_mode: Mode | None = None
        q = TOPIC_QOS
        self.pub_cmd = counted(self.create_publisher(LowCmd, topic_param(self, "lowcmd"), q["lowcmd"]))
        self.pub_js = counted(self.create_publisher(JointState, topic_param(self, "joint_states"), q["joint_states"]))
        self.pub_imu = counted(self.create_publisher(Imu, topic_param(self, "imu"), q["imu"]))
        self.pub_state = counted(self.create_publisher(String, topic_param(self, "bridge_state"), q["bridge_state"]))
        self.events = Events(self)  # falls and every mode change, with their reasons (recorded)
        joy_topic = topic_param(self, "joy")
        self.pub_joy = counted(self.create_publisher(Joy, joy_topic, q["joy"])) if p["remote_to_joy"] else None
        self._remote_prev: bytes = b""
        self._t_remote = 0.0
        self.create_subscription(LowState, topic_param(self, "lowstate"), self.on_lowstate, q["lowstate"], raw=True)
        self.create_subscription(JointState, topic_param(self, "joint_targets"), self.on_targets, q["joint_targets"])
        self.create_subscription(Joy, joy_topic, self.on_joy, q["joy"])
        self.create_subscription(Bool, topic_param(self, "estop"), self.on_estop, q["estop"])
        self.create_timer(1.0 / p["control_hz"], self.on_timer)
        self.create_timer(0.2, lambda: self.publish_state(force=True))
        self._js = JointState(name=list(g1.JOINT_NAMES_29))
        self._imu = Imu()
        self._imu.header.frame_id = "pelvis"
        self._t_timer_cmd = 0.0
        self._state_tick = -1  # the robot's own clock (LowState.tick, ms) at the newest LowState taken
        self.get_logger().info(f"g1_bridge up ({'armed' if armed else 'NOT armed: no motor commands'}), mode damping")
        self.publish_state(force=True)

    # ---- callbacks ----------------------------------------------------------------------------
    def on_lowstate(self, raw: bytes) -> None:
        """Taken as serialized bytes (core/cdr.py): rclpy's LowState objects cost ~370 us of the
        500 Hz budget before this node had done anything."""
        now = now_s(self)
        try:
            data = LOWSTATE.check(raw)
        except ValueError as exc:
            self.get_logger().error(f"malformed LowState ignored: {exc}", throttle_duration_sec=1.0)
            return
        q = LOWSTATE.get(data, "motor_state.q")[:29].astype(np.float64)
        dq = LOWSTATE.get(data, "motor_state.dq")[:29].astype(np.float64)
        self.mode_machine = int(LOWSTATE.get(data, "mode_machine"))
        self._state_tick = int(LOWSTATE.get(data, "tick"))
        self.core.on_state(q, dq, now)
        fell = self.core.on_imu(LOWSTATE.get(data, "imu_state.quaternion").astype(np.float64), now)
        self.send(now)  # the motor command first: it is the latency-critical output
        if fell:
            self.events.report("fall", f"{self.core.reason}: damping", level="error",
                               tilt_deg=float(np.degrees(self.core.tilt)))  # fmt: skip
        if self.pub_joy is not None:
            self.republish_remote(LOWSTATE.get(data, "wireless_remote").tobytes(), now)
        self._n_state += 1
        if self._n_state % max(1, int(self.p["state_decimation"])) == 0:
            self.publish_joint_state(data, q, dq)

    def on_targets(self, msg: JointState) -> None:
        now = now_s(self)
        names = list(msg.name)
        pos = np.asarray(msg.position, dtype=np.float64)
        if names and names != list(g1.JOINT_NAMES_23):
            try:
                pos = np.array([pos[names.index(n)] for n in g1.JOINT_NAMES_23])
            except (ValueError, IndexError):
                self.get_logger().error(
                    "joint targets without all 23 policy joints: ignored", throttle_duration_sec=1.0
                )
                pos = np.full(23, np.nan)
        if not np.isfinite(pos).all() or pos.shape != (23,):
            self.get_logger().error("NaN / malformed policy targets -> damping", throttle_duration_sec=1.0)
        self.core.on_targets(pos, now)
        self.publish_state()

    def on_joy(self, msg: Joy) -> None:
        now = now_s(self)
        buttons = list(msg.buttons)
        pressed = self.edges.update(buttons)
        p = self.p
        arm = [int(b) for b in p["arm_buttons"]]
        if not self.core.armed and arm and all(b < len(buttons) and buttons[b] for b in arm):
            self.core.armed = True
            self.get_logger().warning("ARMED by joystick: motor commands start (damping)")
        for button, mode in ((p["button_estop"], None), (p["button_damp"], Mode.DAMPING),
                             (p["button_stand"], Mode.STAND), (p["button_policy"], Mode.POLICY)):  # fmt: skip
            if button in pressed:
                if mode is None:
                    self.core.set_estop(True, now, source="button")
                elif not self.core.request(mode, now):
                    why = " (the robot is down: torso tilted beyond the fall limit)" if self.core.tilted() else ""
                    self.get_logger().warning(f"request {mode.value} refused in mode {self.core.mode.value}{why}")
        self.publish_state()
        self.send(now)

    def on_estop(self, msg: Bool) -> None:
        now = now_s(self)
        self.core.set_estop(bool(msg.data), now)
        if msg.data:  # the robot's tick dates the e-stop in robot time (the simulator logs when it damps)
            self.get_logger().error(f"E-STOP: damping (robot tick {self._state_tick} when it came in)")
        self.send(now)  # damping now, not at the next LowState
        self.publish_state()

    def on_timer(self) -> None:
        now = now_s(self)
        self.core.tick(now)
        self.publish_state()
        if self.core.t_state is None or now - self.core.t_state > self.core.cfg.lowstate_timeout:
            self.send(now)  # LowState stopped: keep the robot damped from here

    # ---- outputs ------------------------------------------------------------------------------
    def send(self, now: float) -> None:
        m = self.core.command(now)
        self.publish_state()
        if m is None:
            return
        self.pub_cmd.publish(self.to_cdr(m))

    def to_cdr(self, m: MotorArrays) -> bytes:
        """The serialized LowCmd (CRC included), written from the arrays without building 35
        MotorCmd objects (core/cdr.py); slots 29-34 stay zero."""
        return cdr_from_record(LOWCMD, pack_lowcmd(m, mode_pr=0, mode_machine=self.mode_machine))

    def republish_remote(self, raw: bytes, now: float) -> None:
        """The G1's own remote as sensor_msgs/Joy (on change, and at 20 Hz so teleop sees it alive)."""
        if raw == self._remote_prev and now - self._t_remote < 0.05:
            return
        try:
            axes, buttons = remote_to_joy(raw)
        except ValueError as exc:
            self.get_logger().error(f"wireless_remote ignored: {exc}", throttle_duration_sec=5.0)
            return
        self._remote_prev, self._t_remote = raw, now
        msg = Joy(axes=axes, buttons=buttons)
        msg.header.stamp = self.get_clock().now().to_msg()
        self.pub_joy.publish(msg)

    def publish_joint_state(self, data: np.ndarray, q: np.ndarray, dq: np.ndarray) -> None:
        stamp = self.get_clock().now().to_msg()
        js = self._js
        js.header.stamp = stamp
        js.position, js.velocity = q.tolist(), dq.tolist()
        js.effort = LOWSTATE.get(data, "motor_state.tau_est")[:29].astype(np.float64).tolist()
        self.pub_js.publish(js)
        imu = self._imu
        imu.header.stamp = stamp
        w, x, y, z = LOWSTATE.get(data, "imu_state.quaternion").tolist()
        imu.orientation.w, imu.orientation.x, imu.orientation.y, imu.orientation.z = w, x, y, z
        g = LOWSTATE.get(data, "imu_state.gyroscope").tolist()
        imu.angular_velocity.x, imu.angular_velocity.y, imu.angular_velocity.z = g
        a = imu.linear_acceleration
        a.x, a.y, a.z = LOWSTATE.get(data, "imu_state.accelerometer").tolist()
        self.pub_imu.publish(imu)

    def publish_state(self, force: bool = False) -> None:
        if force or self.core.mode != self._last_mode:
            if self.core.mode != self._last_mode:
                self.events.report("mode", f"mode -> {self.core.mode.value} ({self.core.reason})", level="info",
                                   mode=self.core.mode.value, reason=self.core.reason)  # fmt: skip
            self._last_mode = self.core.mode
            self.pub_state.publish(String(data=self.core.mode.value))


def main() -> None:
    run(G1Bridge, events_executor=True)
