"""Sim2sim: run the exported student in plain MuJoCo on a reconstructed terrain.

Nothing from training's code is reused on purpose: the scene and motor drivers come from
:mod:`videomimic_offline.sim` (what the simulated robot uses), the observation from
:mod:`videomimic_offline.policy.observations` (what the policy node uses), the policy from the exported
file. The robot's physics is the one training simulates (:mod:`videomimic_offline.robot.physics`), so
a policy that only works inside mjlab (a layout, frame or scale mismatch) shows up here as a fall or
a drift, not a different robot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from videomimic_offline.policy import observations as pobs
from videomimic_offline.policy.exported import load_policy
from videomimic_offline.robot import g1


def run_sim2sim(
    policy_path: Path,
    terrain: Path | None = None,
    seconds: float = 5.0,
    command: tuple[float, float, float] = (0.0, 0.0, 0.0),
    start_xy: tuple[float, float] = (0.0, 0.0),
    progress: bool = True,
    png: Path | None = None,
) -> dict[str, Any]:
    """Run the policy for ``seconds`` with a constant root command; report fall, drift and timings."""
    import mujoco
    from tqdm import tqdm

    from videomimic_offline.contracts.heightfield import read_heightfield
    from videomimic_offline.robot.model import joint_qpos_indices
    from videomimic_offline.sim.pd import JointPD, MotorCommand
    from videomimic_offline.sim.terrain import scene_spec, step_heightfield

    policy = load_policy(Path(policy_path))
    field = read_heightfield(terrain) if terrain is not None else step_heightfield()
    model = scene_spec(field).compile()
    data = mujoco.MjData(model)
    qadr = joint_qpos_indices(model, g1.JOINT_NAMES_23)
    ground0 = np.nan_to_num(field.height_at(np.array(start_xy)), nan=0.0)
    data.qpos[0:2] = start_xy
    data.qpos[2] = g1.DEFAULT_PELVIS_HEIGHT + float(ground0) + 0.02
    data.qpos[3] = 1.0
    data.qpos[qadr] = pobs.Q0
    mujoco.mj_forward(model, data)
    pd = JointPD(model)
    vel23 = pd.qvel_idx[g1.MOTOR_INDEX_23]
    torso = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, g1.TORSO_LINK)
    pelvis = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, g1.ROOT_LINK)
    hist = pobs.HistoryBuffer(policy.layout.history)
    last = np.zeros(len(g1.JOINT_NAMES_23), dtype=np.float32)
    cmd = MotorCommand.hold(g1.as_array(g1.DEFAULT_POSE, g1.JOINT_NAMES_29))  # wrists held at 0, as the bridge does
    steps = int(round(seconds / g1.CONTROL_DT))
    fell_at = None
    min_h = np.inf
    path: list[tuple[float, float, float]] = []
    for k in tqdm(range(steps), desc="sim2sim", unit="step", disable=not progress):
        quat = data.xquat[pelvis].copy()
        ang_b = data.qvel[3:6].copy()  # free-joint angular velocity is in the pelvis frame
        hist.push(pobs.proprio_frame(ang_b, quat, data.qpos[qadr], data.qvel[vel23], last))
        hmap = None
        if policy.layout.heightmap:
            tpos = data.xpos[torso]
            pts = pobs.heightmap_points_w(tpos, pobs.yaw_of(data.xquat[torso]))
            hmap = pobs.heightmap_values(tpos[2], field.height_at(pts))
        o = pobs.build_observation(policy.layout, hist, np.asarray(command, np.float32), hmap)
        last = policy.act(o[None])[0].astype(np.float32)
        cmd.q[g1.MOTOR_INDEX_23] = pobs.action_to_targets(last)
        for _ in range(g1.DECIMATION):
            pd.apply(data, cmd)
            mujoco.mj_step(model, data)
        ground = np.nan_to_num(field.height_at(data.xpos[pelvis][:2]), nan=0.0)
        h = float(data.xpos[pelvis][2] - ground)
        min_h = min(min_h, h)
        path.append((float(data.xpos[pelvis][0]), float(data.xpos[pelvis][1]), h))
        if fell_at is None and (h < 0.45 or not np.all(np.isfinite(data.qpos))):
            fell_at = k * g1.CONTROL_DT
            break
    if png is not None and path:
        _plot(Path(png), field, np.array(path))
    return {
        "policy": str(policy_path),
        "terrain": str(terrain) if terrain else "step (default)",
        "seconds": seconds,
        "fell": fell_at is not None,
        "fell_at_s": fell_at,
        "min_pelvis_height_m": float(min_h),
        "final_xy": data.qpos[0:2].tolist(),
        "drift_m": float(np.linalg.norm(data.qpos[0:2] - np.array(start_xy))),
    }


def _plot(png: Path, field, path: np.ndarray) -> None:
    """Pelvis path over the terrain, and pelvis height above ground over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    H, W = field.heights.shape
    r = field.resolution
    x0, y0 = field.origin_xy
    im = a.imshow(
        field.heights,
        origin="lower",
        extent=(x0 - r / 2, x0 + (W - 0.5) * r, y0 - r / 2, y0 + (H - 0.5) * r),
        cmap="terrain",
    )
    fig.colorbar(im, ax=a, label="ground z [m]")
    a.plot(path[:, 0], path[:, 1], "r-", lw=2)
    a.plot(path[0, 0], path[0, 1], "ko")
    a.set_xlabel("x [m]")
    a.set_ylabel("y [m]")
    a.set_title("pelvis path")
    b.plot(np.arange(len(path)) * g1.CONTROL_DT, path[:, 2])
    b.axhline(0.45, color="r", ls="--", label="fall threshold")
    b.set_xlabel("t [s]")
    b.set_ylabel("pelvis height above ground [m]")
    b.legend()
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    tmp = png.with_name(f".{png.stem}.tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(png)
