"""Joint PD at the physics rate, as the G1's motor drivers do it.

The G1 model's actuators are plain torque motors (see ``robot.model``); the motor driver computes
``tau = tau_ff + kp (q* - q) + kd (dq* - dq)`` every physics step from the latest command, clipped
to the effort limit. The simulated robot and training's sim2sim check share this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from videomimic_offline.robot import g1
from videomimic_offline.robot.model import joint_qpos_indices


@dataclass
class MotorCommand:
    """Per-joint command for the actuated joints (arrays in the model's actuator order)."""

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


@dataclass
class JointPD:
    """PD over the named joints of a compiled model; ``apply`` writes ``data.ctrl``."""

    model: object  # mujoco.MjModel
    names: tuple[str, ...] = g1.JOINT_NAMES_23
    qpos_idx: np.ndarray = field(init=False)
    qvel_idx: np.ndarray = field(init=False)
    effort: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        import mujoco

        self.qpos_idx = np.array(joint_qpos_indices(self.model, self.names))
        jids = [mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, n) for n in self.names]
        self.qvel_idx = np.array([int(self.model.jnt_dofadr[j]) for j in jids])
        self.act_idx = np.array([mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_ACTUATOR, n) for n in self.names])
        self.effort = g1.as_array(g1.EFFORT_LIMITS, self.names)

    def torques(self, data, cmd: MotorCommand) -> np.ndarray:  # data: mujoco.MjData
        q = data.qpos[self.qpos_idx]
        dq = data.qvel[self.qvel_idx]
        tau = cmd.tau + cmd.kp * (cmd.q - q) + cmd.kd * (cmd.dq - dq)
        tau = np.where(cmd.enabled & np.isfinite(tau), tau, 0.0)
        return np.clip(tau, -self.effort, self.effort)

    def apply(self, data, cmd: MotorCommand) -> np.ndarray:
        tau = self.torques(data, cmd)
        data.ctrl[self.act_idx] = tau
        return tau
