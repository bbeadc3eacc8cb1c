"""Retargeting settings: the one place their defaults live (see :mod:`videomimic_offline.settings`).

:class:`RetargetConfig` is what :func:`retarget.pipeline.retarget` takes; the ``retarget`` tool's
command line, its cache key and the ``retarget_config.json`` saved beside its outputs all come
from it (the tool adds its inputs and output folder, :class:`retarget.tool.RetargetTool`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

from videomimic_offline.errors import ConfigError


@dataclass(frozen=True)
class Weights:
    """Per-frame solve cost weights (relative). Feet dominate, as in VideoMimic (end-effector 5, skating 10)."""

    #: Ankle position of a swinging foot.
    foot: float = 50.0
    #: Ankle position of a planted foot (pinned on the surface the person stood on: :class:`StanceConfig`).
    foot_contact: float = 200.0
    #: Orientation of a planted foot (flat on the ground); stronger fights the ankle-pitch limit and slides.
    foot_rot_contact: float = 2.0
    #: Orientation of a swinging foot (roll and pitch only).
    foot_rot_swing: float = 0.005
    #: Pelvis height.
    pelvis_z: float = 5.0
    #: Pelvis horizontal position.
    pelvis_xy: float = 2.0
    #: Pelvis position on, onto and off a seat (``seat_contact``, retarget/seat.py): pinned as a planted foot.
    pelvis_seat: float = 200.0
    #: Factor on the leg bone directions while seated: a shorter robot cannot copy them and still
    #: reach the floor from a seat made for the person.
    seated_leg: float = 0.1
    #: Bone directions (human bones at robot lengths).
    vector: float = 10.0
    #: Acceleration: pull towards the constant-velocity prediction from the two previous frames.
    smooth: float = 0.1
    #: Velocity: pull towards the previous frame; anchors joints the keypoints do not determine.
    velocity: float = 0.005
    #: Prior towards the default posture (observed joints).
    posture: float = 1e-4
    #: Prior towards the default posture for wrists, ankle roll and shoulder yaw (not determined by the
    #: 18 keypoints; shoulder yaw not while the elbow is straight).
    posture_unobserved: float = 1e-2
    #: Levenberg-Marquardt damping of each Gauss-Newton step.
    damping: float = 1e-3


@dataclass(frozen=True)
class RefineWeights:
    """Whole-clip refinement terms, relative to :class:`Weights` (residuals per frame at 50 fps)."""

    #: Joint acceleration (temporal smoothness).
    accel: float = 5.0
    #: Joint velocity (anchors unobservable joints).
    velocity: float = 0.005
    #: Planted-foot slide: far above the tracking weights, so a stop does not drift the stance.
    slide: float = 1e4
    #: Stiffness of a held terrain / self-collision row (below the limit pins).
    constraint: float = 1e5
    #: A constraint row broken by more than this (m) is held.
    constraint_tol: float = 1e-4
    #: Terrain rows are linearised within this distance (m): a whole-clip step is larger than a per-frame one.
    terrain_activation: float = 0.15
    #: Self-collision rows are linearised within this distance (m).
    collision_activation: float = 0.06
    #: Use the dilated terrain. Off: beside a riser it holds a point up at the upper tread, a row no
    #: small step can satisfy, which the stiff hold turns into a wild step.
    dilated: bool = False
    #: Terrain points along each long edge of a sole.
    sole_points: int = 6
    #: Self-collision pairs within margin + this (m) are pushed apart ...
    cushion: float = 0.01
    #: ... with this weight, so the hard rows rarely have to act.
    cushion_weight: float = 1e2
    #: A frame whose soles go deeper than this (m) is reverted to the per-frame answer ...
    fallback_penetration: float = 0.005
    #: ... blended over this many frames each side.
    fallback_blend: int = 3
    #: Levenberg-Marquardt damping (a trust region: steps stay near the linearisation).
    damping: float = 1.0
    #: Stiffness holding a joint at the limit it would cross.
    limit_pin: float = 1e6
    #: Active-set rounds per iteration (banded re-solves, no new linearisation).
    active_rounds: int = 10


@dataclass(frozen=True)
class ContactConfig:
    """Foot-contact detection, used only for a motion that carries no contact labels (BVH, AMASS)."""

    #: A planted foot's ankle is slower than this (m/s).
    max_speed: float = 0.35
    #: A planted foot's ankle is at most this far (m) above its resting height over the ground.
    max_height: float = 0.04
    #: Contacts shorter than this many frames (at 50 fps) are dropped.
    min_frames: int = 3


@dataclass(frozen=True)
class StanceConfig:
    """Footholds at the robot's proportions: each planted foot moves toward the pelvis within its own surface."""

    #: Move footholds (and the pelvis path) so the stance matches the person's scaled to the robot.
    enabled: bool = True
    #: The robot's sole keeps this far (m) from the edges of the surface the person stood on.
    margin: float = 0.03
    #: A foothold moves at most this far (m) from where the person stood: it bounds how far the
    #: robot's path strays from the person's on a large surface (a floor), where a stance scaled
    #: whole would shift the footholds by (1 - scale) times the distance walked.
    max_shift: float = 0.15
    #: Search step (m) for the surface's extent around a foothold.
    step: float = 0.01
    #: Smoothness of the pelvis path's shift (weight on its second difference per 50 fps frame).
    smooth: float = 30.0
    #: Pull of the pelvis path towards the person's (fixes the shift where no foot is planted).
    prior: float = 0.01


@dataclass(frozen=True)
class RetargetConfig:
    """How a human motion becomes a G1 motion."""

    #: Gauss-Newton steps per frame (each warm-started from the previous frame); a frame whose last
    #: step still moved more than ``solver.CONVERGED_STEP`` takes up to ``solver.EXTRA_ITERS`` more.
    iterations: int = 2
    #: Add the whole-clip refinement: about half the joint acceleration, often less penetration and
    #: slide, for a few mm more keypoint error and ~3x the solve time.
    refine: bool = False
    #: Gauss-Newton iterations of the whole-clip refinement.
    refine_iterations: int = 3
    #: 23dof holds the six wrist joints at 0, as the VideoMimic policy's robot has them.
    variant: Literal["29dof", "23dof"] = "29dof"
    weights: Weights = field(default_factory=Weights)
    refine_weights: RefineWeights = field(default_factory=RefineWeights)
    contacts: ContactConfig = field(default_factory=ContactConfig)
    stance: StanceConfig = field(default_factory=StanceConfig)

    def __post_init__(self) -> None:
        if self.iterations < 1 or self.refine_iterations < 1:
            raise ConfigError("iterations and refine_iterations must be >= 1")
        for group in (self.weights, self.refine_weights, self.contacts, self.stance):
            bad = [f.name for f in dataclasses.fields(group) if getattr(group, f.name) < 0]
            if bad:
                raise ConfigError(f"{type(group).__name__}: {', '.join(bad)} must be >= 0")
