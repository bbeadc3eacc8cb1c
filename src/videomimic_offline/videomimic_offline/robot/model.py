"""Load the Unitree G1 MuJoCo model from the installed mjlab package (never downloaded).

Variants: ``"29dof"`` is the robot as shipped; ``"23dof"`` is the same robot with its six wrist
joints removed (the wrist bodies become rigidly attached at 0 rad), as the VideoMimic policy
drives it (kinematics only: every simulator simulates the 29-DoF robot, the wrists held by their PD as
on the real G1). The physics (armature, dry friction, contacts, PD actuators named after their joints,
solver options) is applied by :mod:`videomimic_offline.robot.physics`, the one owner of it.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Literal

from videomimic_offline.errors import BackendUnavailableError
from videomimic_offline.robot import g1, physics

Variant = Literal["29dof", "23dof"]


def g1_mjcf_path() -> Path:
    """Path of the G1 MJCF inside the installed mjlab package.

    Found without importing mjlab (which imports torch, warp and mediapy: seconds), so tools that only
    need the model file (the report, the deploy simulator) start fast.
    """
    spec = importlib.util.find_spec("mjlab")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailableError("mjlab is not installed: run `bash scripts/setup.sh`")
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "asset_zoo" / "robots" / "unitree_g1" / "xmls" / "g1.xml"
    if not path.is_file():
        raise BackendUnavailableError(f"G1 model not found at {path}: reinstall mjlab==1.6.0")
    return path


def g1_spec(variant: Variant = "29dof", actuators: bool = True, floor: bool = False):  # -> mujoco.MjSpec
    """An editable MjSpec of the G1 with its physics (add terrain, sensors or sites before compiling).

    Solver options are not set here (mjlab refuses an attached robot's options): a plain-MuJoCo
    simulator applies :func:`physics.apply_options` to its scene (``sim.terrain.scene_spec`` does).
    """
    import mujoco

    from videomimic_offline.robot.mujoco_log import route_warnings

    route_warnings()  # MuJoCo's warnings on stderr, not in a MUJOCO_LOG.TXT in the user's cwd
    spec = mujoco.MjSpec.from_file(str(g1_mjcf_path()))
    if variant == "23dof":
        for name in g1.LOCKED_JOINTS_23:
            spec.delete(spec.joint(name))
    elif variant != "29dof":
        raise ValueError(f"unknown G1 variant {variant!r}; use '29dof' or '23dof'")
    names = g1.JOINT_NAMES_23 if variant == "23dof" else g1.JOINT_NAMES_29
    physics.apply_joints(spec, names)
    physics.apply_collisions(spec)
    if actuators:
        physics.add_actuators(spec, names)
    if floor:
        geom = spec.worldbody.add_geom()
        geom.name = "floor"
        geom.type = mujoco.mjtGeom.mjGEOM_PLANE
        geom.size = [0, 0, 0.05]
    return spec


@lru_cache(maxsize=4)
def _cached_model(variant: Variant, actuators: bool, floor: bool):  # -> mujoco.MjModel
    spec = g1_spec(variant, actuators, floor)
    physics.apply_options(spec.option)
    return spec.compile()


def g1_model(variant: Variant = "29dof", actuators: bool = True, floor: bool = False):  # -> mujoco.MjModel
    """A compiled (cached, do not mutate) G1 model."""
    return _cached_model(variant, actuators, floor)


def joint_qpos_indices(model, names: tuple[str, ...]) -> list[int]:  # model: mujoco.MjModel
    """qpos address of each named hinge joint (the free joint takes qpos[0:7])."""
    import mujoco

    return [int(model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n)]) for n in names]
