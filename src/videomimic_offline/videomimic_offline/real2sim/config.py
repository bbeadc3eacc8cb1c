"""Pipeline configuration: one dataclass, every default runs offline on a CPU.

Heavy backends (SAM2, ViTPose, SMPL, MegaSaM, NKSR) are opt-in by name and load from local paths
given here; nothing is ever downloaded.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from videomimic_offline.errors import ConfigError

MASK_BACKENDS = ("mediapipe", "sam2")
KEYPOINT_BACKENDS = ("mediapipe", "vitpose")
BODY_BACKENDS = ("skeleton", "smpl")
CAMERA_BACKENDS = ("colmap", "megasam")
MESH_BACKENDS = ("tsdf", "heightfield", "poisson", "nksr")


@dataclass
class PipelineConfig:
    """Everything the reconstruction pipeline can be told; each stage hashes the fields it reads."""

    # --- input ---
    #: Person height in metres, the metric ruler for the whole scene; None = the prior below.
    height_m: float | None = None
    #: Height used when ``height_m`` is None (adult average; the scale error follows the guess).
    height_prior_m: float = 1.70
    #: Which person to reconstruct when several are visible: 0 = most visible, 1 = next, ...
    person: int = 0
    #: Process at most this many frames (None = all); long clips are cut, not subsampled.
    max_frames: int | None = None
    #: Clips shorter than this are refused (too little motion to recover a camera from).
    min_frames: int = 10
    #: Frames are resized so their longer side is at most this many pixels (speed).
    max_side_px: int = 640
    #: Focal length in pixels at the processed resolution; None = estimated (SfM for a translating
    #: camera, self-calibration for one that rotates far enough), else the phone prior
    #: ``focal_init_factor`` x the longer side (0.8 ~ a 24-28 mm equivalent phone main camera, 64 deg
    #: across the long side; also SfM's start: COLMAP's usual 1.2 converged to a wrong focal on short,
    #: small-baseline clips). ``info.json``'s ``focal_source`` says which was used.
    focal_px: float | None = None
    focal_init_factor: float = 0.8

    # --- backends ---
    mask_backend: str = "mediapipe"
    keypoint_backend: str = "mediapipe"
    body_backend: str = "skeleton"
    camera_backend: str = "colmap"
    #: Scene mesh: "tsdf" = dense plane-sweep stereo between SfM keyframes fused in a TSDF volume
    #: (real2sim/densify.py); "heightfield" = the heightfield's own triangles; "poisson"; "nksr".
    mesh_backend: str = "tsdf"
    #: SAM2 checkpoint (.pt) and model config (.yaml) paths for ``mask_backend="sam2"``.
    sam2_checkpoint: Path | None = None
    sam2_config: Path | None = None
    #: Undo stretches of frames where the 2D detector swapped the left and right legs' labels
    #: (``keypoints.fix_leg_swaps``; the per-swapped-frame cost in px).
    fix_leg_swaps: bool = True
    leg_swap_cost_px: float = 5.0
    #: ViTPose ONNX file for ``keypoint_backend="vitpose"`` (input (1,3,256,192), heatmaps (1,17,64,48)).
    vitpose_onnx: Path | None = None
    #: Folder holding ``smpl/SMPL_NEUTRAL.pkl`` (or SMPL-X) for ``body_backend="smpl"``.
    smpl_model_dir: Path | None = None
    #: Output of MegaSaM/MonST3R (npz with depths, poses, intrinsics) for ``camera_backend="megasam"``.
    megasam_npz: Path | None = None

    # --- persons / keypoints ---
    #: Landmarks below this visibility count as missing (weight 0) in the optimisation.
    min_keypoint_conf: float = 0.3
    #: Refuse the clip when the person is found in fewer than this fraction of frames.
    min_person_fraction: float = 0.5
    #: Run the HOG people detector on this many evenly spaced frames to count and pick people.
    detect_samples: int = 8

    # --- camera / SfM ---
    #: Camera regime (``cameras.REGIMES``): None = measured from the background; "static" (tripod),
    #: "rotation" (pan/tilt) or "translating" (SfM) forces one.
    camera_regime: str | None = None
    #: The camera counts as static when the background moves less than this (px, median feature
    #: displacement from the first frame), and as rotating (not translating) when one homography per
    #: half second explains 95 % of the background tracks to within ``camera_parallax_px``.
    camera_static_px: float = 1.5
    camera_parallax_px: float = 2.5
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
    sfm_camera_model: str = "SIMPLE_PINHOLE"
    #: The person mask is dilated by this many pixels before masking features (shadows, edges).
    mask_dilate_px: int = 15

    # --- joint optimisation ---
    #: L-BFGS iterations per pass (60 stopped well short of convergence; 300 frames take ~2-3 s).
    opt_iters: int = 150
    #: Estimate the person's leg/arm proportions from the 2D keypoints (height stays fixed) before
    #: fitting; average proportions bias the depth, and so the scene scale, by a few percent.
    #: Experimental, off: on the benchmark clips it barely moved from the average (not yet useful).
    opt_proportions: bool = False
    #: Term weights of the joint fit (``fit/terms.py``): a residual of one ``*_sigma`` on every
    #: element costs the term its weight. Robust 2D reprojection; bone lengths; the 3D pose prior;
    #: joint accelerations; planted feet not sliding; planted feet on the surface; a seated pelvis
    #: on the seat.
    w_reproj: float = 1.0
    w_bone: float = 0.3
    w_pose_prior: float = 0.03
    w_smooth: float = 0.03
    w_contact: float = 0.1
    w_floor: float = 0.1
    w_seat: float = 0.1
    #: Normalisers (m) of those terms: bone length error, pose prior distance, per-frame joint
    #: acceleration (second difference), planted-foot motion per frame, planted ankle off its
    #: surface height, seated pelvis off the seat height, and a hidden joint's shortfall behind the
    #: body part hiding it.
    bone_sigma_m: float = 0.02
    pose_sigma_m: float = 0.05
    accel_sigma_m: float = 0.01
    slide_sigma_m: float = 0.005
    floor_sigma_m: float = 0.02
    seat_sigma_m: float = 0.02
    occlusion_sigma_m: float = 0.03
    #: Fit once without the foot terms, detect contacts and the surface under the feet on that
    #: smooth result, then fit again with them (the per-frame initialisation's depth jitter hides
    #: slow feet and puts them over the wrong step).
    opt_contact_pass: bool = True
    #: Robust (Geman-McClure) scale of the feet-on-surface residual (m), 0 = plain least squares: a
    #: surface estimate far from a stance foot (step edges, sparse points) must not drag the leg there.
    opt_floor_robust_m: float = 0.05
    #: Fraction of the 3D pose prior's trunk lean along the horizontal viewing direction that is kept
    #: (1 = as MediaPipe estimates it; that lean is its least certain degree of freedom, gravity is known).
    opt_prior_lean: float = 0.5
    #: Weight of the occlusion term: a joint the detector reports as not visible, whose 2D position
    #: lies on a visible part of the body, is kept behind that part (``fit.body.occlusion_pairs``).
    w_occlusion: float = 0.3
    #: Robust (Geman-McClure style) scale for 2D residuals, in pixels.
    reproj_robust_px: float = 15.0
    #: Ankle speed below which a foot counts as in contact (m/s), and max height above the floor (m).
    contact_speed: float = 0.35
    contact_height: float = 0.20
    #: Refine the scale after the scene-free first pass: stance feet's ground points must lie on
    #: the scene surface along their camera rays (``fit.scale.scale_from_stance_rays``).
    surface_scale: bool = True
    #: Gravity without scene planes (static and rotating cameras, bare scenes): how far (deg) the
    #: person's mean body axis and the cameras' roll may be from upright, and the height noise (m)
    #: of a stance foot's ground point; each cue counts by that precision (``gravity.fuse_up``).
    gravity_person_sigma_deg: float = 5.0
    gravity_roll_sigma_deg: float = 3.0
    gravity_feet_sigma_m: float = 0.03
    #: Stance feet whose ground heights differ by more than this (m) stand on different levels
    #: (floor, a step, a curb); within it, one level.
    level_tolerance_m: float = 0.05
    #: Ankle joint height above the sole when standing (m), for the floor term.
    ankle_height_m: float = 0.08
    #: Bidirectional One-Euro-like smoothing cutoff (Hz) applied after the optimisation; 0 = off.
    smooth_cutoff_hz: float = 6.0

    # --- scene ---
    #: Heightfield cell size (m).
    hf_resolution: float = 0.05
    #: Cells without points are filled only when a seen cell is within this distance (m); others stay NaN.
    hf_fill_radius: float = 0.15
    #: Minimum points per cell for the cell to count as seen.
    hf_min_points: int = 1
    #: Dense stereo for ``mesh_backend="tsdf"``: image scale, depth planes per keyframe, and the TSDF
    #: voxel size, truncation distance and the farthest depth fused (m; stereo depth error grows
    #: with the square of the distance, so far walls are left out rather than fused noisily).
    dense_scale: float = 0.5
    dense_planes: int = 48
    tsdf_voxel_m: float = 0.03
    tsdf_trunc_m: float = 0.1
    tsdf_max_depth_m: float = 8.0
    #: Poisson depth and density quantile trimmed away (for ``mesh_backend="poisson"``).
    poisson_depth: int = 8
    poisson_trim_quantile: float = 0.1

    # --- outputs ---
    write_overlay: bool = True
    write_snapshot: bool = True
    #: Show per-stage progress bars.
    progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    @property
    def height(self) -> float:
        """The metric ruler actually used."""
        return float(self.height_m if self.height_m is not None else self.height_prior_m)

    def validate(self) -> None:
        """Reject impossible values with one line that says what to change."""
        for name, allowed in (
            ("mask_backend", MASK_BACKENDS),
            ("keypoint_backend", KEYPOINT_BACKENDS),
            ("body_backend", BODY_BACKENDS),
            ("camera_backend", CAMERA_BACKENDS),
            ("mesh_backend", MESH_BACKENDS),
        ):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name}={getattr(self, name)!r} is unknown; use one of {', '.join(allowed)}")
        if self.height_m is not None and not 0.8 <= self.height_m <= 2.5:
            raise ConfigError(f"height_m={self.height_m} is not a human height; give metres, e.g. 1.75")
        if self.camera_regime is not None and self.camera_regime not in ("static", "rotation", "translating"):
            raise ConfigError(
                f"camera_regime={self.camera_regime!r} is unknown; use static, rotation, translating or leave it unset"
            )
        if self.person < 0:
            raise ConfigError("person must be >= 0 (0 = the most visible person)")
        if self.min_frames < 2:
            raise ConfigError("min_frames must be at least 2")
        negative = [f.name for f in fields(self) if f.name.startswith("w_") and getattr(self, f.name) < 0]
        if negative:
            raise ConfigError(f"{', '.join(negative)} must be >= 0 (a weight; 0 switches the term off)")
        if not 0.0 <= self.opt_prior_lean <= 1.0:
            raise ConfigError(f"opt_prior_lean={self.opt_prior_lean} must be in [0, 1] (the fraction of lean kept)")
        sigmas = [f.name for f in fields(self) if f.name.endswith("_sigma_m") and getattr(self, f.name) <= 0]
        if sigmas:
            raise ConfigError(f"{', '.join(sigmas)} must be > 0 (a residual size in metres)")
        if self.opt_floor_robust_m < 0:
            raise ConfigError("opt_floor_robust_m must be >= 0 (0 = plain least squares)")
        if not 0.1 <= self.dense_scale <= 1.0 or self.dense_planes < 8:
            raise ConfigError("dense_scale must be in [0.1, 1] and dense_planes >= 8")
        if (
            min(self.tsdf_voxel_m, self.tsdf_trunc_m, self.tsdf_max_depth_m) <= 0
            or self.tsdf_trunc_m < self.tsdf_voxel_m
        ):
            raise ConfigError(
                "tsdf_voxel_m, tsdf_trunc_m and tsdf_max_depth_m must be > 0, with tsdf_trunc_m >= tsdf_voxel_m"
            )
        for name in ("sam2_checkpoint", "sam2_config", "vitpose_onnx", "smpl_model_dir", "megasam_npz"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, Path):
                setattr(self, name, Path(v))

    def section(self, *names: str) -> dict[str, Any]:
        """The named fields as a JSON-able dict, for a stage's input hash."""
        d = dataclasses.asdict(self)
        return {n: (str(d[n]) if isinstance(d[n], Path) else d[n]) for n in names}

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(self).items()}
