"""Load the Unitree G1 MuJoCo model from the installed mjlab package (never downloaded).

Variants: ``"29dof"`` is the robot as shipped; ``"23dof"`` is the same robot with its six wrist
joints removed (the wrist bodies become rigidly attached at 0 rad), as the VideoMimic policy
drives it. Actuators, when requested, are torque motors named after their joints with
``ctrlrange`` = the effort limits in :mod:`videomimic_offline.robot.g1`; PD control is computed by
the caller at the physics rate (as the real motor drivers do), so sim and hardware share gains.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from videomimic_offline.errors import BackendUnavailableError
from videomimic_offline.robot import g1

Variant = Literal["29dof", "23dof"]


def g1_mjcf_path() -> Path:
    """Path of the G1 MJCF inside the installed mjlab package."""
    try:
        root = resources.files("mjlab") / "asset_zoo" / "robots" / "unitree_g1" / "xmls" / "g1.xml"
    except ModuleNotFoundError as exc:
        raise BackendUnavailableError("mjlab is not installed: run `bash scripts/setup.sh`") from exc
    path = Path(str(root))
    if not path.is_file():
        raise BackendUnavailableError(f"G1 model not found at {path}: reinstall mjlab==1.6.0")
    return path


def g1_spec(variant: Variant = "23dof", actuators: bool = True, floor: bool = False):  # -> mujoco.MjSpec
    """An editable MjSpec of the G1 (add terrain, sensors or sites before compiling)."""
    import mujoco

    spec = mujoco.MjSpec.from_file(str(g1_mjcf_path()))
    if variant == "23dof":
        for name in g1.LOCKED_JOINTS_23:
            spec.delete(spec.joint(name))
    elif variant != "29dof":
        raise ValueError(f"unknown G1 variant {variant!r}; use '29dof' or '23dof'")
    names = g1.JOINT_NAMES_23 if variant == "23dof" else g1.JOINT_NAMES_29
    if actuators:
        for name in names:
            act = spec.add_actuator()
            act.name = name
            act.target = name
            act.trntype = mujoco.mjtTrn.mjTRN_JOINT
            act.gainprm[0] = 1.0
            limit = g1.EFFORT_LIMITS[name]
            act.ctrlrange = [-limit, limit]
            act.ctrllimited = True
    if floor:
        geom = spec.worldbody.add_geom()
        geom.name = "floor"
        geom.type = mujoco.mjtGeom.mjGEOM_PLANE
        geom.size = [0, 0, 0.05]
    spec.option.timestep = g1.SIM_DT
    return spec


@lru_cache(maxsize=4)
def _cached_model(variant: Variant, actuators: bool, floor: bool):  # -> mujoco.MjModel
    return g1_spec(variant, actuators, floor).compile()


def g1_model(variant: Variant = "23dof", actuators: bool = True, floor: bool = False):  # -> mujoco.MjModel
    """A compiled (cached, do not mutate) G1 model."""
    return _cached_model(variant, actuators, floor)


def joint_qpos_indices(model, names: tuple[str, ...]) -> list[int]:  # model: mujoco.MjModel
    """qpos address of each named hinge joint (the free joint takes qpos[0:7])."""
    import mujoco

    return [int(model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n)]) for n in names]
