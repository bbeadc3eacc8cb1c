"""Reconstruction settings: one nested dataclass, one sub-config per stage, every default once.

This module is the only place real2sim's defaults live; the stages and the functions they call
take these configs instead of keeping defaults of their own. Through ``videomimic_offline.settings``
the same dataclass gives the command line of ``reconstruct`` and the ``r2s_*`` tools (every field
is a flag: ``--height-m 1.78``, ``--cameras.sfm-keyframes 40``), each stage's cache key (the
sub-configs it reads, so a new field is hashed by default; ``hashed=False`` marks the few that
cannot change results) and the resolved ``config.json`` saved beside the outputs.

Top-level fields are what a user knows about the clip (the person's height, which person, a
known focal length, how many frames to use); each stage's tuning sits in its own sub-config.
Heavy backends (SAM2, ViTPose, SMPL, MegaSaM) are opt-in by name and load from local paths given
here; nothing is ever downloaded.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from videomimic_offline.body.model import VALID_HEIGHT_M
from videomimic_offline.errors import ConfigError
from videomimic_offline.settings import setting

MaskBackend = Literal["mediapipe", "sam2"]
KeypointBackend = Literal["mediapipe", "vitpose"]
BodyBackend = Literal["skeleton", "smpl"]
CameraBackend = Literal["colmap", "megasam"]
MeshBackend = Literal["tsdf", "heightfield", "poisson", "nksr"]
SfmCameraModel = Literal["SIMPLE_PINHOLE", "SIMPLE_RADIAL"]
CameraRegime = Literal["static", "rotation", "translating"]


def _choices(name: str, value: object, literal: object) -> None:
    allowed = get_args(literal)
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is unknown; use one of {', '.join(map(str, allowed))}")


def _as_path(obj: object, *names: str) -> None:
    for name in names:
        v = getattr(obj, name)
        if v is not None and not isinstance(v, Path):
            setattr(obj, name, Path(v))


@dataclass
class VideoConfig:
    """How the video is read (hashed by the first stage; every later stage follows its result)."""

    #: Frames are resized so their longer side is at most this many pixels (speed and memory).
    max_side_px: int = 640
    #: Clips with fewer frames than this are refused (too little motion to recover anything from).
    min_frames: int = 10
    #: Memory the reconstruction may use (GiB): a longer clip is refused before any work, with the
    #: --max-frames value and an ffmpeg command that trim it to fit (``video.check_memory``).
    memory_budget_gb: float = setting(8.0, hashed=False)

    def __post_init__(self) -> None:
        if self.min_frames < 2:
            raise ConfigError("video.min_frames must be at least 2")
        if self.max_side_px < 64:
            raise ConfigError("video.max_side_px must be at least 64 (pixels of the longer image side)")
        if self.memory_budget_gb <= 0:
            raise ConfigError("video.memory_budget_gb must be > 0")


@dataclass
class PersonsConfig:
    """Finding and following the person: detection, tracking, masks."""

    #: Look for people on this many evenly spaced frames (and at least one a second, up to 30) to
    #: count and pick them (``persons.detect_people``).
    detect_samples: int = 8
    #: Refuse the clip when the person is found in fewer than this fraction of frames.
    min_person_fraction: float = 0.5
    #: Person masks: "mediapipe" (segmentation of the pose model, offline default) or "sam2".
    mask_backend: MaskBackend = "mediapipe"
    #: SAM2 checkpoint (.pt) for ``mask_backend=sam2`` (a local file; hashed by content).
    sam2_checkpoint: Path | None = None
    #: SAM2 model config (.yaml) for ``mask_backend=sam2``.
    sam2_config: Path | None = None

    def __post_init__(self) -> None:
        _choices("persons.mask_backend", self.mask_backend, MaskBackend)
        _as_path(self, "sam2_checkpoint", "sam2_config")
        if self.detect_samples < 1:
            raise ConfigError("persons.detect_samples must be >= 1")
        if not 0.0 < self.min_person_fraction <= 1.0:
            raise ConfigError("persons.min_person_fraction must be in (0, 1]")


@dataclass
class KeypointsConfig:
    """2D keypoints and the per-frame 3D pose prior."""

    #: 2D keypoints: "mediapipe" (offline default) or "vitpose" (an ONNX file you provide).
    backend: KeypointBackend = "mediapipe"
    #: ViTPose ONNX file for ``backend=vitpose`` (input (1,3,256,192), heatmaps (1,17,64,48)).
    vitpose_onnx: Path | None = None
    #: Undo stretches of frames where the 2D detector swapped the left and right legs' labels.
    fix_leg_swaps: bool = True
    #: Cost of one swapped frame in the leg-swap fix (px): higher keeps the detector's labels more.
    leg_swap_cost_px: float = 5.0
    #: Run MediaPipe a second time on the mirrored frames and let the leg-swap fix choose, frame by
    #: frame, between the two passes' labellings (``keypoints.fix_leg_swaps``): about twice the
    #: keypoint time; on the 17 dev clips the frames with the legs' labels wrong went 244 -> 41.
    mirror_pass: bool = True

    def __post_init__(self) -> None:
        _choices("keypoints.backend", self.backend, KeypointBackend)
        _as_path(self, "vitpose_onnx")


@dataclass
class CamerasConfig:
    """The camera path and sparse scene points (offline default: pycolmap SfM on the background)."""

    #: "colmap" (SfM on the masked video, offline default) or "megasam" (an npz you provide).
    backend: CameraBackend = "colmap"
    #: Output of MegaSaM/MonST3R (npz with depths, poses, intrinsics) for ``backend=megasam``.
    megasam_npz: Path | None = None
    #: Camera regime (``cameras.REGIMES``): None = measured from the background; "static" (tripod),
    #: "rotation" (pan/tilt) or "translating" (SfM) forces one.
    regime: CameraRegime | None = None
    #: The camera counts as static when the background moves less than this (px, median feature
    #: displacement from the first frame).
    static_px: float = 1.5
    #: The camera counts as rotating (not translating) when one homography per half second explains
    #: 95 % of the background tracks to within this (px).
    parallax_px: float = 2.5
    #: ... and counts as translating whatever the median when any half-second window shows this much
    #: parallax (px): a camera that walks behind the person for part of the clip only (it stops when
    #: they stop) has a low median; a hand held still or turning stayed under 3 px in every window.
    walk_parallax_px: float = 5.0
    #: Unknown focal: the phone prior, this factor x the longer image side (0.72 = a 26 mm equivalent
    #: lens, the middle of phone main cameras' 24-28 mm, 69 deg across the long side), used when
    #: neither SfM nor a rotating camera's self-calibration gives one; also SfM's start (COLMAP's usual
    #: 1.2 converged to a wrong focal on short, small-baseline clips); SfM results further than 25 %
    #: from it are mapped again with it fixed. ``info.json``'s ``focal_source`` says which was used.
    focal_init_factor: float = 0.72
    #: A still camera's gravity and (when two perpendicular horizontal families agree with the
    #: vertical one) focal length from the vanishing points of the scene's straight lines
    #: (``vanishing.py``). Off by default: on the three dev tripod clips it put gravity within
    #: 0.1-0.5 deg (from 0.6-2.6) and the focal within 0.2 and 3.6 % where found (the prior was 4.7
    #: and 5.9 % off), but the stance feet's levels then no longer set the floor's tilt, and the
    #: person's depth errors showed as step and seat height errors (step 0.035 -> 0.043 m, seat
    #: 0.005 -> 0.021 m). Turn it on for a level, gravity-true scene from a tripod.
    scene_lines: bool = False
    #: Number of keyframes given to SfM (evenly spaced); other frames are interpolated.
    sfm_keyframes: int = 30
    #: Max SIFT features per keyframe.
    sfm_max_features: int = 2048
    #: Sequential matching window (each keyframe is matched to this many following ones).
    sfm_overlap: int = 8
    #: Fraction of keyframes that must register, else the camera is called unusable.
    sfm_min_registered: float = 0.6
    #: COLMAP camera model when the focal is estimated: SIMPLE_PINHOLE (f, cx, cy) is the most
    #: stable for short clips; SIMPLE_RADIAL adds one distortion term for wide phone lenses.
    sfm_camera_model: SfmCameraModel = "SIMPLE_PINHOLE"
    #: SfM's cameras are checked against the relative rotations that tracked background corners give
    #: between keyframes half a second apart (essential matrices); further than this (deg, median over
    #: the pairs) and track odometry replaces them. Good SfM agrees to ~0.1-0.3 deg; on a
    #: follow-behind clip SfM drifted 3-4 deg per keyframe.
    sfm_rotation_check_deg: float = 1.0
    #: The person mask is dilated by this many pixels before masking features (shadows, edges).
    mask_dilate_px: int = 15

    def __post_init__(self) -> None:
        _choices("cameras.backend", self.backend, CameraBackend)
        _choices("cameras.sfm_camera_model", self.sfm_camera_model, SfmCameraModel)
        if self.regime is not None:
            _choices("cameras.regime", self.regime, CameraRegime)
        _as_path(self, "megasam_npz")
        if self.sfm_keyframes < 3 or self.sfm_max_features < 100 or self.sfm_overlap < 1:
            raise ConfigError("cameras: sfm_keyframes >= 3, sfm_max_features >= 100 and sfm_overlap >= 1")
        if not 0.0 < self.sfm_min_registered <= 1.0 or self.focal_init_factor <= 0:
            raise ConfigError("cameras: sfm_min_registered must be in (0, 1] and focal_init_factor > 0")


@dataclass
class FitConfig:
    """The joint human-scene optimisation (``real2sim/optimize.py``)."""

    #: Body model giving the bone lengths at the person's height: "skeleton" (the open body
    #: model, default) or "smpl" (model files you provide).
    body_backend: BodyBackend = "skeleton"
    #: Folder holding ``smpl/SMPL_NEUTRAL.pkl`` (or SMPL-X) for ``body_backend=smpl``.
    smpl_model_dir: Path | None = None
    #: Keypoints below this confidence count as missing (weight 0) in the fit and its initialisation.
    min_keypoint_conf: float = 0.3
    #: L-BFGS iterations per pass (60 stopped well short of convergence; 300 frames take ~2-3 s).
    opt_iters: int = 150
    #: Estimate the person's leg/arm proportions from the 2D keypoints (height stays fixed) before
    #: fitting (``proportions.py``). A leg 4 % shorter than average stands the pelvis 3.5 cm lower,
    #: and every seat with it: on the 17 dev clips the leg factor's error fell from 0.035 (average
    #: legs) to 0.022 rms, and the seat height error from 0.029 to 0.020 m.
    opt_proportions: bool = True
    #: Correct the keypoint detector's skeleton size for the view (``keypoints.MEDIAPIPE_VIEW_SIZE``)
    #: where the body is the ruler (static and turning cameras): on the 9 such dev clips the scale
    #: error fell from 2.27 to 2.06 % and the seat height error from 0.030 to 0.022 m (side views had
    #: put the person ~2 % too far). A translating camera's scale comes from the scene and the
    #: stance feet; there it cost the orbit clips 6 mm of Chamfer, so it is not applied.
    opt_view_size: bool = True
    #: Term weights of the joint fit (``fit/terms.py``): a residual of one ``*_sigma`` on every
    #: element costs the term its weight. Weight of the robust 2D reprojection term.
    w_reproj: float = 1.0
    #: Weight of the bone-length term (bones keep the body model's lengths at the given height).
    w_bone: float = 0.3
    #: Weight of the 3D pose prior (the keypoint model's per-frame 3D pose).
    w_pose_prior: float = 0.03
    #: Weight of the joint-acceleration (smoothness) term.
    w_smooth: float = 0.03
    #: Weight of the planted-feet no-slide term.
    w_contact: float = 0.1
    #: Weight of the planted-feet-on-the-surface term.
    w_floor: float = 0.1
    #: Weight of the seated-pelvis-on-the-seat term.
    w_seat: float = 0.1
    #: Weight of the heading term: a walking person faces the way they go (hips and shoulders across
    #: the direction of travel of the first pass), the monocular pose's least certain turn. 0.3, not
    #: 0.03: on the 17 dev clips W-MPJPE fell from 158.9 to 154.1 mm (tripod 255 -> 242, pan/tilt
    #: 150 -> 143) with WA-MPJPE unchanged (73.2 -> 73.3); 1.0 gained 3-8 mm more on tripods but
    #: cost 2 mm WA on a tripod curb.
    w_heading: float = 0.3
    #: How far (deg) hips and shoulders may turn from across the direction of travel.
    heading_sigma_deg: float = 15.0
    #: Pelvis speed (m/s) from which the direction of travel counts (fully from twice it).
    heading_speed: float = 0.3
    #: Weight of the occlusion term: a joint the detector reports as not visible, whose 2D position
    #: lies on a visible part of the body, is kept behind that part (``fit.body.occlusion_pairs``).
    w_occlusion: float = 0.3
    #: Normaliser (m) of the bone-length error.
    bone_sigma_m: float = 0.02
    #: Normaliser (m) of the distance to the pose prior.
    pose_sigma_m: float = 0.05
    #: Normaliser (m) of a joint's per-frame acceleration (second difference).
    accel_sigma_m: float = 0.01
    #: Normaliser (m) of a planted foot's motion per frame.
    slide_sigma_m: float = 0.005
    #: Normaliser (m) of a planted ankle off its surface height.
    floor_sigma_m: float = 0.02
    #: Normaliser (m) of a seated pelvis off the seat height.
    seat_sigma_m: float = 0.02
    #: Normaliser (m) of a hidden joint's shortfall behind the body part hiding it.
    occlusion_sigma_m: float = 0.03
    #: Fit once without the foot terms, detect contacts and the surface under the feet on that
    #: smooth result, then fit again with them (the per-frame initialisation's depth jitter hides
    #: slow feet and puts them over the wrong step).
    opt_contact_pass: bool = True
    #: Robust (Geman-McClure) scale of the feet-on-surface residual (m), 0 = plain least squares: a
    #: surface estimate far from a stance foot (step edges, sparse points) must not drag the leg there.
    opt_floor_robust_m: float = 0.05
    #: Fraction of the 3D pose prior's trunk lean along the horizontal viewing direction that is kept
    #: (1 = as the keypoint model estimates it; its least certain degree of freedom, gravity is known).
    opt_prior_lean: float = 0.5
    #: Fraction of the horizontal angle of the ray to the person by which each frame's 3D pose
    #: prior is turned back into the camera's axes (``fit.body.prior_from_ray``; 0 = off). The
    #: keypoint model estimates the pose as seen along the ray through its person-centred crop, not
    #: along the optical axis, and the 2D keypoints of a side view cannot correct the facing.
    #: Off by default: at 1 it cut tripod W-MPJPE (dev 511 -> 305 mm with the span fix) but made the
    #: real walking-behind clip (glamr) not usable for training (one self-colliding frame).
    opt_prior_ray: float = 0.0
    #: Robust (Geman-McClure style) scale for 2D residuals, in pixels.
    reproj_robust_px: float = 15.0
    #: Ankle speed below which a foot counts as in contact (m/s).
    contact_speed: float = 0.35
    #: Max ankle height above the surface under it for a contact (m).
    contact_height: float = 0.20
    #: A camera that does not translate judges stance by the feet's viewing rays (``fit.contacts.
    #: ray_stance``): planted when the ray turns slower than this (m/s at the foot's depth). Looser than
    #: ``contact_speed``: the detector's ankle and toe landmarks wander a few pixels while the foot
    #: rolls (89-96 % agreement with the truth on the dev clips).
    stance_ray_speed: float = 0.6
    #: Low-pass cutoff (Hz) of the feet's viewing rays before their speed is taken.
    stance_ray_cutoff_hz: float = 2.0
    #: Refine the scale after the scene-free first pass: stance feet's ground points must lie on
    #: the scene surface along their camera rays (``fit.scale.scale_from_stance_rays``).
    surface_scale: bool = True
    #: The up direction of a still camera's scene lines (``cameras.scene_lines``) is used when it is
    #: within this angle (deg) of the person's mean body axis, which is weak (see the next setting):
    #: it was 17.7 deg off on a dev tripod clip of someone walking toward the camera, whose lines
    #: were right to 0.5 deg.
    gravity_lines_max_deg: float = 25.0
    #: How far (deg) gravity may be from the scene lines' up when the stance feet's levels refine it.
    gravity_lines_sigma_deg: float = 0.5
    #: Gravity without scene planes (static and rotating cameras, bare scenes; ``gravity.fuse_up``):
    #: each cue counts by its precision. How far (deg) the person's mean 3D body axis may be from
    #: upright (weak: a monocular pose leans along the view and walkers lean forward).
    gravity_person_sigma_deg: float = 30.0
    #: How far (deg) the cameras' roll may be from upright.
    gravity_roll_sigma_deg: float = 1.0
    #: How far (deg) the person's 2D body axis (mid-ankles to neck) may be from pointing at the vertical
    #: vanishing point while upright (``gravity.body_axis_planes``): the strongest cue without a scene.
    gravity_axis_sigma_deg: float = 5.0
    #: Height noise (m) of a stance foot's ground point for levelling the stance levels (Cauchy
    #: re-weighted); 0 = not used. Off: the body-size depth's errors tilt the levels (8 deg on a dev
    #: tripod clip); with the body axes and the roll the six dev clips end within 0.83 deg (mean 0.35).
    gravity_feet_sigma_m: float = 0.0
    #: Stance feet whose ground heights differ by more than this (m) stand on different levels
    #: (floor, a step, a curb); within it, one level.
    level_tolerance_m: float = 0.05
    #: A level less than this (m) above the one below it is the same surface (a raised heel, a foot
    #: fitted high), not a step; curbs and stair rises are 0.1-0.2 m.
    step_min_rise_m: float = 0.08
    #: Ankle joint height above the sole when standing (m), for the floor term and the scene;
    #: None = the body model's, 0.039 x stature (``ankle_height``). The old fixed 0.08 m stood a
    #: walking person's pelvis 0.010 x stature too high over the floor (median of the 17 dev
    #: clips, against -0.0004 with the body model's), and every seat with it.
    ankle_height_m: float | None = None
    #: A planted foot's toe joint stays at least this high above the surface under the foot (a flat
    #: foot's ball; a rising heel pivots about it); 0 = the toe is free.
    toe_height_m: float = 0.02
    #: Bidirectional low-pass cutoff (Hz) applied after the optimisation; 0 = off.
    smooth_cutoff_hz: float = 6.0

    def ankle_height(self, height_m: float) -> float:
        """The ankle joint's height over the sole (m) for a person ``height_m`` tall."""
        from videomimic_offline.body.model import ANKLE_HEIGHT_FRAC

        return float(self.ankle_height_m) if self.ankle_height_m is not None else ANKLE_HEIGHT_FRAC * height_m

    def __post_init__(self) -> None:
        _choices("fit.body_backend", self.body_backend, BodyBackend)
        if self.ankle_height_m is not None and self.ankle_height_m <= 0:
            raise ConfigError(f"fit.ankle_height_m={self.ankle_height_m} must be > 0 (m), or unset for 0.039 x stature")
        _as_path(self, "smpl_model_dir")
        negative = [f.name for f in dataclasses.fields(self) if f.name.startswith("w_") and getattr(self, f.name) < 0]
        if negative:
            raise ConfigError(f"fit: {', '.join(negative)} must be >= 0 (a weight; 0 switches the term off)")
        if not 0.0 <= self.opt_prior_lean <= 1.0:
            raise ConfigError(f"fit.opt_prior_lean={self.opt_prior_lean} must be in [0, 1] (the fraction of lean kept)")
        if self.opt_prior_ray < 0:
            raise ConfigError(f"fit.opt_prior_ray={self.opt_prior_ray} must be >= 0 (the fraction of the ray's angle)")
        if self.opt_floor_robust_m < 0:
            raise ConfigError("fit.opt_floor_robust_m must be >= 0 (0 = plain least squares)")
        sigmas = [
            f.name
            for f in dataclasses.fields(self)
            if f.name.endswith("_sigma_m") and f.name != "gravity_feet_sigma_m" and getattr(self, f.name) <= 0
        ]
        if sigmas:
            raise ConfigError(f"fit: {', '.join(sigmas)} must be > 0 (a residual size in metres)")
        if self.gravity_feet_sigma_m < 0:
            raise ConfigError("fit.gravity_feet_sigma_m must be >= 0 (0 = the stance levels do not tilt gravity)")
        if not 0.0 <= self.min_keypoint_conf < 1.0:
            raise ConfigError("fit.min_keypoint_conf must be in [0, 1)")
        if self.opt_iters < 1:
            raise ConfigError("fit.opt_iters must be >= 1")


@dataclass
class DenseConfig:
    """Plane-sweep stereo between SfM keyframes (``real2sim/densify.py``), for ``mesh_backend=tsdf``."""

    #: Image scale for matching.
    scale: float = 0.5
    #: Depth hypotheses (planes) per reference keyframe.
    planes: int = 48
    #: ZNCC window (pixels, at the matching scale).
    window: int = 7
    #: Keyframes matched against each reference, as offsets in the keyframe list.
    neighbour_offsets: tuple[int, ...] = (-4, -2, 2, 4)
    #: Every ref_step-th keyframe gets a depth map (2 halves the time, ~10 % worse Chamfer).
    ref_step: int = 1
    #: Lowest accepted ZNCC score.
    min_zncc: float = 0.5
    #: Intensity std (0-1) in the window below which a pixel is untextured (flat sky, blur).
    min_texture_std: float = 0.005
    #: Best ZNCC minus the best one ``ambiguity_px`` or more away must exceed this.
    min_margin: float = 0.01
    #: Distance (px) beyond which a second good match makes a pixel ambiguous.
    ambiguity_px: float = 2.0
    #: Relative depth agreement with another keyframe's map for a depth to be kept.
    consistency: float = 0.02
    #: Person mask growth (pixels at the matching scale).
    mask_dilate_px: int = 8

    def __post_init__(self) -> None:
        if not 0.1 <= self.scale <= 1.0 or self.planes < 8:
            raise ConfigError("scene.dense.scale must be in [0.1, 1] and scene.dense.planes >= 8")
        self.neighbour_offsets = tuple(int(k) for k in self.neighbour_offsets)


@dataclass
class SceneConfig:
    """The scene the robot will stand on: heightfield and mesh."""

    #: Heightfield cell size (m).
    hf_resolution: float = 0.05
    #: Cells without points are filled only when a seen cell is within this distance (m); others stay NaN.
    hf_fill_radius: float = 0.15
    #: Minimum points per cell for the cell to count as seen.
    hf_min_points: int = 1
    #: Scene mesh: "tsdf" = dense plane-sweep stereo between SfM keyframes fused in a TSDF volume;
    #: "heightfield" = the heightfield's own triangles; "poisson"; "nksr" (not installable here).
    mesh_backend: MeshBackend = "tsdf"
    #: TSDF voxel size (m).
    tsdf_voxel_m: float = 0.03
    #: TSDF truncation distance (m).
    tsdf_trunc_m: float = 0.1
    #: Farthest depth fused (m): stereo depth error grows with the square of the distance, so far
    #: walls are left out rather than fused noisily.
    tsdf_max_depth_m: float = 8.0
    #: Height of the (reconstructed) pelvis joint above the seat top while sitting, as a fraction of
    #: stature: the seat solid's top is the seated pelvis height minus this (``solids.contact_solids``;
    #: 0.077-0.079 on the two dev sitting clips, chair and ledge, not the benchmark's).
    seat_pelvis_frac: float = 0.078
    #: Poisson reconstruction depth (``mesh_backend=poisson``).
    poisson_depth: int = 8
    #: Density quantile trimmed away from the Poisson mesh.
    poisson_trim_quantile: float = 0.1
    dense: DenseConfig = field(default_factory=DenseConfig)

    def __post_init__(self) -> None:
        _choices("scene.mesh_backend", self.mesh_backend, MeshBackend)
        if (
            min(self.tsdf_voxel_m, self.tsdf_trunc_m, self.tsdf_max_depth_m) <= 0
            or self.tsdf_trunc_m < self.tsdf_voxel_m
        ):
            raise ConfigError(
                "scene: tsdf_voxel_m, tsdf_trunc_m and tsdf_max_depth_m must be > 0, with tsdf_trunc_m >= tsdf_voxel_m"
            )
        if self.hf_resolution <= 0 or self.hf_fill_radius < 0:
            raise ConfigError("scene: hf_resolution must be > 0 and hf_fill_radius >= 0")


@dataclass
class OutputsConfig:
    """What is written besides the contract artifacts."""

    #: Write overlay.mp4 (the fitted body drawn on every frame).
    write_overlay: bool = True
    #: Write snapshot.png (a static 3D picture for reports).
    write_snapshot: bool = True


@dataclass
class PipelineConfig:
    """Everything the reconstruction can be told (see the module docstring)."""

    #: The person's height in metres, the metric ruler of the whole scene; None = ``height_prior_m``.
    height_m: float | None = None
    #: Height used when ``height_m`` is not given (adult average; the scale error follows the guess).
    height_prior_m: float = 1.70
    #: Which person to reconstruct when several are visible: 0 = most visible, 1 = next, ...
    person: int = 0
    #: Use only the first N frames (None = all); long clips are cut, not subsampled.
    max_frames: int | None = None
    #: Focal length in pixels at the processed resolution, if known; None = estimated.
    focal_px: float | None = None
    #: Show progress bars and stage names on the terminal.
    progress: bool = setting(True, hashed=False)
    video: VideoConfig = field(default_factory=VideoConfig)
    persons: PersonsConfig = field(default_factory=PersonsConfig)
    keypoints: KeypointsConfig = field(default_factory=KeypointsConfig)
    cameras: CamerasConfig = field(default_factory=CamerasConfig)
    fit: FitConfig = field(default_factory=FitConfig)
    scene: SceneConfig = field(default_factory=SceneConfig)
    outputs: OutputsConfig = field(default_factory=OutputsConfig)

    def __post_init__(self) -> None:
        lo, hi = VALID_HEIGHT_M
        for name in ("height_m", "height_prior_m"):
            v = getattr(self, name)
            if v is not None and not lo <= v <= hi:
                raise ConfigError(
                    f"{name}={v} m is outside {lo}..{hi} m (the body model's range): give the person's height "
                    "in metres, e.g. --height-m 1.75"
                )
        if self.person < 0:
            raise ConfigError("person must be >= 0 (0 = the most visible person)")
        if self.max_frames is not None and self.max_frames < 1:
            raise ConfigError("max_frames must be >= 1 (or None for all frames)")
        if self.focal_px is not None and self.focal_px <= 0:
            raise ConfigError("focal_px must be > 0 (pixels at the processed resolution)")

    @property
    def height(self) -> float:
        """The metric ruler actually used."""
        return float(self.height_m if self.height_m is not None else self.height_prior_m)

    @property
    def height_source(self) -> str:
        """Where the ruler came from: "given" (``height_m``) or "prior" (``height_prior_m``)."""
        return "given" if self.height_m is not None else "prior"
