"""Render one synthetic clip folder: ``video.mp4`` + ``gt.npz`` + ``meta.json`` (see the contract
in DEVELOPING.md / the synthetic GT schema below), written atomically.

``gt.npz`` (schema ``videomimic.synthetic_gt`` v1): fps, image_size (w,h), K, T_world_cam
(camera-to-world, OpenCV axes), joints_w (T,J,3) in ``HUMAN_JOINTS`` order, root_pos_w, root_quat_w
(wxyz), contacts (T,2), height_m, scene_vertices/scene_faces (the exact rendered scene), scene_kind,
seed, body_params (``body.model.SHAPE_PARAM_NAMES``), and extras: ``body_local_quat`` (T,J,4 wxyz
local joint rotations; with body_params and root_pos_w they re-pose the GT body via
``BodyModel.forward_kinematics``), ``body_texture_seed``, ``scene_seen_points`` (N,3 samples of the
scene surface that the camera actually saw, depth-tested, within ``SEEN_MAX_RANGE_M`` of a camera,
for Chamfer over the seen region),
``scene_seen_part`` (N,) / ``scene_face_part`` (F,) part index of each seen sample / face into
``scene_part_names`` (floor, feature = the terrain the person uses; wall, props = background),
``camera_regime`` (one of ``CAMERA_REGIMES``) and ``camera_motion`` (what the camera does in the
camera stage's vocabulary: static | rotation | translating), ``focal_mm_equiv`` (35 mm
equivalent focal length), ``seat_contact`` (T,) bool (the pelvis rests on the seat; all False
without a seat), ``seat_box_center`` (3,) / ``seat_box_size`` (3,) / ``seat_box_yaw`` () (the
seat as a solid from the floor to its top; NaN without a seat) and ``seat_top_z`` () (NaN
without a seat).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from videomimic_offline import artifacts
from videomimic_offline.body.model import HEIGHT_RANGE, SHAPE_PARAM_NAMES, BodyShape, build_body, mat_to_quat
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.cli import argparser, finished, run_tool
from videomimic_offline.errors import InputError
from videomimic_offline.real2sim.synthetic import CAMERA_REGIMES, GENERATOR_VERSION, REGIME_MOTION, SCENE_KINDS
from videomimic_offline.real2sim.synthetic.camera import (
    PHONE_FOCAL_MM,
    REGIME_PATHS,
    focal_mm_equiv,
    focal_px,
    orbit_path,
    project,
)
from videomimic_offline.real2sim.synthetic.motion import generate_motion
from videomimic_offline.real2sim.synthetic.render import ClipRenderer, Lighting
from videomimic_offline.real2sim.synthetic.scenes import Scene, build_scene

#: Surfaces count as seen only up to this depth: far floor at grazing angles is seen in name only.
SEEN_MAX_RANGE_M = 8.0
GT_SCHEMA = "videomimic.synthetic_gt"
GT_VERSION = 1


def _sample_surface(v: np.ndarray, f: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    tri = v[f]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    idx = rng.choice(len(f), size=n, p=area / area.sum())
    r1, r2 = rng.random(n), rng.random(n)
    s = np.sqrt(r1)
    return tri[idx, 0] * (1 - s)[:, None] + tri[idx, 1] * (s * (1 - r2))[:, None] + tri[idx, 2] * (s * r2)[:, None]


def _seen_points(
    scene: Scene,
    renderer: ClipRenderer,
    T_world_cam: np.ndarray,
    depths: dict[int, np.ndarray],
    rng: np.random.Generator,
    n_candidates: int = 300_000,
    n_max: int = 120_000,
    max_range_m: float = SEEN_MAX_RANGE_M,
) -> tuple[np.ndarray, np.ndarray]:
    """Scene surface samples visible (in the image, not occluded, at most ``max_range_m`` in
    front of the camera) in at least one depth frame, and the index of the scene part each lies
    on (into ``scene.parts``)."""
    pts_all, part_all = [], []
    areas = []
    for p in scene.parts:
        tri = p.vertices[p.faces]
        areas.append(0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum())
    counts = rng.multinomial(n_candidates, np.array(areas) / np.sum(areas))
    for k, (p, n) in enumerate(zip(scene.parts, counts, strict=True)):
        pts_all.append(_sample_surface(p.vertices, p.faces, int(n), rng))
        part_all.append(np.full(int(n), k, dtype=np.int8))
    pts, part = np.vstack(pts_all), np.concatenate(part_all)
    seen = np.zeros(len(pts), dtype=bool)
    w, h = renderer.width, renderer.height
    for i, depth in depths.items():
        todo = np.flatnonzero(~seen)  # only test what no earlier frame saw
        uv, z = project(pts[None, todo], T_world_cam[i : i + 1], renderer.K)
        uv, z = uv[0], z[0]
        px = np.round(uv).astype(int)
        inside = (z > 0.05) & (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)
        d = np.full(len(todo), -1.0)
        d[inside] = depth[px[inside, 1], px[inside, 0]]
        seen[todo] = inside & (z <= max_range_m) & (np.abs(d - z) < 0.02 + 0.01 * z)
    idx = np.flatnonzero(seen)
    if len(idx) > n_max:
        idx = np.sort(rng.choice(idx, n_max, replace=False))
    return pts[idx].astype(np.float32), part[idx]


class _VideoWriter:
    """H.264 (yuv420p) writer through PyAV."""

    def __init__(self, path: Path, width: int, height: int, fps: float) -> None:
        import av

        self._av = av
        self.container = av.open(str(path), mode="w")
        self.stream = self.container.add_stream("libx264", rate=int(round(fps)))
        self.stream.width, self.stream.height = width, height
        self.stream.pix_fmt = "yuv420p"
        self.stream.options = {"crf": "17", "preset": "veryfast"}

    def write(self, rgb: np.ndarray) -> None:
        frame = self._av.VideoFrame.from_ndarray(rgb, format="rgb24")
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()


def clip_rngs(kind: str, seed: int) -> list[np.random.Generator]:
    """The independent random streams of one clip: shape, scene, motion, camera, lighting, misc
    (so e.g. changing the camera code never changes the scene drawn for a seed)."""
    ss = np.random.SeedSequence([int(seed), SCENE_KINDS.index(kind)])
    return [np.random.default_rng(s) for s in ss.spawn(6)]


#: Frame size (w, h) when none is given: the original benchmark's 4:3 for ``orbit``, 16:9 phone
#: video (at the pipeline's 640 px working size) for the casual-video regimes.
DEFAULT_SIZE: dict[str, tuple[int, int]] = {"orbit": (640, 480)}
PHONE_SIZE = (640, 360)


def frame_size(regime: str, width: int | None, height: int | None, portrait: bool) -> tuple[int, int]:
    """The clip's (w, h): the given size or the regime's default; ``portrait`` puts the long side vertical."""
    w, h = DEFAULT_SIZE.get(regime, PHONE_SIZE)
    w, h = (width or w), (height or h)
    return (min(w, h), max(w, h)) if portrait else (w, h)


def make_clip(
    kind: str,
    out: Path,
    *,
    seconds: float = 4.0,
    seed: int = 0,
    width: int | None = None,
    height: int | None = None,
    fps: float = 30.0,
    height_m: float | None = None,
    regime: str = "orbit",
    portrait: bool = False,
    focal_mm: float | None = None,
    progress: bool = True,
    extra_meta: dict | None = None,
) -> Path:
    """Generate and render one clip folder at ``out`` (replaced atomically); returns ``out``.

    ``regime`` picks the camera (``CAMERA_REGIMES``). ``orbit`` keeps the original benchmark's
    camera (640x480, vertical field of view 48-60 degrees); the other regimes film like a phone:
    16:9 (``portrait`` swaps the axes) with a ``focal_mm`` (35 mm equivalent, random in 24-28 mm
    when None) lens. The same kind and seed give the same person, scene and motion in every
    regime; only the camera differs.
    """
    if kind not in SCENE_KINDS:
        raise InputError(f"unknown scene kind '{kind}': choose one of {', '.join(SCENE_KINDS)}")
    if regime not in CAMERA_REGIMES:
        raise InputError(f"unknown camera regime '{regime}': choose one of {', '.join(CAMERA_REGIMES)}")
    if not 0.5 <= seconds <= 120:
        raise InputError(f"--seconds {seconds} is outside 0.5..120")
    width, height = frame_size(regime, width, height, portrait)
    if width % 2 or height % 2 or not (64 <= width <= 4096 and 64 <= height <= 4096):
        raise InputError(f"image size {width}x{height} must be even and within 64..4096 px")
    if height_m is not None and not HEIGHT_RANGE[0] <= height_m <= HEIGHT_RANGE[1]:
        raise InputError(f"--height-m {height_m} is outside {HEIGHT_RANGE[0]}..{HEIGHT_RANGE[1]} m")
    if focal_mm is not None and not 10.0 <= focal_mm <= 200.0:
        raise InputError(f"--focal-mm {focal_mm} is not a phone lens; give a 35 mm equivalent, e.g. 26")
    t0 = time.perf_counter()
    r_shape, r_scene, r_motion, r_cam, r_light, r_misc = clip_rngs(kind, seed)
    shape = BodyShape(
        height_m=float(height_m if height_m is not None else r_shape.uniform(*HEIGHT_RANGE)),
        leg_ratio=float(r_shape.uniform(0.95, 1.05)),
        shoulder_ratio=float(r_shape.uniform(0.9, 1.1)),
        girth=float(r_shape.uniform(0.85, 1.25)),
    )
    tex_seed = int(r_shape.integers(1 << 30))
    body = build_body(shape, seed=tex_seed)
    scene = build_scene(kind, r_scene, seconds=seconds)
    motion = generate_motion(scene, body, r_motion, seconds, fps)
    T = len(motion.root_pos)
    if regime == "orbit" and focal_mm is None:
        fovy = float(r_cam.uniform(48, 60))  # the original benchmark camera, draw for draw
    else:
        f = focal_px(float(focal_mm if focal_mm is not None else r_cam.uniform(*PHONE_FOCAL_MM)), (width, height))
        fovy = float(np.degrees(2 * np.arctan(0.5 * height / f)))
    lighting = Lighting.random(r_light)
    renderer = ClipRenderer(scene, body, width, height, fovy, lighting)
    try:
        size = (width, height)
        if regime == "orbit":
            T_world_cam, cam_info = orbit_path(motion.joints_w, fps, r_cam, renderer.K, size, shape.height_m)
        else:
            path = REGIME_PATHS[regime]
            T_world_cam, cam_info = path(
                motion.joints_w, fps, r_cam, renderer.K, size, shape.height_m, scene.surface_height
            )
        f_eq = focal_mm_equiv(float(renderer.K[0, 0]), size)
        seat = scene.seat_box()
        nan3 = np.full(3, np.nan)
        depth_every = max(1, int(np.ceil(T / 10)))  # ~10 depth frames define the seen region
        depths: dict[int, np.ndarray] = {}
        out = Path(out)
        with artifacts.atomic_dir(out) as tmp:
            writer = _VideoWriter(tmp / "video.mp4", width, height, fps)
            try:
                for i in tqdm(range(T), desc=f"render {kind}", unit="frame", disable=not progress, leave=False):
                    verts = body.skin(motion.joints_w[i], motion.rots_w[i])
                    renderer.set_body(verts)
                    renderer.set_light_target(motion.root_pos[i])
                    renderer.set_camera(T_world_cam[i])
                    writer.write(renderer.render("rgb"))
                    if i % depth_every == 0 or i == T - 1:
                        depths[i] = renderer.render("depth")
            finally:
                writer.close()
            seen, seen_part = _seen_points(scene, renderer, T_world_cam, depths, r_misc)
            face_part = np.concatenate([np.full(len(p.faces), k, np.int8) for k, p in enumerate(scene.parts)])
            sv, sf = scene.mesh()
            artifacts.write_npz(
                tmp / "gt.npz",
                schema=GT_SCHEMA,
                version=GT_VERSION,
                fps=np.float64(fps),
                image_size=np.array([width, height], dtype=np.int64),
                K=renderer.K,
                T_world_cam=T_world_cam,
                joints_w=motion.joints_w.astype(np.float64),
                joint_names=np.array(HUMAN_JOINTS),
                root_pos_w=motion.root_pos,
                root_quat_w=mat_to_quat(motion.root_rot),
                contacts=motion.contacts,
                height_m=np.float64(shape.height_m),
                scene_vertices=sv,
                scene_faces=sf.astype(np.int64),
                scene_kind=np.array(kind),
                seed=np.int64(seed),
                body_params=shape.as_array(),
                body_local_quat=mat_to_quat(motion.local_rots),
                body_texture_seed=np.int64(tex_seed),
                scene_seen_points=seen,
                scene_seen_part=seen_part,
                scene_face_part=face_part,
                scene_part_names=np.array([p.name for p in scene.parts]),
                camera_regime=np.array(regime),
                camera_motion=np.array(REGIME_MOTION[regime]),
                focal_mm_equiv=np.float64(f_eq),
                seat_contact=motion.seat_contact.astype(bool),
                seat_box_center=seat[0] if seat else nan3,
                seat_box_size=seat[1] if seat else nan3,
                seat_box_yaw=np.float64(seat[2] if seat else np.nan),
                seat_top_z=np.float64(seat[0][2] + seat[1][2] / 2 if seat else np.nan),
            )
            artifacts.write_json(
                tmp / "meta.json",
                {
                    "generator": "videomimic_offline.real2sim.synthetic",
                    "generator_version": GENERATOR_VERSION,
                    "scene_kind": kind,
                    "seed": int(seed),
                    "seconds": float(seconds),
                    "frames": int(T),
                    "fps": float(fps),
                    "image_size": [width, height],
                    "height_m": shape.height_m,
                    "body_shape": dict(zip(SHAPE_PARAM_NAMES, shape.as_array().tolist(), strict=True)),
                    "fovy_deg": fovy,
                    "focal_mm_equiv": f_eq,
                    "camera_regime": regime,
                    "camera_motion": REGIME_MOTION[regime],
                    "portrait": height > width,
                    "camera": cam_info,
                    "lighting": lighting.__dict__,
                    "scene_layout": scene.layout,
                    "seen_max_range_m": SEEN_MAX_RANGE_M,
                    "render_seconds": round(time.perf_counter() - t0, 2),
                    **(extra_meta or {}),
                },
            )
    finally:
        renderer.close()
    return out


def load_gt(clip_dir: Path) -> dict[str, np.ndarray]:
    """Read a clip's ``gt.npz`` (schema-checked)."""
    return artifacts.read_npz(Path(clip_dir) / "gt.npz", schema=GT_SCHEMA, max_version=GT_VERSION)


@run_tool
def main(argv: list[str] | None = None) -> int:
    """``make_synthetic_clip``: render a ground-truth clip folder."""
    ap = argparser(
        "make_synthetic_clip",
        "Render a synthetic clip (textured person on stairs/curb/bench/chair/ledge, filmed in "
        "one of the casual phone-camera regimes) with ground truth: DIR/video.mp4, DIR/gt.npz, DIR/meta.json.",
    )
    ap.add_argument(
        "--kind", choices=SCENE_KINDS, default="stairs_up", help="what the person climbs, steps on or sits on"
    )
    ap.add_argument(
        "--camera",
        choices=CAMERA_REGIMES,
        default="orbit",
        help="camera regime: orbit (the original benchmark), tripod (static), pan_tilt (rotation only), "
        "handheld_still (cm drift + shake), follow_behind (walking behind the person)",
    )
    ap.add_argument("--seconds", type=float, default=4.0, help="clip length, s")
    ap.add_argument("--seed", type=int, default=0, help="random seed (person, texture, camera path)")
    ap.add_argument("--width", type=int, default=None, help="default 640 (orbit 640x480, other regimes 640x360)")
    ap.add_argument("--height", type=int, default=None, help="default from --width and the regime's aspect")
    ap.add_argument("--portrait", action="store_true", help="portrait video: the long side vertical")
    ap.add_argument("--focal-mm", type=float, default=None, help="lens, 35 mm equivalent (default random 24-28)")
    ap.add_argument("--fps", type=float, default=30.0, help="frames per second")
    ap.add_argument("--height-m", type=float, default=None, help="person height (1.5-1.95 m); random by default")
    ap.add_argument("--out", type=Path, required=True, help="output clip folder (replaced if it exists)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = make_clip(
        args.kind,
        args.out,
        seconds=args.seconds,
        seed=args.seed,
        width=args.width,
        height=args.height,
        fps=args.fps,
        height_m=args.height_m,
        regime=args.camera,
        portrait=args.portrait,
        focal_mm=args.focal_mm,
    )
    finished(
        "make_synthetic_clip",
        f"wrote {out} ({args.kind}, {args.camera} camera, {args.seconds:g} s, seed {args.seed}) "
        f"in {time.perf_counter() - t0:.1f} s",
        f"next: reconstruct {out / 'video.mp4'} OUT (gt.npz holds the ground truth to compare with)",
        look=[out / "video.mp4", out / "meta.json"],
    )
    return 0
