"""The fitted body drawn over the input video, as a shaded mesh (like GVHMR's mesh overlays).

The body model's mesh (``body.model``, at the person's height) is skinned on the reconstructed
joints and joint rotations of each frame, the same skinning the report's 3D view does in the
browser, and rasterised through that frame's reconstructed camera. Where the mesh sits on the
person, the whole chain (keypoints, metric scale, camera, fit) agrees with the video; a skeleton
cannot show a wrong girth, a twisted pelvis or a body floating off its silhouette as clearly.

Shading is a headlight (the surface facing the camera is brightest), so the body reads as a solid
without a scene light that the video does not have; an outline keeps it distinct from the image.
"""

from __future__ import annotations

import numpy as np

from videomimic_offline.viz.scene3d import HUMAN_RGB

#: Opacity of the body over the video (the person under it stays visible enough to judge the fit).
BODY_ALPHA = 0.7
#: Outline colour of the body's silhouette (RGB).
OUTLINE_RGB = (90, 30, 20)


class BodyOverlay:
    """Renders the body model posed per frame over RGB frames of one size (headless OpenGL)."""

    def __init__(self, width: int, height: int, height_m: float) -> None:
        from videomimic_offline.body.model import BodyShape, build_body
        from videomimic_offline.egoview.gl import MeshRasterizer

        h = float(height_m) if np.isfinite(height_m) else 1.7
        self.body = build_body(BodyShape(height_m=h))
        self._rast = MeshRasterizer(width, height)
        rest = self.body.vertices_rest
        self._mesh = self._rast.add_mesh(rest, self.body.faces, np.zeros_like(rest))
        self._rgb = np.asarray(HUMAN_RGB, np.float32) / 255.0

    def posed_vertices(self, joints_w: np.ndarray, joint_rot_w: np.ndarray) -> np.ndarray:
        """(V,3) world vertices: joint j's rotation (wxyz, relative to the rest pose) about its fitted position."""
        from videomimic_offline.body.model import quat_to_mat

        return self.body.skin(np.asarray(joints_w, np.float64), quat_to_mat(joint_rot_w))

    def render(
        self, joints_w: np.ndarray, joint_rot_w: np.ndarray, T_world_cam: np.ndarray, K: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The body alone through one camera: (rgb (H,W,3) uint8, mask (H,W) bool)."""
        v = self.posed_vertices(joints_w, joint_rot_w)
        n = self.body.vertex_normals(v)
        ray = v - T_world_cam[:3, 3]
        ray /= np.maximum(np.linalg.norm(ray, axis=1, keepdims=True), 1e-9)
        shade = 0.35 + 0.65 * np.abs(np.sum(n * ray, axis=1))
        self._rast.update_mesh(self._mesh, v, shade[:, None] * self._rgb[None])
        rgb, depth = self._rast.render(K, T_world_cam, near=0.05, far=200.0)
        return rgb, depth > 0

    def draw(
        self, img: np.ndarray, joints_w: np.ndarray, joint_rot_w: np.ndarray, T_world_cam: np.ndarray, K: np.ndarray
    ) -> np.ndarray:
        """``img`` (H,W,3) uint8 with the posed body blended over it; unchanged for a frame with no finite pose."""
        import cv2

        if not (np.isfinite(joints_w).all() and np.isfinite(joint_rot_w).all()):
            return img
        rgb, mask = self.render(joints_w, joint_rot_w, T_world_cam, K)
        if not mask.any():
            return img
        out = img.copy()
        blend = BODY_ALPHA * rgb[mask].astype(np.float32) + (1.0 - BODY_ALPHA) * img[mask].astype(np.float32)
        out[mask] = np.clip(blend + 0.5, 0, 255).astype(np.uint8)
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, OUTLINE_RGB, 1, cv2.LINE_AA)
        return out

    def close(self) -> None:
        """Free the GL context."""
        self._rast.release()
