"""One G1 physics: training (mjlab, MuJoCo Warp) and the deploy simulator (sim_g1's core, MuJoCo) are
the same robot, shown by driving both with the same open-loop PD targets from the same state.

Tolerances, from measurement (2-core CPU, Warp CPU device) and from what each one must catch:
- In the air (no contact) the only difference left is Warp's float32 against MuJoCo's float64: the
  joints agree to 4e-7 rad over 0.5 s. Bound: 1e-4 rad. The deploy simulator as it was before this
  physics had one owner (no motor armature) is 0.09 rad off here, 900x the bound.
- Standing on the clip's heightfield, contacts differ by construction: MuJoCo Warp makes at most one
  contact per heightfield-capsule pair where MuJoCo makes several, so the 14 foot capsules push
  differently. Joints agree to 0.023 rad over the first 0.5 s (targets sweep +-0.15 rad around the
  default pose; the joints move 0.7 rad). Bound: 0.05 rad. It still catches a physics mismatch:
  the MJCF's default foot friction (1.0 instead of 0.6) gives 0.07 rad, no armature 0.23 rad.
The base pose is not compared: once contacts differ it may drift (here it stays within 2 mm).
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch
from videomimic_nodes.core.lowcmd import MotorArrays
from videomimic_nodes.core.sim import LidarConfig, SimConfig, SimG1
from videomimic_offline.contracts.heightfield import read_heightfield
from videomimic_offline.robot import g1, physics

AIR_TOL = 1e-4
GROUND_TOL = 0.05


def test_armature_is_the_reflected_motor_inertia_mjlab_uses() -> None:
    from mjlab.asset_zoo.robots.unitree_g1 import g1_constants as mj

    expect = {"left_hip_pitch_joint": mj.ARMATURE_7520_14, "left_knee_joint": mj.ARMATURE_7520_22,
              "left_ankle_roll_joint": 2 * mj.ARMATURE_5020, "waist_pitch_joint": 2 * mj.ARMATURE_5020,
              "left_elbow_joint": mj.ARMATURE_5020, "left_wrist_yaw_joint": mj.ARMATURE_4010}  # fmt: skip
    for name, value in expect.items():
        assert g1.ARMATURE[name] == pytest.approx(value, rel=1e-12), name


def _hfield_pos(model: mujoco.MjModel) -> np.ndarray:
    """Lowest corner of the model's terrain: its one heightfield (training's patch) or the tiles the
    deploy simulator splits it into (``sim.terrain.add_heightfield_tiles``): each tile sits at its
    own centre and its own lowest height, so the whole field's corner is the least over the tiles."""
    geoms = [i for i in range(model.ngeom) if model.geom_type[i] == mujoco.mjtGeom.mjGEOM_HFIELD]
    assert geoms, "no heightfield in the model"
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    half = np.array([model.hfield_size[model.geom_dataid[g]][:2] for g in geoms])
    corners = data.geom_xpos[geoms, :2] - half
    return np.array([corners[:, 0].min(), corners[:, 1].min(), data.geom_xpos[geoms, 2].min()])


def _command(targets23: np.ndarray) -> MotorArrays:
    """What the bridge sends in policy mode: the policy's targets, wrists held at 0, the G1's gains."""
    m = MotorArrays.zeros()
    m.mode[:29] = 1
    m.q[g1.MOTOR_INDEX_23] = targets23
    m.kp[:29], m.kd[:29] = g1.as_array(g1.KP, g1.JOINT_NAMES_29), g1.as_array(g1.KD, g1.JOINT_NAMES_29)
    return m


def _same_robot_fields(train: mujoco.MjModel, sim: mujoco.MjModel) -> None:
    """Every physical parameter of the robot is equal in both compiled models (names differ by mjlab's prefix)."""

    def tid(obj: mujoco.mjtObj, name: str) -> int:
        i = mujoco.mj_name2id(train, obj, f"robot/{name}")
        assert i >= 0, name
        return i

    for f in ("timestep", "integrator", "cone", "iterations", "ls_iterations", "ccd_iterations", "impratio"):
        assert getattr(train.opt, f) == pytest.approx(getattr(sim.opt, f)), f
    for j in g1.JOINT_NAMES_29:
        a, b = train.jnt_dofadr[tid(mujoco.mjtObj.mjOBJ_JOINT, j)], sim.jnt_dofadr[sim.joint(j).id]
        for f in ("dof_armature", "dof_frictionloss", "dof_damping"):
            assert getattr(train, f)[a] == pytest.approx(getattr(sim, f)[b]), (f, j)
        a, b = tid(mujoco.mjtObj.mjOBJ_ACTUATOR, j), sim.actuator(j).id
        assert np.allclose(train.actuator_forcerange[a], sim.actuator_forcerange[b]), j
    for i in range(sim.ngeom):
        name = sim.geom(i).name
        if not name.endswith("_collision"):
            continue
        a = tid(mujoco.mjtObj.mjOBJ_GEOM, name)
        for f in ("geom_friction", "geom_condim", "geom_priority", "geom_contype", "geom_conaffinity",
                  "geom_solref", "geom_solimp", "geom_margin", "geom_size"):  # fmt: skip
            assert np.allclose(getattr(train, f)[a], getattr(sim, f)[i]), (f, name)


@pytest.mark.slow
def test_training_env_and_deploy_sim_follow_the_same_pd_targets(flat_teacher_env, data) -> None:
    env, base = flat_teacher_env, flat_teacher_env.unwrapped
    for term in ("link_drift", "anchor_ori"):  # env 1 is lifted into the air: keep it from being reset
        base.termination_manager.get_term_cfg(term).params["threshold"] = 1e3
    wd = base.sim.data
    wd.qpos[1, 2] += 2.0
    wd.qvel[1, :] = 0.0
    base.sim.forward()

    field = read_heightfield(data["clip"].parent / "heightfield.npz")
    cfg = SimConfig(physics_dt=physics.OPTIONS["timestep"], gantry=False, lidar=LidarConfig(points_per_scan=100))
    sims = [SimG1(cfg, field), SimG1(cfg, field)]  # on the ground (env 0), in the air (env 1)
    _same_robot_fields(base.sim.mj_model, sims[0].model)
    offset = _hfield_pos(base.sim.mj_model) - _hfield_pos(sims[0].model)  # training's patch vs the scene frame
    for k, sim in enumerate(sims):
        sim.data.qpos[:] = wd.qpos[k].numpy()
        sim.data.qpos[:3] -= offset
        sim.data.qvel[:] = wd.qvel[k].numpy()
        mujoco.mj_forward(sim.model, sim.data)

    robot = base.scene["robot"]
    assert tuple(robot.joint_names) == g1.JOINT_NAMES_29
    q0 = g1.as_array(g1.DEFAULT_POSE)
    rng = np.random.default_rng(0)
    freq, phase = rng.uniform(0.5, 2.0, 23), rng.uniform(0.0, 2 * np.pi, 23)
    q_train, q_sim = [], []
    for k in range(int(round(0.5 / g1.CONTROL_DT))):
        targets = q0 + 0.15 * np.sin(2 * np.pi * freq * k * g1.CONTROL_DT + phase)
        _, _, dones, _ = env.step(torch.tensor((targets - q0) / g1.ACTION_SCALE, dtype=torch.float32).repeat(2, 1))
        assert not dones.any(), "the training env reset an env mid-comparison"
        q_train.append(robot.data.joint_pos.numpy().astype(np.float64))
        for sim in sims:
            sim.set_command(_command(targets))
            for _ in range(g1.DECIMATION):
                sim.step()
        q_sim.append(np.stack([sim.joint_state29()[0] for sim in sims]))
    q_train, q_sim = np.array(q_train), np.array(q_sim)  # (steps, env, 29)
    assert np.abs(q_train - q_train[:1]).max() > 0.3  # the targets really moved the joints
    err = np.abs(q_train - q_sim).max(axis=(0, 2))
    assert err[1] < AIR_TOL, f"in the air the joints differ by {err[1]:.2e} rad (float32 alone: ~4e-7)"
    assert err[0] < GROUND_TOL, f"on the ground the joints differ by {err[0]:.3f} rad in 0.5 s"
