"""The G1 constants (one source of truth) agree with the installed robot model."""

from __future__ import annotations

import json

import mujoco
import numpy as np
import pytest
from videomimic_offline.policy.layout import StudentLayout
from videomimic_offline.robot import g1
from videomimic_offline.robot.model import g1_model, joint_qpos_indices


def _hinges(model: mujoco.MjModel) -> list[str]:
    return [model.joint(i).name for i in range(model.njnt) if model.jnt_type[i] == mujoco.mjtJoint.mjJNT_HINGE]


def test_joint_order_is_the_model_and_motor_order() -> None:
    assert _hinges(g1_model("29dof", actuators=False)) == list(g1.JOINT_NAMES_29)
    assert _hinges(g1_model("23dof", actuators=False)) == list(g1.JOINT_NAMES_23)
    assert len(g1.JOINT_NAMES_23) == 23 and not any("wrist" in n for n in g1.JOINT_NAMES_23)
    assert [g1.JOINT_NAMES_29[i] for i in g1.MOTOR_INDEX_23] == list(g1.JOINT_NAMES_23)


def test_limits_match_the_mjcf() -> None:
    model = g1_model("29dof", actuators=False)
    for name in g1.JOINT_NAMES_29:
        lo, hi = model.joint(name).range
        assert (lo, hi) == pytest.approx(g1.JOINT_LIMITS[name], abs=1e-5), name


def test_default_pose_is_within_limits_and_as_videomimic() -> None:
    lo, hi = g1.limits_array()
    q0 = g1.as_array(g1.DEFAULT_POSE)
    assert np.all(q0 >= lo) and np.all(q0 <= hi)
    assert q0[g1.JOINT_NAMES_23.index("left_knee_joint")] == 0.3
    assert g1.KP["left_ankle_pitch_joint"] == 20.0 and g1.KD["left_ankle_roll_joint"] == 0.1
    assert pytest.approx(50.0) == g1.CONTROL_HZ


def test_actuators_are_the_pd_with_effort_limits_and_armature() -> None:
    model = g1_model("23dof", actuators=True)
    assert model.nu == 23
    for i, name in enumerate(g1.JOINT_NAMES_23):
        assert model.actuator(i).name == name
        assert model.actuator_forcerange[i] == pytest.approx([-g1.EFFORT_LIMITS[name], g1.EFFORT_LIMITS[name]])
        kp, kd = g1.KP[name], g1.KD[name]
        assert model.actuator_gainprm[i, 0] == kp and tuple(model.actuator_biasprm[i, :3]) == (0.0, -kp, -kd)
        assert model.dof_armature[model.jnt_dofadr[model.joint(name).id]] == pytest.approx(g1.ARMATURE[name])
    assert joint_qpos_indices(model, g1.JOINT_NAMES_23) == list(range(7, 30))


def test_links_exist_in_the_model() -> None:
    model = g1_model("23dof", actuators=False)
    names = {model.body(i).name for i in range(model.nbody)}
    for link in (*g1.TRACKED_LINKS, *g1.FOOT_LINKS, g1.TORSO_LINK, g1.ROOT_LINK):
        assert link in names, link


def test_default_pose_stands_on_the_floor() -> None:
    """In the default pose at DEFAULT_PELVIS_HEIGHT the foot capsules touch the floor (within 1 cm)."""
    model = g1_model("23dof", actuators=False, floor=True)
    data = mujoco.MjData(model)
    data.qpos[2] = g1.DEFAULT_PELVIS_HEIGHT
    data.qpos[3] = 1.0
    data.qpos[7:] = g1.as_array(g1.DEFAULT_POSE)
    mujoco.mj_kinematics(model, data)
    feet = [i for i in range(model.ngeom) if "foot" in (model.geom(i).name or "")]
    assert len(feet) == 14
    lowest = min(data.geom_xpos[i][2] - model.geom_size[i][0] for i in feet)  # capsule bottoms
    assert abs(lowest) < 0.01


def test_metadata_is_json_and_layout_dims() -> None:
    meta = json.loads(json.dumps(g1.metadata()))
    assert meta["joint_names"] == list(g1.JOINT_NAMES_23)
    assert StudentLayout().dim == 5 * 75 + 3 + 121
    assert StudentLayout(heightmap=False).dim == 5 * 75 + 3
