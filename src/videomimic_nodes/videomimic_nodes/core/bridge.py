"""The G1 bridge's safety logic: state machine, watchdogs, clamping, e-stop, arming.

Pure Python with explicit timestamps, so tests drive it cycle by cycle. States::

    damping --stand--> stand (ramp to q0 over ramp_s) --policy--> policy
    any --damp / watchdog / NaN--> damping          any --estop--> estop (damping, latched)
    stand | policy --fall (IMU tilt beyond fall_tilt for fall_hold_s)--> damping

A fallen robot is not sent stand or policy targets: the motors would fight the floor. While the
torso is still tilted beyond the limit the bridge also refuses a new stand request.

``damping`` and ``estop`` command kp = 0 and kd = DAMPING_KD on every joint (the robot sags
softly). Nothing at all is commanded until the bridge is armed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
from videomimic_offline.robot import g1

from videomimic_nodes.core.fall import Held, tilt_of
from videomimic_nodes.core.lowcmd import NUM_SLOTS, MotorArrays


class Mode(enum.StrEnum):
    DAMPING = "damping"
    STAND = "stand"
    POLICY = "policy"
    ESTOP = "estop"


@dataclass
class BridgeConfig:
    """Timeouts in seconds; the defaults are a few 50 Hz control cycles."""

    lowstate_timeout: float = 0.04
    policy_timeout: float = 0.06
    ramp_s: float = 2.0
    fall_tilt: float = 1.0  # rad (57 deg) of pelvis tilt from the IMU; <= 0 disables fall detection
    fall_hold_s: float = 0.1  # s the tilt must last (5 control cycles): a bump is not a fall
    damping_kd: float = g1.DAMPING_KD
    kp: np.ndarray = field(default_factory=lambda: g1.as_array(g1.KP, g1.JOINT_NAMES_29))
    kd: np.ndarray = field(default_factory=lambda: g1.as_array(g1.KD, g1.JOINT_NAMES_29))


_Q0_29 = g1.as_array(g1.DEFAULT_POSE, g1.JOINT_NAMES_29)
_LO_29, _HI_29 = g1.limits_array(g1.JOINT_NAMES_29)
_IDX23 = g1.MOTOR_INDEX_23
_N = len(g1.JOINT_NAMES_29)


class BridgeCore:
    """Decides the motor command from robot state, policy targets, buttons and the e-stop."""

    def __init__(self, config: BridgeConfig | None = None, armed: bool = False) -> None:
        self.cfg = config or BridgeConfig()
        self.armed = armed
        self.mode = Mode.DAMPING
        self.reason = "start"
        self.q = np.zeros(_N)
        self.dq = np.zeros(_N)
        self.t_state: float | None = None
        self.targets: np.ndarray | None = None  # (29,) clamped, wrists 0
        self.t_targets: float | None = None
        self._ramp_from = _Q0_29.copy()
        self._t_ramp = 0.0
        self.transitions: list[tuple[float, Mode, str]] = []
        self.estop_asserted = False
        self.tilt = 0.0  # rad, latest IMU tilt
        self.falls = 0
        self._tilted = Held(self.cfg.fall_hold_s)

    # ---- inputs -------------------------------------------------------------------------------
    def on_state(self, q: np.ndarray, dq: np.ndarray, now: float) -> None:
        """Joint state (motor order, >= 29 slots) from LowState."""
        q, dq = np.asarray(q, dtype=np.float64)[:_N], np.asarray(dq, dtype=np.float64)[:_N]
        if q.shape != (_N,) or dq.shape != (_N,) or not (np.isfinite(q).all() and np.isfinite(dq).all()):
            self._to(Mode.DAMPING, now, "non-finite or short LowState")
            return
        self.q, self.dq, self.t_state = q, dq, now

    def on_targets(self, targets23: np.ndarray, now: float) -> None:
        """Policy joint targets (23, ``g1.JOINT_NAMES_23`` order); NaN drops to damping."""
        t = np.asarray(targets23, dtype=np.float64).reshape(-1)
        if t.shape != (len(_IDX23),) or not np.isfinite(t).all():
            self.targets = None
            if self.mode == Mode.POLICY:
                self._to(Mode.DAMPING, now, "NaN or malformed policy targets")
            return
        full = np.zeros(_N)
        full[_IDX23] = t
        self.targets, self.t_targets = np.clip(full, _LO_29, _HI_29), now

    def on_imu(self, quat_wxyz: np.ndarray, now: float) -> bool:
        """Pelvis orientation from LowState's IMU; returns True when this sample detected a fall."""
        tilt = tilt_of(quat_wxyz)
        if not np.isfinite(tilt):
            return False  # a broken quaternion is not a fall; the joint-state checks guard the rest
        self.tilt = tilt
        held = self.cfg.fall_tilt > 0 and self._tilted.update(tilt > self.cfg.fall_tilt, now)
        if held and self.mode in (Mode.STAND, Mode.POLICY):
            self.falls += 1
            self._to(Mode.DAMPING, now, f"fall detected: pelvis tilt {np.degrees(tilt):.0f} deg beyond "
                                        f"{np.degrees(self.cfg.fall_tilt):.0f} deg for {self.cfg.fall_hold_s:.2f} s")  # fmt: skip
            return True
        return False

    def tilted(self) -> bool:
        """The torso is tilted beyond the fall limit now."""
        return self.cfg.fall_tilt > 0 and self.tilt > self.cfg.fall_tilt

    def request(self, mode: Mode, now: float) -> bool:
        """An operator request (button); returns whether it was accepted."""
        if self.mode == Mode.ESTOP and (mode != Mode.DAMPING or self.estop_asserted):
            return False  # leave the e-stop only to damping, and only once the e-stop topic is released
        if mode == Mode.STAND:
            if self.mode != Mode.DAMPING or not self._state_fresh(now) or self.tilted():
                return False
            self._ramp_from, self._t_ramp = self.q.copy(), now
        elif mode == Mode.POLICY and (not self.ramp_done(now) or not self._targets_fresh(now)):
            return False
        self._to(mode, now, "operator")
        return True

    def set_estop(self, on: bool, now: float, source: str = "topic") -> None:
        """E-stop is latched: releasing it only allows a later request back to damping.

        The e-stop topic holds the robot in ``estop`` while it reads true; a joystick e-stop
        (``source="button"``) latches until the operator requests damping.
        """
        if source == "topic":
            self.estop_asserted = on
        if on:
            self._to(Mode.ESTOP, now, f"e-stop ({source})")

    # ---- per cycle ----------------------------------------------------------------------------
    def tick(self, now: float) -> Mode:
        """Run the watchdogs; call at least once per control cycle."""
        if self.mode in (Mode.STAND, Mode.POLICY) and not self._state_fresh(now):
            self._to(Mode.DAMPING, now, "stale LowState")
        if self.mode == Mode.POLICY and not self._targets_fresh(now):
            self._to(Mode.DAMPING, now, "stale policy targets")
        return self.mode

    def command(self, now: float) -> MotorArrays | None:
        """The 35-slot motor command for this instant, or None when not armed."""
        if not self.armed:
            return None
        self.tick(now)
        m = MotorArrays.zeros()
        m.mode[:_N] = 1
        if self.mode in (Mode.DAMPING, Mode.ESTOP):
            m.kd[:_N] = self.cfg.damping_kd
            return m
        if self.mode == Mode.STAND:
            a = min(1.0, (now - self._t_ramp) / self.cfg.ramp_s) if self.cfg.ramp_s > 0 else 1.0
            q = self._ramp_from + a * (_Q0_29 - self._ramp_from)
        else:
            q = self.targets if self.targets is not None else _Q0_29
        m.q[:_N] = np.clip(q, _LO_29, _HI_29)
        m.kp[:_N], m.kd[:_N] = self.cfg.kp, self.cfg.kd
        assert m.q.shape == (NUM_SLOTS,)
        return m

    def ramp_done(self, now: float) -> bool:
        return self.mode == Mode.STAND and now - self._t_ramp >= self.cfg.ramp_s

    # ---- helpers ------------------------------------------------------------------------------
    def _state_fresh(self, now: float) -> bool:
        return self.t_state is not None and now - self.t_state <= self.cfg.lowstate_timeout

    def _targets_fresh(self, now: float) -> bool:
        return (
            self.targets is not None and self.t_targets is not None and now - self.t_targets <= self.cfg.policy_timeout
        )

    def _to(self, mode: Mode, now: float, reason: str) -> None:
        if mode != self.mode:
            self.mode, self.reason = mode, reason
            self.transitions.append((now, mode, reason))


class ButtonEdges:
    """Rising edges of Joy buttons (a held button fires once)."""

    def __init__(self) -> None:
        self._prev: list[int] = []

    def update(self, buttons: list[int] | tuple[int, ...]) -> set[int]:
        prev = self._prev + [0] * (len(buttons) - len(self._prev))
        self._prev = list(buttons)
        return {i for i, b in enumerate(buttons) if b and not prev[i]}
