"""Observation layout of the deployed student (and its blind variant), as VideoMimic defined it.

Training builds observations with :func:`videomimic_offline.policy.observations` helpers that
follow this layout, export stores it in the policy's metadata, and the policy node refuses a file
whose layout differs. Order of the flat student observation vector::

    history (5 x 75, newest first) | command (3) | heightmap (121, row-major, optional)

with each 75-d proprio frame = ang_vel_b x0.25 (3) | projected_gravity_b (3) | q - q0 (23)
| dq x0.05 (23) | last_action (23).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from videomimic_offline.robot import g1

NUM_ACTIONS = len(g1.JOINT_NAMES_23)
PROPRIO_TERMS: tuple[tuple[str, int, float], ...] = (
    ("ang_vel_b", 3, 0.25),
    ("projected_gravity_b", 3, 1.0),
    ("joint_pos_rel", NUM_ACTIONS, 1.0),
    ("joint_vel", NUM_ACTIONS, 0.05),
    ("last_action", NUM_ACTIONS, 1.0),
)
PROPRIO_DIM = sum(n for _, n, _ in PROPRIO_TERMS)  # 75
COMMAND_DIM = 3  # torso xy in the heading frame (m), relative yaw (rad)
HEIGHTMAP_DIM = g1.HEIGHTMAP_SHAPE[0] * g1.HEIGHTMAP_SHAPE[1]  # 121

#: Version of this layout; bump on any change so old policies are refused, not misread.
LAYOUT_VERSION = 1


@dataclass(frozen=True)
class StudentLayout:
    """Sizes and scales of the student observation; ``heightmap=False`` is the blind variant."""

    history: int = g1.HISTORY_LENGTH
    heightmap: bool = True
    version: int = LAYOUT_VERSION

    @property
    def dim(self) -> int:
        """Length of the flat observation vector."""
        return self.history * PROPRIO_DIM + COMMAND_DIM + (HEIGHTMAP_DIM if self.heightmap else 0)

    def to_dict(self) -> dict[str, object]:
        """JSON-able description stored in exported policy metadata."""
        return {
            **asdict(self),
            "dim": self.dim,
            "proprio_terms": [list(t) for t in PROPRIO_TERMS],
            "command_dim": COMMAND_DIM,
            "heightmap_shape": list(g1.HEIGHTMAP_SHAPE),
            "heightmap_resolution": g1.HEIGHTMAP_RESOLUTION,
            "order": ["history_newest_first", "command", "heightmap"]
            if self.heightmap
            else ["history_newest_first", "command"],
        }
