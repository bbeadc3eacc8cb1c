"""A scripted gamepad: timed button/axis states for unattended simulation runs (main job, demos).

The script is a YAML file: ``steps`` is a list of ``{t: seconds, buttons: [indices held],
axes: {index: value}}``; each step's state holds from its ``t`` until the next step's. Indices
follow the ROS joy node's Xbox layout that ``config/deploy.yaml`` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from videomimic_offline.errors import ConfigError


@dataclass(frozen=True)
class JoyStep:
    t: float
    buttons: tuple[int, ...] = ()
    axes: tuple[tuple[int, float], ...] = ()


class JoyScript:
    """State of the scripted gamepad at a time since start."""

    def __init__(self, steps: list[JoyStep], num_axes: int = 8, num_buttons: int = 17) -> None:
        if not steps or any(b.t < a.t for a, b in zip(steps, steps[1:])):
            raise ConfigError("joy script: 'steps' must be a non-empty list in increasing time order")
        self.steps, self.num_axes, self.num_buttons = steps, num_axes, num_buttons
        for s in steps:
            if any(not 0 <= b < num_buttons for b in s.buttons) or any(not 0 <= a < num_axes for a, _ in s.axes):
                raise ConfigError(f"joy script: step at t={s.t} uses a button/axis index outside the gamepad")

    @classmethod
    def load(cls, path: Path) -> JoyScript:
        """Read a script file, with one clear error for a missing or malformed file."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"joy script {path} not found")
        try:
            data = yaml.safe_load(path.read_text())
            steps = [JoyStep(float(s["t"]), tuple(int(b) for b in s.get("buttons", [])),
                             tuple((int(k), float(v)) for k, v in (s.get("axes") or {}).items()))
                     for s in data["steps"]]  # fmt: skip
        except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"joy script {path} is malformed ({exc}); see config/joy_demo.yaml") from exc
        return cls(steps)

    @property
    def duration(self) -> float:
        return self.steps[-1].t

    def index_at(self, t: float) -> int:
        """Index of the step in force at ``t`` (-1 before the first)."""
        return max((i for i, step in enumerate(self.steps) if step.t <= t), default=-1)

    def state(self, t: float) -> tuple[list[float], list[int]]:
        """(axes, buttons) at ``t`` seconds since start (all released before the first step)."""
        return self.step_state(self.index_at(t))

    def step_state(self, index: int) -> tuple[list[float], list[int]]:
        """(axes, buttons) of step ``index`` (-1: all released)."""
        axes, buttons = [0.0] * self.num_axes, [0] * self.num_buttons
        if index >= 0:
            for b in self.steps[index].buttons:
                buttons[b] = 1
            for a, v in self.steps[index].axes:
                axes[a] = v
        return axes, buttons

    def states_since(self, last_index: int, t: float) -> tuple[list[tuple[list[float], list[int]]], int]:
        """Every step's state from the one after ``last_index`` up to the one in force at ``t``, in order,
        and that step's index: a player that was held up (a busy machine) still plays each press and
        release once, instead of jumping over a short press."""
        now = self.index_at(t)
        return [self.step_state(i) for i in range(last_index + 1, now + 1)] or [self.step_state(now)], now
