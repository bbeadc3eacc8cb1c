"""Interactive 3D view of a reconstruction folder in the browser (viser).

Shows the scene mesh, the camera path with the current camera's frustum, and the body as a
skeleton; a frame slider and a play checkbox animate it. ``build_view`` only populates a server
(tests call it without blocking); ``serve`` keeps it running until Ctrl-C.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from videomimic_offline.body.skeleton import HUMAN_PARENTS
from videomimic_offline.contracts.cameras import read_cameras
from videomimic_offline.contracts.human_motion import read_human_motion
from videomimic_offline.real2sim.scene import read_ply

_BONES = np.array([(j, p) for j, p in enumerate(HUMAN_PARENTS) if p >= 0])


class ReconstructionView:
    """Handles of one populated viser scene, with ``show(t)`` to move to frame ``t``."""

    def __init__(self, server, out_dir: Path) -> None:  # type: ignore[no-untyped-def]
        out_dir = Path(out_dir)
        m = read_human_motion(out_dir / "motion.npz")
        c = read_cameras(out_dir / "cameras.npz")
        self.server, self.joints, self.Twc = server, m.joints_w, c.T_world_cam
        self.contacts = m.contacts if m.contacts is not None else np.zeros((m.num_frames, 2), bool)
        self.fps = m.fps
        K, (w, h) = c.K[0], c.image_size
        self.fov, self.aspect = float(2 * np.arctan2(h / 2, K[1, 1])), float(w / h)
        verts, faces = read_ply(out_dir / "scene_mesh.ply")
        sc = server.scene
        sc.add_grid("/floor_grid", width=10, height=10, position=(0.0, 0.0, 0.0))
        if len(faces):
            sc.add_mesh_simple("/scene", verts.astype(np.float32), faces.astype(np.uint32), color=(170, 170, 190))
        if (out_dir / "scene.json").is_file():  # contact-derived solids in their own colour
            from videomimic_offline.contracts.scene import read_scene_info
            from videomimic_offline.real2sim.solids import box_mesh
            from videomimic_offline.real2sim.visualize import SOLID_RGB

            for k, b in enumerate(read_scene_info(out_dir / "scene.json").solids):
                bv, bf = box_mesh(np.array(b.center), np.array(b.size), b.yaw)
                sc.add_mesh_simple(f"/solids/{k}_{b.kind}", bv.astype(np.float32), bf.astype(np.uint32),
                                   color=SOLID_RGB, opacity=0.6)  # fmt: skip
        sc.add_line_segments(
            "/camera_path", np.stack([self.Twc[:-1, :3, 3], self.Twc[1:, :3, 3]], axis=1).astype(np.float32),
            colors=(30, 30, 30), thickness=0.01,
        )  # fmt: skip
        self.root_path = sc.add_line_segments(
            "/root_path", np.stack([self.joints[:-1, 0], self.joints[1:, 0]], axis=1).astype(np.float32),
            colors=(220, 40, 40), thickness=0.01,
        )  # fmt: skip
        self.frustum = sc.add_camera_frustum("/camera", fov=self.fov, aspect=self.aspect, scale=0.25)
        self.body = None
        self.slider = server.gui.add_slider("frame", 0, len(self.joints) - 1, 1, 0)
        self.play = server.gui.add_checkbox("play", True)
        self.slider.on_update(lambda _e: self.show(int(self.slider.value)))
        self.show(0)

    def show(self, t: int) -> None:
        """Move the body and the camera to frame ``t``."""
        seg = self.joints[t][_BONES].astype(np.float32)
        col = np.where(self.contacts[t].any(), 1, 0)
        colors = np.array([(40, 90, 230), (40, 180, 90)][col], np.uint8)
        self.body = self.server.scene.add_line_segments(
            "/body", seg, colors=tuple(int(x) for x in colors), thickness=0.03
        )
        q = Rotation.from_matrix(self.Twc[t, :3, :3]).as_quat()
        self.frustum.wxyz = np.array([q[3], q[0], q[1], q[2]])
        self.frustum.position = self.Twc[t, :3, 3]


def build_view(out_dir: Path, port: int, host: str):  # type: ignore[no-untyped-def]
    """Start a viser server on ``host:port`` and populate it; returns (server, view)."""
    import viser

    server = viser.ViserServer(host=host, port=port, verbose=False)
    return server, ReconstructionView(server, out_dir)


def serve(out_dir: Path, port: int, host: str) -> None:
    """Serve the view until Ctrl-C, animating at the clip's frame rate while 'play' is ticked."""
    server, view = build_view(out_dir, port, host)
    where = (
        "localhost"
        if host in ("127.0.0.1", "localhost")
        else ("<this machine's address>" if host == "0.0.0.0" else host)
    )
    print(f"open http://{where}:{port} (Ctrl-C to stop)")
    try:
        while True:
            if view.play.value:
                view.slider.value = (int(view.slider.value) + 1) % len(view.joints)
            time.sleep(1.0 / view.fps)
    finally:
        server.stop()
