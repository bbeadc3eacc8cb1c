"""The policy loop without ROS: observation from the latest inputs -> action -> joint targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from videomimic_offline.policy import observations as obs
from videomimic_offline.policy.exported import Policy, load_policy
from videomimic_offline.policy.layout import NUM_ACTIONS


class PolicyRunner:
    """Holds the history and last action; ``step`` returns targets (23) or NaNs on a bad action."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.layout = policy.layout
        self.history = obs.HistoryBuffer(self.layout.history)
        self.last_action = np.zeros(NUM_ACTIONS, dtype=np.float32)
        self.last_obs: np.ndarray | None = None

    @classmethod
    def from_file(cls, path: str | Path) -> PolicyRunner:
        """Load and check an exported student (raises IncompatibleError/InputError with what to do)."""
        return cls(load_policy(Path(path)))

    def reset(self) -> None:
        self.history.reset()
        self.last_action[:] = 0.0

    def step(
        self,
        joint_pos: np.ndarray,
        joint_vel: np.ndarray,
        ang_vel_b: np.ndarray,
        quat_wxyz: np.ndarray,
        command: np.ndarray,
        heightmap: np.ndarray | None,
    ) -> np.ndarray:
        frame = obs.proprio_frame(ang_vel_b, quat_wxyz, joint_pos, joint_vel, self.last_action)
        self.history.push(frame)
        o = obs.build_observation(self.layout, self.history, command, heightmap)
        self.last_obs = o
        action = np.asarray(self.policy.act(o[None]), dtype=np.float32).reshape(-1)
        if action.shape != (NUM_ACTIONS,) or not np.isfinite(action).all():
            self.reset()
            return np.full(NUM_ACTIONS, np.nan)
        self.last_action = action  # raw, as training's last_action term sees it
        return obs.action_to_targets(action)
