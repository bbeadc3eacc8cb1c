"""Offscreen rendering of a scene + skinned body with MuJoCo's OpenGL renderer.

Why MuJoCo: it is already in the pinned environment, renders headless through EGL (or OSMesa)
on a CPU-only machine with textures, directional lights and shadow maps, and needs no new
dependency (pyrender would pin PyOpenGL 3.1.0 against the environment's 3.1.10). The body is
one textured mesh whose vertices are re-skinned and re-uploaded every frame.
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

from dataclasses import dataclass  # noqa: E402

import mujoco  # noqa: E402
import numpy as np  # noqa: E402

from videomimic_offline.body.model import BodyModel, mat_to_quat  # noqa: E402
from videomimic_offline.errors import BackendUnavailableError  # noqa: E402
from videomimic_offline.real2sim.synthetic.scenes import Scene  # noqa: E402

#: OpenCV camera axes (x right, y down, z forward) -> MuJoCo camera axes (x right, y up, -z forward).
CV_TO_MJ = np.diag([1.0, -1.0, -1.0])


@dataclass
class Lighting:
    """Light set-up; randomised per clip.

    Cast shadows are off by default: MuJoCo's fixed shadow-map bias gives acne (moving moire
    bands) on the large floor and walls, which would feed SfM view-dependent false texture.
    """

    sun_dir: tuple[float, float, float] = (0.4, 0.3, -0.85)
    sun_diffuse: float = 0.7
    ambient: float = 0.3
    headlight: float = 0.15
    shadows: bool = False
    sky_top: tuple[float, float, float] = (0.55, 0.7, 0.9)
    sky_bottom: tuple[float, float, float] = (0.9, 0.9, 0.95)

    @classmethod
    def random(cls, rng: np.random.Generator) -> Lighting:
        el = rng.uniform(np.radians(35), np.radians(70))
        az = rng.uniform(-np.pi, np.pi)
        d = (np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), -np.sin(el))
        top = rng.uniform([0.4, 0.55, 0.75], [0.7, 0.8, 0.98])
        return cls(
            sun_dir=tuple(float(x) for x in d),
            sun_diffuse=float(rng.uniform(0.5, 0.85)),
            ambient=float(rng.uniform(0.22, 0.4)),
            headlight=float(rng.uniform(0.05, 0.25)),
            shadows=False,
            sky_top=tuple(float(x) for x in top),
            sky_bottom=tuple(float(x) for x in rng.uniform(0.8, 0.97, 3)),
        )


def intrinsics(width: int, height: int, fovy_deg: float) -> np.ndarray:
    """Pinhole K (OpenCV pixel-centre convention) of a MuJoCo camera with vertical FOV ``fovy_deg``."""
    f = 0.5 * height / np.tan(np.radians(fovy_deg) / 2)
    return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


def _add_texture(spec: mujoco.MjSpec, name: str, img: np.ndarray) -> None:
    tex = spec.add_texture(name=name, type=mujoco.mjtTexture.mjTEXTURE_2D)
    tex.width, tex.height, tex.nchannel = img.shape[1], img.shape[0], 3
    # MuJoCo's first texture row is the bottom (OpenGL), our images are top row first
    tex.data = np.ascontiguousarray(img[::-1]).tobytes()
    mat = spec.add_material(name=name)
    mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = name
    mat.specular = 0.1
    mat.shininess = 0.1


def _add_mesh(spec: mujoco.MjSpec, name: str, v: np.ndarray, f: np.ndarray, uv: np.ndarray) -> None:
    m = spec.add_mesh(name=name)
    m.uservert = np.asarray(v, dtype=np.float32).ravel().tolist()
    m.userface = np.asarray(f, dtype=np.int32).ravel().tolist()
    uv = np.asarray(uv, dtype=np.float64).copy()
    uv[:, 1] = 1.0 - uv[:, 1]  # our v runs from the image top; MuJoCo's from the bottom
    m.usertexcoord = uv.astype(np.float32).ravel().tolist()
    m.inertia = mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL
    spec.worldbody.add_geom(
        name=name, type=mujoco.mjtGeom.mjGEOM_MESH, meshname=name, material=name, contype=0, conaffinity=0
    )


class ClipRenderer:
    """Renders RGB (and depth / geom-id segmentation) frames of ``scene`` with ``body`` posed."""

    def __init__(
        self, scene: Scene, body: BodyModel, width: int, height: int, fovy_deg: float, lighting: Lighting
    ) -> None:
        spec = mujoco.MjSpec()
        spec.visual.global_.offwidth = max(width, 64)
        spec.visual.global_.offheight = max(height, 64)
        spec.visual.quality.shadowsize = 2048 if lighting.shadows else 0
        spec.visual.headlight.ambient = [lighting.ambient] * 3
        spec.visual.headlight.diffuse = [lighting.headlight] * 3
        spec.visual.headlight.specular = [0.05] * 3
        spec.visual.map.znear = 0.01
        spec.visual.map.zfar = 50.0
        spec.stat.extent = 5.0
        # a tight shadow frustum that follows the person (set_light_target): a frustum over the
        # whole scene gives shadow acne (moire bands) on the large flat floor
        spec.visual.map.shadowclip = 0.5
        sky = spec.add_texture(
            name="sky",
            type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
            builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
            rgb1=list(lighting.sky_top),
            rgb2=list(lighting.sky_bottom),
            width=256,
            height=256,
        )
        del sky
        for part in scene.parts:
            _add_texture(spec, part.name, part.texture)
            _add_mesh(spec, part.name, part.vertices, part.faces, part.uv)
        _add_texture(spec, "body", body.texture)
        _add_mesh(spec, "body", body.vertices_rest, body.faces, body.uv)
        spec.worldbody.add_light(
            name="sun",
            pos=[0.0, 0.0, 6.0],
            dir=list(lighting.sun_dir),
            type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL,
            castshadow=lighting.shadows,
            diffuse=[lighting.sun_diffuse] * 3,
            ambient=[0.0] * 3,
            specular=[0.1] * 3,
        )
        spec.worldbody.add_camera(name="cam", pos=[0, -3, 1.5], fovy=fovy_deg)
        self.model = spec.compile()
        self.data = mujoco.MjData(self.model)
        mujoco.mj_forward(self.model, self.data)
        try:
            self.renderer = mujoco.Renderer(self.model, height, width)
        except Exception as exc:  # no EGL/OSMesa context available
            raise BackendUnavailableError(
                f"cannot open an offscreen OpenGL context ({exc}); install libegl1 (or libosmesa6 "
                "and set MUJOCO_GL=osmesa) and re-run"
            ) from exc
        self.body = body
        self.width, self.height, self.fovy = width, height, fovy_deg
        self.K = intrinsics(width, height, fovy_deg)
        self.body_geom = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_GEOM, "body")
        self.body_mesh = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_MESH, "body")
        adr, n = self.model.mesh_vertadr[self.body_mesh], self.model.mesh_vertnum[self.body_mesh]
        if n != len(body.vertices_rest):
            raise RuntimeError(f"MuJoCo changed the body mesh ({n} vs {len(body.vertices_rest)} vertices)")
        self._vslice = slice(adr, adr + n)
        nadr, nn = self.model.mesh_normaladr[self.body_mesh], self.model.mesh_normalnum[self.body_mesh]
        self._nslice = slice(nadr, nadr + nn)
        fadr, fn = self.model.mesh_faceadr[self.body_mesh], self.model.mesh_facenum[self.body_mesh]
        self._normal_of_vertex = np.zeros(nn, dtype=np.int64)
        self._normal_of_vertex[self.model.mesh_facenormal[fadr : fadr + fn].ravel()] = self.model.mesh_face[
            fadr : fadr + fn
        ].ravel()
        self._geom_R = self.data.geom_xmat[self.body_geom].reshape(3, 3).copy()
        self._geom_p = self.data.geom_xpos[self.body_geom].copy()
        self._mode = "rgb"

    def set_body(self, vertices_w: np.ndarray) -> None:
        """Upload the posed body (world-frame vertices) to the GPU mesh."""
        local = (vertices_w - self._geom_p) @ self._geom_R
        self.model.mesh_vert[self._vslice] = local
        nrm = self.body.vertex_normals(vertices_w) @ self._geom_R
        self.model.mesh_normal[self._nslice] = nrm[self._normal_of_vertex]
        mujoco.mjr_uploadMesh(self.model, self.renderer._mjr_context, self.body_mesh)

    def set_light_target(self, point: np.ndarray) -> None:
        """Centre the sun's shadow map on ``point`` (the person); the light direction is fixed."""
        d = self.model.light_dir[0] / np.linalg.norm(self.model.light_dir[0])
        self.model.light_pos[0] = np.asarray(point) - 6.0 * d

    def set_camera(self, T_world_cam: np.ndarray) -> None:
        """Place the camera from an OpenCV camera-to-world transform (and update the lights)."""
        self.model.cam_pos[0] = T_world_cam[:3, 3]
        self.model.cam_quat[0] = mat_to_quat(T_world_cam[:3, :3] @ CV_TO_MJ)
        mujoco.mj_camlight(self.model, self.data)

    def render(self, mode: str = "rgb") -> np.ndarray:
        """RGB (H,W,3) uint8, ``depth`` (H,W) metres along the optical axis, or ``segmentation``
        (H,W) geom id (-1 = background)."""
        if mode != self._mode:
            self.renderer.disable_depth_rendering()
            self.renderer.disable_segmentation_rendering()
            if mode == "depth":
                self.renderer.enable_depth_rendering()
            elif mode == "segmentation":
                self.renderer.enable_segmentation_rendering()
            self._mode = mode
        self.renderer.update_scene(self.data, camera="cam")
        out = self.renderer.render()
        if mode == "segmentation":
            return np.where(out[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM), out[..., 0], -1)
        return out.copy()

    def close(self) -> None:
        """Free the OpenGL context now (not at interpreter exit, where EGL teardown may fail)."""
        if getattr(self, "renderer", None) is not None:
            self.renderer.close()
            self.renderer = None  # type: ignore[assignment]

    def __enter__(self) -> ClipRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
