"""The G1's motor drivers in simulation: each command's PD law, applied by the model's PD actuators.

A G1 motor driver computes ``tau = tau_ff + kp (q* - q) + kd (dq* - dq)``, clipped to the effort
limit, from the latest LowCmd. The model's actuators (:mod:`videomimic_offline.robot.physics`) are
MuJoCo position actuators, ``force = gain * ctrl + b1 q + b2 dq`` clamped to the effort limit.
:class:`JointPD` sets ``gain = 1, b1 = -kp, b2 = -kd, ctrl = tau_ff + kp q* + kd dq*``: the driver's
law exactly, with the ``kd`` term integrated implicitly as in training (where ``gain = kp, ctrl = q*``
gives the same force). A motor that is off (mode 0) or commanded with a non-finite value gives no torque.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from videomimic_offline.robot import g1
from videomimic_offline.robot.model import joint_qpos_indices


@dataclass
class MotorCommand:
    """Per-joint command for the actuated joints (arrays in the order of :attr:`JointPD.names`)."""

    q: np.ndarray
    dq: np.ndarray
    tau: np.ndarray
    kp: np.ndarray
    kd: np.ndarray
    enabled: np.ndarray  # bool: mode 1 (FOC) vs 0 (brake: zero torque)

    @classmethod
    def zero(cls, n: int) -> MotorCommand:
        z = np.zeros(n)
        return cls(z.copy(), z.copy(), z.copy(), z.copy(), z.copy(), np.zeros(n, dtype=bool))

    @classmethod
    def hold(cls, q: np.ndarray, names: tuple[str, ...] = g1.JOINT_NAMES_29) -> MotorCommand:
        """Targets ``q`` with the policy's gains (``g1.KP``/``g1.KD``), every motor on."""
        n = len(names)
        return cls(np.asarray(q, dtype=np.float64).copy(), np.zeros(n), np.zeros(n),
                   g1.as_array(g1.KP, names), g1.as_array(g1.KD, names), np.ones(n, dtype=bool))  # fmt: skip


@dataclass
class JointPD:
    """The named joints' motor drivers on a compiled model with the G1's PD actuators."""

    model: object  # mujoco.MjModel (its actuator gains are rewritten per command: not a shared one)
    names: tuple[str, ...] = g1.JOINT_NAMES_29
    qpos_idx: np.ndarray = field(init=False)
    qvel_idx: np.ndarray = field(init=False)
    act_idx: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        import mujoco

        m = self.model
        self.qpos_idx = np.array(joint_qpos_indices(m, self.names))
        jids = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, n) for n in self.names]
        self.qvel_idx = np.array([int(m.jnt_dofadr[j]) for j in jids])
        self.act_idx = np.array([mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_ACTUATOR, n) for n in self.names])
        if (self.act_idx < 0).any():
            raise ValueError(f"model lacks PD actuators for {[n for n, a in zip(self.names, self.act_idx) if a < 0]}")
        m.actuator_gainprm[self.act_idx, 0] = 1.0  # driver form: ctrl carries tau_ff + kp q* + kd dq*

    def apply(self, data, cmd: MotorCommand) -> None:  # data: mujoco.MjData
        """Set the command's PD law on the actuators (takes effect from the next ``mj_step``)."""
        with np.errstate(invalid="ignore", over="ignore"):  # a NaN or inf anywhere makes the sum non-finite
            on = np.asarray(cmd.enabled, dtype=bool) & np.isfinite(cmd.q + cmd.dq + cmd.tau + cmd.kp + cmd.kd)
            kp, kd = np.where(on, cmd.kp, 0.0), np.where(on, cmd.kd, 0.0)
            ctrl = np.where(on, cmd.tau + kp * cmd.q + kd * cmd.dq, 0.0)
        self.model.actuator_biasprm[self.act_idx, 1] = -kp
        self.model.actuator_biasprm[self.act_idx, 2] = -kd
        data.ctrl[self.act_idx] = ctrl

    def torques(self, data) -> np.ndarray:
        """Joint torques [N m] the drivers applied in the last step (after the effort clamp)."""
        return data.actuator_force[self.act_idx].copy()
