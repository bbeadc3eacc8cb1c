"""The G1's physics, owned once: what every simulator of the robot simulates.

Training (mjlab on MuJoCo Warp), the deploy simulator ``sim_g1``, ``sim2sim`` and retargeting's
model all load the G1 through :func:`videomimic_offline.robot.model.g1_spec`, which applies what is
below; training hands mjlab that same spec and wraps the actuators defined here. A policy is thereby
trained on the robot it is checked on. (A public G1 walking policy that walked in its authors' MuJoCo
model fell within 2 s on our deploy simulator while it still had torque motors, no armature and the
MJCF's default contacts.) Numbers that are facts of the robot live in :mod:`~videomimic_offline.robot.g1`.

- **Joints**: armature = the motors' reflected inertia (``g1.ARMATURE``); dry friction
  :data:`FRICTIONLOSS`; position ranges from the MJCF (a test checks them against ``g1.JOINT_LIMITS``).
- **Actuators**: the motor driver's PD, ``tau = kp (q* - q) + kd (dq* - dq) + tau_ff`` clamped to
  the effort limit, as one MuJoCo position actuator per joint (gain ``kp``, bias ``-kp q - kd dq``,
  force range = effort limit). The ``kd`` term is then integrated implicitly (``implicitfast``), which
  keeps the ankles' low-inertia PD stable at 200 Hz; the gains in the model are the nominal ones
  (``g1.KP``/``g1.KD``), and the deploy simulator writes each LowCmd's own gains into it
  (:mod:`videomimic_offline.sim.pd`).
- **Contacts**: every ``*_collision`` geom collides, self-collisions included. The 14 foot capsules
  have full friction (condim 3, :data:`FOOT_FRICTION`, priority 1 so that theirs is used against any
  ground); the others are frictionless bumpers (condim 1), which costs less and only matters once
  the robot has already fallen.
- **Solver**: :data:`OPTIONS` (timestep ``g1.SIM_DT``, implicitfast, pyramidal cone, 10 Newton and 20
  line-search iterations: converged for a standing or walking robot, and what training can afford).
"""

from __future__ import annotations

import re
from typing import Any

from videomimic_offline.robot import g1

#: Dry joint friction [N m] (MuJoCo frictionloss) per joint. Unitree does not publish one for the G1's
#: joints; 0 is what training has always used, kept here so that every simulator agrees on it.
FRICTIONLOSS: dict[str, float] = {n: 0.0 for n in g1.JOINT_NAMES_29}

COLLISION_GEOMS = r".*_collision$"
FOOT_GEOMS = r"^(left|right)_foot[1-7]_collision$"
#: Sliding friction of the feet against any ground (their priority makes it the contact's friction).
FOOT_FRICTION = 0.6

#: MuJoCo options, named as mjlab's ``MujocoCfg`` fields (training passes them as they are). The
#: timestep is the policy's physics step (``g1.SIM_DT``, decimation ``g1.DECIMATION``).
OPTIONS: dict[str, Any] = {
    "timestep": g1.SIM_DT,
    "integrator": "implicitfast",
    "cone": "pyramidal",
    "iterations": 10,
    "ls_iterations": 20,
    "ccd_iterations": 50,
}


#: Physics step [s] of the deploy simulator ``sim_g1``: the G1's LowState rate (500 Hz), since sim_g1
#: publishes one LowState per step as the robot does. Same model on a finer step: tests/robot/test_physics.py
#: bounds what it changes (a few 0.01 rad of transient after a step in the targets, none in steady state).
DEPLOY_SIM_TIMESTEP = 0.002


def apply_joints(spec, names: tuple[str, ...]) -> None:  # spec: mujoco.MjSpec
    """Armature and dry friction of the named hinge joints."""
    for name in names:
        joint = spec.joint(name)
        joint.armature = g1.ARMATURE[name]
        joint.frictionloss = FRICTIONLOSS[name]


def apply_collisions(spec) -> None:  # spec: mujoco.MjSpec
    """Contact set-up of the robot's collision geoms (see the module docstring)."""
    foot, any_collision = re.compile(FOOT_GEOMS), re.compile(COLLISION_GEOMS)
    for geom in spec.geoms:
        if not any_collision.match(geom.name or ""):
            continue
        geom.contype, geom.conaffinity = 1, 1
        if foot.match(geom.name):
            geom.condim, geom.priority = 3, 1
            geom.friction[0] = FOOT_FRICTION
        else:
            geom.condim, geom.priority = 1, 0


def add_actuators(spec, names: tuple[str, ...]) -> None:  # spec: mujoco.MjSpec
    """One PD position actuator per named joint, with the nominal gains and the effort limit."""
    import mujoco

    for name in names:
        act = spec.add_actuator(name=name, target=name)
        act.trntype = mujoco.mjtTrn.mjTRN_JOINT
        act.set_to_position(kp=g1.KP[name], kv=g1.KD[name])
        act.ctrllimited = False  # targets beyond the joint range still push (force is what is limited)
        limit = g1.EFFORT_LIMITS[name]
        act.forcelimited = True
        act.forcerange = [-limit, limit]


def apply_options(opt) -> None:  # opt: mujoco.MjOption or a spec's option
    """Set :data:`OPTIONS` on a compiled model's ``opt`` or a spec's ``option``."""
    import mujoco

    opt.timestep = OPTIONS["timestep"]
    opt.integrator = getattr(mujoco.mjtIntegrator, f"mjINT_{OPTIONS['integrator'].upper()}")
    opt.cone = getattr(mujoco.mjtCone, f"mjCONE_{OPTIONS['cone'].upper()}")
    opt.iterations = OPTIONS["iterations"]
    opt.ls_iterations = OPTIONS["ls_iterations"]
    opt.ccd_iterations = OPTIONS["ccd_iterations"]


def metadata() -> dict[str, Any]:
    """The physics a policy was trained on, as JSON: recorded in exported policies (provenance)."""
    names = g1.JOINT_NAMES_29
    return {
        "model": "mjlab 1.6.0 asset_zoo unitree_g1/xmls/g1.xml, 29 DoF",
        "joint_names": list(names),
        "armature": [g1.ARMATURE[n] for n in names],
        "frictionloss": [FRICTIONLOSS[n] for n in names],
        "effort_limit": [g1.EFFORT_LIMITS[n] for n in names],
        "foot_friction": FOOT_FRICTION,
        "decimation": g1.DECIMATION,
        **OPTIONS,
    }
