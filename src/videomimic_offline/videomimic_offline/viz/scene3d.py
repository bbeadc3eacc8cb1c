"""The report's interactive 3D view: a self-contained viser page (its static export).

viser records the scene it is sent and exports it with its own client (a single HTML file with
everything inlined, so it opens from ``file://`` without a server), with a timeline that plays,
pauses and scrubs. Shown: the reconstructed scene coloured by where each part came from (dense
stereo mesh, SfM points, contact-derived solids; the heightfield's ``source`` codes where it has
them), the camera path with the camera's frustum, and the reconstructed human (skinned body) with
the retargeted G1 moving together at the video's frame rate.
"""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np

#: Colours of the scene's sources (RGB) and their legend names, by heightfield ``source`` code.
SOURCE_COLOURS = {
    1: ((120, 150, 200), "dense stereo (TSDF mesh)"),
    2: ((240, 150, 40), "SfM points"),
    3: ((60, 180, 90), "contact-derived (floor, step, seat)"),
}
HUMAN_RGB = (230, 120, 90)
CAMERA_PATH_RGB = (30, 30, 30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wxyz(R: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    x, y, z, w = Rotation.from_matrix(R).as_quat()
    return np.array([w, x, y, z])


def _scene_parts(sc, recon: Path, max_triangles: int) -> list[str]:  # noqa: ANN001 - viser SceneApi
    """Add the scene, coloured by source; returns the legend entries that appear."""
    from videomimic_offline.contracts.scene import read_scene_info
    from videomimic_offline.egoview.scene import box_mesh, decimate, read_mesh

    legend = []
    mesh = recon / "scene_mesh.ply"
    if mesh.is_file():
        v, f = read_mesh(mesh)
        if len(f):
            v, f = decimate(v, f, max_triangles)
            sc.add_mesh_simple("/scene/dense", v.astype(np.float32), f.astype(np.uint32), color=SOURCE_COLOURS[1][0],
                               side="double")  # fmt: skip
            legend.append(1)
    pts = recon / "stages" / "scene" / "scene_points.npy"
    if pts.is_file():
        p = np.load(pts)
        if len(p):
            sc.add_point_cloud("/scene/sfm", p[:, :3].astype(np.float32), SOURCE_COLOURS[2][0], point_size=0.02)
            legend.append(2)
    hf_path = recon / "heightfield.npz"
    if hf_path.is_file():
        from videomimic_offline.contracts.heightfield import read_heightfield

        hf = read_heightfield(hf_path)  # world frame
        if hf.source is not None:  # the cells' source codes as coloured points (the heightfield's own surface)
            rows, cols = np.nonzero((hf.source > 0) & hf.known)
            xyz = np.stack([hf.origin_xy[0] + cols * hf.resolution, hf.origin_xy[1] + rows * hf.resolution,
                            hf.heights[rows, cols]], 1)  # fmt: skip
            codes = hf.source[rows, cols]
            colours = np.array([SOURCE_COLOURS.get(int(c), ((128, 128, 128), ""))[0] for c in codes], np.uint8)
            sc.add_point_cloud("/scene/heightfield", xyz.astype(np.float32), colours, point_size=0.03)
            legend += [int(c) for c in np.unique(codes) if int(c) in SOURCE_COLOURS]
    solids = read_scene_info(recon / "scene.json").solids if (recon / "scene.json").is_file() else []
    for i, solid in enumerate(solids):
        v, f = box_mesh(solid.center, solid.size, solid.yaw, step=1.0)
        sc.add_mesh_simple(f"/scene/solid_{i}_{solid.kind}", v.astype(np.float32), f.astype(np.uint32),
                           color=SOURCE_COLOURS[3][0], opacity=0.8)  # fmt: skip
    if solids:
        legend.append(3)
    return [SOURCE_COLOURS[c][1] for c in sorted(set(legend))]


def build_scene_html(recon: Path, robot_motion: Path | None, max_triangles: int = 60_000) -> tuple[str, list[str]]:
    """The viewer page (HTML) and the legend of scene sources shown in it."""
    import mujoco
    import viser

    from videomimic_offline.body.model import BodyShape, build_body
    from videomimic_offline.contracts.cameras import read_cameras
    from videomimic_offline.contracts.human_motion import read_human_motion
    from videomimic_offline.contracts.robot_motion import read_robot_motion
    from videomimic_offline.egoview.camera import _interp_pose
    from videomimic_offline.robot.model import g1_model
    from videomimic_offline.viz.robot_meshes import g1_body_meshes

    recon = Path(recon)
    human = read_human_motion(recon / "motion.npz")
    cams = read_cameras(recon / "cameras.npz")
    fps = float(human.fps)
    T = len(human.joints_w)
    server = viser.ViserServer(host="127.0.0.1", port=_free_port(), verbose=False)
    try:
        sc = server.scene
        sc.set_up_direction("+z")
        sc.add_grid("/grid", width=12, height=12, cell_size=0.5, position=(0.0, 0.0, -0.002))
        legend = _scene_parts(sc, recon, max_triangles)
        Twc = cams.T_world_cam
        path = Twc[:, :3, 3].astype(np.float32)
        sc.add_line_segments("/camera_path", np.stack([path[:-1], path[1:]], 1), CAMERA_PATH_RGB, thickness=0.015)
        K, (w, h) = cams.K[0], cams.image_size
        R_cv_gl = np.diag([1.0, 1.0, 1.0])  # viser frustums look down +z with OpenCV axes
        frustum = sc.add_camera_frustum("/camera", fov=float(2 * np.arctan2(h / 2, K[1, 1])), aspect=float(w / h),
                                        scale=0.25, color=CAMERA_PATH_RGB)  # fmt: skip
        # Human: the body model skinned on the reconstructed joints (bind pose = its rest pose).
        body = build_body(BodyShape(height_m=float(human.height_m) if np.isfinite(human.height_m) else 1.7))
        weights = body.weights
        rot = human.joint_rot_w
        skinned = None
        if rot is not None:
            skinned = sc.add_mesh_skinned(
                "/human", body.vertices_rest.astype(np.float32), body.faces.astype(np.uint32),
                bone_wxyzs=np.tile([1.0, 0, 0, 0], (len(body.joints_rest), 1)), bone_positions=body.joints_rest,
                skin_weights=weights, color=HUMAN_RGB, opacity=0.75,
            )  # fmt: skip
        # G1: per-body simplified meshes, posed by forward kinematics of each retargeted frame.
        g1_frames = None
        if robot_motion is not None and Path(robot_motion).is_file():
            rm = read_robot_motion(robot_motion)
            m = g1_model("29dof", actuators=False)
            d = mujoco.MjData(m)
            names = [str(n) for n in rm.body_names]
            meshes = [bm for bm in g1_body_meshes() if bm.body in names]
            handles = [sc.add_mesh_simple(f"/g1/{bm.body}", bm.vertices.astype(np.float32), bm.faces.astype(np.uint32),
                                          color=bm.rgb) for bm in meshes]  # fmt: skip
            idx = [names.index(bm.body) for bm in meshes]
            times = np.arange(T) / fps
            g1_frames = [_interp_pose(rm.body_pos_w[:, i], rm.body_quat_w[:, i], float(rm.fps), times) for i in idx]
            del d
        # Start the view beside the video camera, raised, looking at the middle of the person's path.
        look = human.joints_w[:, 0].mean(axis=0)
        back = Twc[:, :3, 3].mean(axis=0) - look
        back[2] = 0.0
        back = back / max(np.linalg.norm(back), 1e-6)
        server.initial_camera.look_at = look
        server.initial_camera.position = look + 3.0 * back + np.array([0.0, 0.0, 2.0])
        sc.configure_fog(1.0, 100.0, enabled=False)
        rec = server.get_scene_serializer()
        for t in range(T):
            if skinned is not None:
                for j, bone in enumerate(skinned.bones):
                    bone.wxyz = rot[t, j]
                    bone.position = human.joints_w[t, j]
            if g1_frames is not None:
                for hnd, poses in zip(handles, g1_frames, strict=True):
                    hnd.position = poses[t, :3, 3]
                    hnd.wxyz = _wxyz(poses[t, :3, :3])
            tc = min(t, len(Twc) - 1)
            frustum.position = Twc[tc, :3, 3]
            frustum.wxyz = _wxyz(Twc[tc, :3, :3] @ R_cv_gl)
            rec.insert_sleep(1.0 / fps)
        return rec.as_html(), legend
    finally:
        server.stop()
