"""Run holosoma-retargeting on one clip, timed; executed by the PEER interpreter (see bench/retarget.py).

    peer/bin/python bench/peer_holosoma.py IN.npz OUT.npz

IN (written by bench/retarget.py): ``mode`` ("robot_only" | "climbing"), ``joints`` in the layout
its data format reads (robot_only: LAFAN (T, 22, 3) y-up; climbing: mocap (T*4, 53, 3) z-up),
``joint_names``, ``scale`` (human -> robot), ``boxes`` (N, 2, 3) terrain boxes for climbing.
It runs holosoma's own ``examples/robot_retarget.py:main`` with the configuration its README gives
for that task type; only the per-format scale constant is set to ours (same scale for every
solver). OUT: ``qpos`` (T, 36), ``joint_names`` (29, qpos order), ``cpu_s``/``wall_s`` (T,) the
process's CPU / wall clock at the end of each frame's solve, counted from this script's start
(so frame 0 includes imports, model set-up and the first-frame solve), ``ankle_w`` (2, 3) the
left/right ankle-roll-link positions of frame 0 by the peer's own model (a frame-convention check).
This file imports only the peer's packages, never ours.
"""

from __future__ import annotations

import time

T0_CPU, T0_WALL = time.process_time(), time.perf_counter()

import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

SKIP = 3  # exit code: the peer is not installed here


def _box_obj(lo: np.ndarray, hi: np.ndarray, base: int = 0) -> str:
    """An axis-aligned box as OBJ vertices and outward triangles (1-based from ``base``)."""
    v = [(x, y, z) for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in v]
    for a, b, c, d in quads:
        lines += [f"f {base + a + 1} {base + b + 1} {base + c + 1}", f"f {base + a + 1} {base + c + 1} {base + d + 1}"]
    return "\n".join(lines) + "\n"


def write_climbing_object(obj_dir: Path, pkg: Path, boxes: np.ndarray) -> None:
    """The multi-box object files its climbing task loads (obj, urdf, MuJoCo includes, scene xml)."""
    (obj_dir / "box_models").mkdir(parents=True, exist_ok=True)
    assets, bodies, links, whole = [], [], [], []
    for k, (lo, hi) in enumerate(boxes, start=1):
        f = obj_dir / "box_models" / f"box{k}.obj"
        f.write_text(_box_obj(lo, hi))
        whole.append(_box_obj(lo, hi, base=8 * (k - 1)))
        assets.append(f'<mesh name="box{k}" file="{f}" scale="1 1 1"/>')
        bodies.append(f'<body name="multi_boxes_box{k}_link"><geom name="multi_boxes_link_{k}" type="mesh" '
                      f'mesh="box{k}" contype="1" conaffinity="1"/></body>')  # fmt: skip
        links.append(f'<link name="box{k}_link"><collision><geometry><mesh filename="{f}" scale="1 1 1"/>'
                     f"</geometry></collision></link>")  # fmt: skip
    (obj_dir / "multi_boxes.obj").write_text("".join(whole))
    (obj_dir / "box_assets.xml").write_text("<mujocoinclude>\n" + "\n".join(assets) + "\n</mujocoinclude>\n")
    (obj_dir / "box_body.xml").write_text("<mujocoinclude>\n" + "\n".join(bodies) + "\n</mujocoinclude>\n")
    (obj_dir / "multi_boxes.urdf").write_text(
        '<robot name="multi_boxes"><link name="world"/>' + "".join(links) + "</robot>\n"
    )
    # Its scene = its spherehand G1 + the boxes; paths made absolute so the scene can live here.
    robot = (pkg / "models/g1/g1_29dof_spherehand.xml").read_text()
    robot = robot.replace('meshdir="meshes"', f'meshdir="{pkg}/models/g1/meshes"')
    robot = robot.replace('file="../assets/', f'file="{pkg}/models/g1/assets/')
    robot = robot.replace("</asset>", '  <include file="box_assets.xml"/>\n  </asset>', 1)
    robot = robot.replace("</worldbody>", '  <include file="box_body.xml"/>\n  </worldbody>', 1)
    (obj_dir / "g1_29dof_spherehand_w_multi_boxes.xml").write_text(robot)


def main() -> int:
    src, dst = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    try:
        import holosoma_retargeting
        from holosoma_retargeting.config_types import data_type
        from holosoma_retargeting.config_types.retargeting import RetargetingConfig
        from holosoma_retargeting.config_types.robot import RobotConfig
        from holosoma_retargeting.examples import robot_retarget
        from holosoma_retargeting.src.interaction_mesh_retargeter import InteractionMeshRetargeter
    except ImportError as exc:
        print(f"holosoma-retargeting is not importable here: {exc}", file=sys.stderr)
        return SKIP
    inp = np.load(src)
    mode, scale = str(inp["mode"]), float(inp["scale"])
    fmt = "lafan" if mode == "robot_only" else "mocap"
    if list(inp["joint_names"]) != data_type.DEMO_JOINTS_REGISTRY[fmt]:
        print(f"joint layout differs from holosoma's {fmt} joints", file=sys.stderr)
        return 2
    # Same scale for every solver: its per-format constant (LAFAN: a scale; mocap: a human height).
    if fmt == "lafan":
        data_type.DATA_FORMAT_CONSTANTS["lafan"]["default_scale_factor"] = scale
    else:
        data_type.DATA_FORMAT_CONSTANTS["mocap"]["default_human_height"] = 1.32 / scale  # its G1 ROBOT_HEIGHT

    stamps: list[tuple[float, float]] = []
    seen = {}
    solve = InteractionMeshRetargeter.iterate

    def timed(self, *a, **k):
        out = solve(self, *a, **k)
        stamps.append((time.process_time() - T0_CPU, time.perf_counter() - T0_WALL))
        seen["m"] = self.robot_model
        return out

    InteractionMeshRetargeter.iterate = timed
    pkg = Path(holosoma_retargeting.__file__).parent
    work = Path(tempfile.mkdtemp(prefix="holosoma_"))
    task = "clip"
    if mode == "climbing":
        write_climbing_object(work / task, pkg, inp["boxes"])
        np.save(work / task / f"{task}.npy", inp["joints"])
        robot_cfg = RobotConfig(robot_type="g1", robot_urdf_file="models/g1/g1_29dof_spherehand.urdf")
    else:
        np.save(work / f"{task}.npy", inp["joints"])
        robot_cfg = RobotConfig(robot_type="g1")
    cfg = RetargetingConfig(task_type=mode, data_format=fmt, task_name=task, data_path=work,
                            save_dir=work / "out", robot_config=robot_cfg)  # fmt: skip
    os.chdir(pkg)  # its model paths are relative to the package
    robot_retarget.main(cfg)
    name = f"{task}.npz" if mode == "robot_only" else f"{task}_original.npz"
    qpos = np.load(work / "out" / name)["qpos"]

    import mujoco

    m = seen["m"]
    names = [m.joint(i).name for i in range(m.njnt) if m.jnt_type[i] == mujoco.mjtJoint.mjJNT_HINGE]
    d = mujoco.MjData(m)
    d.qpos[: qpos.shape[1]] = qpos[0]
    mujoco.mj_kinematics(m, d)
    ankle = np.array([d.xpos[m.body(f"{s}_ankle_roll_link").id] for s in ("left", "right")])
    cpu, wall = np.array(stamps).T
    np.savez(dst, qpos=qpos[:, :36], joint_names=np.array(names[:29]), cpu_s=cpu, wall_s=wall, ankle_w=ankle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
