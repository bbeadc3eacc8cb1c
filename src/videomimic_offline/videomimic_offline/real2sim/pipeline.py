"""The reconstruction pipeline: video -> metric, gravity-aligned human motion + scene.

Stages (each cached under ``<out>/stages/<name>/`` by the hash of its inputs and config fields,
written atomically, so an interrupted run resumes at the first unfinished stage):

    persons -> keypoints -> cameras -> optimize -> scene -> export (+ overlay, snapshot)

``run_pipeline(video_path, out_dir, config)`` is the one entry point used by the tools, the bench
and the main job; ``run_until`` stops after a named stage (one console tool per stage).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from videomimic_offline import artifacts
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.errors import ArtifactError, InputError
from videomimic_offline.real2sim.config import PipelineConfig
from videomimic_offline.real2sim.video import VideoInfo, probe, read_frames

log = logging.getLogger(__name__)

STAGES = ("persons", "keypoints", "cameras", "optimize", "scene", "export")
PIPELINE_VERSION = 4


class _Run:
    """State of one pipeline run: paths, config, lazily decoded frames, stage hashes."""

    def __init__(self, video: Path, out: Path, cfg: PipelineConfig) -> None:
        self.video, self.out, self.cfg = Path(video), Path(out), cfg
        self.info: VideoInfo = probe(self.video, cfg.max_side_px, cfg.max_frames, cfg.min_frames)
        self._frames: np.ndarray | None = None
        self.hashes: dict[str, str] = {}
        self.timings: dict[str, float] = {}
        self.video_hash = artifacts.hash_inputs(self.video)

    @property
    def frames(self) -> np.ndarray:
        if self._frames is None:
            self._frames = read_frames(self.video, self.cfg.max_side_px, self.cfg.max_frames)
        return self._frames

    def stage_dir(self, name: str) -> Path:
        return self.out / "stages" / name

    def run_stage(self, name: str, deps: tuple[str, ...], fields: tuple[str, ...], fn: Callable[[Path], None]) -> Path:
        """Run ``fn(tmp_dir)`` unless the cached result for the same inputs exists."""
        h = artifacts.hash_inputs(
            PIPELINE_VERSION, name, self.video_hash, [self.hashes[d] for d in deps], self.cfg.section(*fields)
        )
        self.hashes[name] = h
        d = self.stage_dir(name)
        if artifacts.stage_done(d, h):
            log.info("stage %s: cached", name)
            return d
        t0 = time.perf_counter()
        with artifacts.atomic_dir(d) as tmp:
            fn(tmp)
            artifacts.mark_stage(tmp, name, h, seconds=time.perf_counter() - t0)
        self.timings[name] = time.perf_counter() - t0
        return d


# ---------------------------------------------------------------- stages


def _stage_persons(run: _Run) -> Path:
    cfg = run.cfg

    def fn(tmp: Path) -> None:
        predictor = None
        if cfg.mask_backend == "sam2":
            from videomimic_offline.real2sim.backends.sam2 import load_sam2

            predictor = load_sam2(cfg.sam2_checkpoint, cfg.sam2_config)  # raises unless usable
        from videomimic_offline.real2sim.persons import track_person

        tr = track_person(run.frames, cfg.person, cfg.detect_samples, cfg.min_person_fraction, cfg.progress)
        if predictor is not None:
            import cv2

            from videomimic_offline.real2sim.backends.sam2 import sam2_masks

            jpg_dir = tmp / "sam2_frames"
            jpg_dir.mkdir()
            for t, f in enumerate(run.frames):
                cv2.imwrite(str(jpg_dir / f"{t:05d}.jpg"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
            tr.masks = np.maximum(tr.masks, sam2_masks(predictor, jpg_dir, tr.boxes))
            shutil.rmtree(jpg_dir)
        artifacts.write_npz(
            tmp / "persons.npz", schema="videomimic.r2s_persons", version=1,
            boxes=tr.boxes, masks=tr.masks, mp_2d=tr.mp_2d, mp_3d=tr.mp_3d, found=tr.found,
            num_people=tr.num_people, person=tr.person,
        )  # fmt: skip
        artifacts.write_json(tmp / "video.json", run.info.to_dict())

    return run.run_stage(
        "persons",
        (),
        ("max_side_px", "max_frames", "person", "detect_samples", "min_person_fraction", "mask_backend"),
        fn,
    )


def _stage_keypoints(run: _Run) -> Path:
    cfg = run.cfg
    pdir = run.stage_dir("persons")

    def fn(tmp: Path) -> None:
        from videomimic_offline.real2sim.keypoints import from_mediapipe

        p = artifacts.read_npz(pdir / "persons.npz", schema="videomimic.r2s_persons", max_version=1)
        kp2d, conf, local3d = from_mediapipe(p["mp_2d"], p["mp_3d"])
        if cfg.keypoint_backend == "vitpose":
            from videomimic_offline.real2sim.backends.vitpose import VitPose

            kp2d, conf = VitPose(cfg.vitpose_onnx).predict_video(run.frames, p["boxes"], kp2d, conf)
        swapped = np.zeros(len(kp2d), bool)
        if cfg.fix_leg_swaps:
            from videomimic_offline.real2sim.keypoints import fix_leg_swaps

            kp2d, conf, local3d, swapped = fix_leg_swaps(kp2d, conf, local3d, cfg.leg_swap_cost_px)
        artifacts.write_npz(
            tmp / "keypoints.npz", schema="videomimic.r2s_keypoints", version=1,
            kp2d=kp2d, conf=conf, local3d=local3d, joint_names=np.array(HUMAN_JOINTS), leg_swapped=swapped,
        )  # fmt: skip

    fields = ("keypoint_backend", "vitpose_onnx", "fix_leg_swaps", "leg_swap_cost_px")
    return run.run_stage("keypoints", ("persons",), fields, fn)


def _stage_cameras(run: _Run) -> Path:
    cfg = run.cfg
    pdir = run.stage_dir("persons")

    def fn(tmp: Path) -> None:
        W, H = run.info.width, run.info.height
        if cfg.camera_backend == "megasam":
            from videomimic_offline.real2sim.backends.megasam import read_megasam

            ct = read_megasam(cfg.megasam_npz, run.info.num_frames, (W, H))
        else:
            from videomimic_offline.real2sim.cameras import estimate_cameras

            p = artifacts.read_npz(pdir / "persons.npz", schema="videomimic.r2s_persons", max_version=1)
            sfm = {
                "num_keyframes": cfg.sfm_keyframes, "max_features": cfg.sfm_max_features, "overlap": cfg.sfm_overlap,
                "min_registered": cfg.sfm_min_registered, "dilate_px": cfg.mask_dilate_px,
                "camera_model": cfg.sfm_camera_model,
            }  # fmt: skip
            ct = estimate_cameras(
                run.frames, p["masks"], run.info.fps, tmp / "colmap", focal_px=cfg.focal_px,
                focal_prior_factor=cfg.focal_init_factor, static_px=cfg.camera_static_px,
                parallax_px=cfg.camera_parallax_px, regime=cfg.camera_regime, dilate_px=cfg.mask_dilate_px, sfm=sfm,
            )  # fmt: skip
        artifacts.write_npz(
            tmp / "sfm.npz", schema="videomimic.r2s_sfm", version=1,
            K=ct.K, T_world_cam=ct.T_world_cam, points=ct.points, colors=ct.colors, keyframes=ct.keyframes,
            image_size=np.array(ct.image_size), regime=np.array(ct.regime), focal_source=np.array(ct.focal_source),
        )  # fmt: skip
        artifacts.write_json(tmp / "info.json", {"regime": ct.regime, "focal_source": ct.focal_source, **ct.info})

    fields = ("camera_backend", "megasam_npz", "focal_px", "focal_init_factor", "sfm_keyframes", "sfm_max_features")
    fields += ("sfm_overlap", "sfm_min_registered", "mask_dilate_px", "sfm_camera_model")
    fields += ("camera_regime", "camera_static_px", "camera_parallax_px")
    return run.run_stage("cameras", ("persons",), fields, fn)


def _stage_optimize(run: _Run) -> Path:
    cfg = run.cfg

    def fn(tmp: Path) -> None:
        from videomimic_offline.real2sim.optimize import OptInputs, optimize

        k = artifacts.read_npz(
            run.stage_dir("keypoints") / "keypoints.npz", schema="videomimic.r2s_keypoints", max_version=1
        )
        c = artifacts.read_npz(run.stage_dir("cameras") / "sfm.npz", schema="videomimic.r2s_sfm", max_version=1)
        res = optimize(
            OptInputs(
                k["kp2d"],
                k["conf"],
                k["local3d"],
                c["K"],
                c["T_world_cam"],
                c["points"],
                run.info.fps,
                cfg.height,
                str(c["regime"]) if "regime" in c else "translating",
            ),
            cfg,
        )
        artifacts.write_npz(
            tmp / "result.npz", schema="videomimic.r2s_opt", version=1,
            joints_w=res.joints_w, contacts=res.contacts, T_world_cam=res.T_world_cam, points=res.points,
            colors=c["colors"], scale=res.scale, T_align=res.T_align, K=c["K"],
        )  # fmt: skip
        artifacts.write_json(tmp / "info.json", res.info)

    fields = tuple(
        f
        for f in cfg.to_dict()
        if f.startswith(("w_", "opt_", "contact_", "reproj_", "smooth_", "surface_"))
        or f.endswith("_sigma_m")
        or f.startswith(("gravity_", "level_"))
        or f in ("ankle_height_m", "min_keypoint_conf")
    )
    fields += ("height_m", "height_prior_m", "body_backend", "smpl_model_dir")
    return run.run_stage("optimize", ("keypoints", "cameras"), fields, fn)


def _stage_scene(run: _Run) -> Path:
    cfg = run.cfg

    def fn(tmp: Path) -> None:
        from videomimic_offline.contracts.heightfield import Heightfield, write_heightfield
        from videomimic_offline.contracts.scene import SceneInfo, write_scene_info
        from videomimic_offline.real2sim import scene

        dense_info: dict[str, object] = {}
        r = artifacts.read_npz(run.stage_dir("optimize") / "result.npz", schema="videomimic.r2s_opt", max_version=1)
        pts = _scene_points(r["points"], r["joints_w"], r["T_world_cam"])
        soles_xy, sole_z = _planted_soles(r["joints_w"], r["contacts"], cfg.ankle_height_m)
        hf = scene.grid_heightfield(
            pts, cfg.hf_resolution, cfg.hf_fill_radius, cfg.hf_min_points, extent_xy=soles_xy.reshape(-1, 2)
        )
        hf = scene.stamp_contacts(hf, soles_xy, sole_z)
        if cfg.mesh_backend == "poisson":
            ys, xs = np.nonzero(hf.from_contact)
            stood = np.c_[
                hf.origin_xy[0] + xs * hf.resolution, hf.origin_xy[1] + ys * hf.resolution, hf.heights[ys, xs]
            ]
            verts, faces = scene.poisson_mesh(
                np.concatenate([pts, stood]), cfg.poisson_depth, cfg.poisson_trim_quantile
            )
        elif cfg.mesh_backend == "nksr":
            verts, faces = scene.nksr_mesh(pts)
        elif cfg.mesh_backend == "tsdf":
            verts, faces, dense_info = _dense_mesh(run, r)
            if len(faces) == 0:  # textureless or blurred: no surface the keyframes agree on
                log.warning("dense stereo found no consistent surface; the scene mesh is the heightfield's")
                verts, faces = scene.heightfield_mesh(hf)
                dense_info["mesh_fallback"] = "heightfield"
        else:
            verts, faces = scene.heightfield_mesh(hf)
        heights = np.where(hf.known, hf.heights, np.nan)
        write_heightfield(
            tmp / "heightfield.npz", Heightfield(heights, hf.origin_xy, hf.resolution, from_contact=hf.from_contact)
        )
        scene.write_ply(tmp / "scene_mesh.ply", verts, faces)
        np.save(tmp / "scene_points.npy", pts.astype(np.float32))
        stats = {
            "num_points": len(pts), "heightfield_known_fraction": float(hf.known.mean()),
            "heightfield_contact_cells": int(hf.from_contact.sum()),
            "heightfield_contact_only_cells": int((hf.from_contact & ~hf.seen).sum()),
            **dense_info,
            "contact_cells_note": "heightfield.npz from_contact marks cells whose height came from (or was "
            "fused with) a planted foot's sole: the person hid that ground from the camera",
        }  # fmt: skip
        write_scene_info(
            tmp / "scene.json", SceneInfo.of_mesh(f"real2sim {cfg.camera_backend} + {cfg.mesh_backend}", verts, faces,
                                                  stats=stats)
        )  # fmt: skip

    fields = (
        "ankle_height_m",
        "hf_resolution",
        "hf_fill_radius",
        "hf_min_points",
        "mesh_backend",
        "poisson_depth",
        "poisson_trim_quantile",
        "dense_scale",
        "dense_planes",
        "tsdf_voxel_m",
        "tsdf_trunc_m",
        "tsdf_max_depth_m",
    )
    return run.run_stage("scene", ("optimize",), fields, fn)


def _dense_mesh(run: _Run, r: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    """Scene mesh from dense stereo between the SfM keyframes, fused in a TSDF (real2sim/densify.py).

    Uses the optimised (metric, gravity-aligned) cameras, so the mesh is in the motion's world frame.
    """
    from dataclasses import replace

    from videomimic_offline.real2sim.densify import DenseConfig, dense_depths, tsdf_mesh

    cfg = run.cfg
    sfm = artifacts.read_npz(run.stage_dir("cameras") / "sfm.npz", schema="videomimic.r2s_sfm", max_version=1)
    masks = artifacts.read_npz(
        run.stage_dir("persons") / "persons.npz", schema="videomimic.r2s_persons", max_version=1
    )["masks"]
    dcfg = replace(DenseConfig(), scale=cfg.dense_scale, planes=cfg.dense_planes)
    dd = dense_depths(
        run.frames, masks, r["K"], r["T_world_cam"], sfm["keyframes"], r["points"], dcfg, progress=cfg.progress
    )
    verts, faces = tsdf_mesh(dd, cfg.tsdf_voxel_m, cfg.tsdf_trunc_m, cfg.tsdf_max_depth_m)
    return verts, faces, {k: round(v, 4) for k, v in dd.info.items()}


def _scene_points(points: np.ndarray, joints: np.ndarray, Twc: np.ndarray) -> np.ndarray:
    """Scene points worth meshing: near the person's path and the cameras, not on the person."""
    anchor = np.concatenate([joints[:, 0], Twc[:, :3, 3]])
    lo = anchor[:, :2].min(axis=0) - 8.0
    hi = anchor[:, :2].max(axis=0) + 8.0
    keep = (points[:, :2] >= lo).all(axis=1) & (points[:, :2] <= hi).all(axis=1)
    # z = 0 is the ground under the person's first steps; the scene may go below it (stairs down)
    keep &= (points[:, 2] > -3.0) & (points[:, 2] < joints[..., 2].max() + 1.5)
    points = points[keep]
    # points the body passed through are on the person (mask leaks, shadows), not the scene
    from scipy.spatial import cKDTree

    body = [i for i, n in enumerate(HUMAN_JOINTS) if not n.endswith(("ankle", "toe"))]
    near_body = cKDTree(joints[:, body].reshape(-1, 3)).query(points, distance_upper_bound=0.2)[0] < 0.2
    return points[~near_body]


def _planted_soles(joints: np.ndarray, contacts: np.ndarray, ankle_height: float) -> tuple[np.ndarray, np.ndarray]:
    """Sole footprints (N,K,2) and heights (N,) of every planted foot in every frame."""
    from videomimic_offline.real2sim.scene import sole_samples

    idx = HUMAN_JOINTS.index
    ankles = joints[:, [idx("left_ankle"), idx("right_ankle")]]
    toes = joints[:, [idx("left_toe"), idx("right_toe")]]
    c = np.asarray(contacts, bool)
    if not c.any():
        return np.zeros((0, 1, 2)), np.zeros(0)
    return sole_samples(ankles[c], toes[c]), ankles[c][:, 2] - ankle_height


def _export(run: _Run) -> Path:
    """Write the contract artifacts at the top of the output folder (each file atomically)."""
    from videomimic_offline.contracts.cameras import Cameras, write_cameras
    from videomimic_offline.contracts.human_motion import HumanMotion, write_human_motion
    from videomimic_offline.real2sim.body_template import rest_joints
    from videomimic_offline.real2sim.rotations import joint_rotations

    out, cfg = run.out, run.cfg
    # a re-run with the same stages and settings leaves the finished outputs untouched (batch resume)
    settings = {k: v for k, v in cfg.to_dict().items() if k != "progress"}
    export_hash = artifacts.hash_inputs(PIPELINE_VERSION, "export", run.hashes, settings)
    wanted = ["motion.npz", "cameras.npz", "heightfield.npz", "scene_mesh.ply", "scene.json", "report.json"]
    wanted += ["overlay.mp4"] * cfg.write_overlay + ["snapshot.png"] * cfg.write_snapshot
    if all((out / n).is_file() for n in wanted):
        try:
            if artifacts.read_json(out / "report.json").get("export_hash") == export_hash:
                log.info("export: cached")
                return out
        except (OSError, ValueError, ArtifactError):
            pass
    r = artifacts.read_npz(run.stage_dir("optimize") / "result.npz", schema="videomimic.r2s_opt", max_version=1)
    sdir = run.stage_dir("scene")
    joints = r["joints_w"]
    rest = rest_joints(cfg.height, cfg.body_backend, cfg.smpl_model_dir)
    joint_rot_w, body_pose = joint_rotations(joints, rest)
    write_human_motion(
        out / "motion.npz",
        HumanMotion(
            run.info.fps, joints, r["contacts"], cfg.height, rest, joint_rot_w, body_pose, source=str(run.video)
        ),
    )
    write_cameras(
        out / "cameras.npz", Cameras(r["K"], r["T_world_cam"], (run.info.width, run.info.height), run.info.fps)
    )
    for name in ("heightfield.npz", "scene_mesh.ply", "scene.json"):
        artifacts.atomic_write_bytes(out / name, (sdir / name).read_bytes())
    if cfg.write_overlay:
        from videomimic_offline.real2sim.visualize import write_overlay

        write_overlay(run.frames, joints, r["T_world_cam"], r["K"], out / "overlay.mp4", run.info.fps)
    if cfg.write_snapshot:
        from videomimic_offline.real2sim.visualize import write_snapshot

        write_snapshot(out, out / "snapshot.png")
    opt_info = json.loads((run.stage_dir("optimize") / "info.json").read_text())
    artifacts.write_json(
        out / "report.json",
        {
            "video": str(run.video), "video_info": run.info.to_dict(), "height_m": cfg.height,
            "height_source": "user" if cfg.height_m is not None else "prior", "config": cfg.to_dict(),
            "stage_hashes": run.hashes, "stage_seconds": run.timings, "optimize": opt_info,
            "export_hash": export_hash,
        },
    )  # fmt: skip
    return out


_ORDER: dict[str, Callable[[_Run], Path]] = {
    "persons": _stage_persons,
    "keypoints": _stage_keypoints,
    "cameras": _stage_cameras,
    "optimize": _stage_optimize,
    "scene": _stage_scene,
    "export": _export,
}


def run_until(video_path: Path, out_dir: Path, config: PipelineConfig | None = None, last: str = "export") -> Path:
    """Run (or resume) the stages up to and including ``last``; returns that stage's folder."""
    if last not in _ORDER:
        raise InputError(f"unknown stage {last!r}; stages are {', '.join(STAGES)}")
    cfg = config or PipelineConfig()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file; give a folder for the outputs")
    if out.is_dir() and any(out.iterdir()) and not (out / "stages").is_dir() and not (out / "report.json").exists():
        raise InputError(f"{out} already holds other files; give an empty or new folder for the outputs")
    created = not out.exists()
    try:
        run = _Run(Path(video_path), out, cfg)  # probes: bad files fail before anything is written
        result = out
        for name in STAGES:
            result = _ORDER[name](run)
            if name == last:
                break
        return result
    except BaseException:
        if created and out.is_dir() and not any((out / "stages").glob("*/stage.json")):
            shutil.rmtree(out, ignore_errors=True)  # nothing finished: leave no empty or partial folder
        raise


def run_pipeline(video_path: Path, out_dir: Path, config: PipelineConfig | None = None) -> Path:
    """Reconstruct ``video_path`` into ``out_dir`` (motion, cameras, scene, overlay); returns ``out_dir``."""
    run_until(video_path, out_dir, config, "export")
    out = Path(out_dir)
    if not (out / "motion.npz").is_file():
        raise ArtifactError(f"{out}/motion.npz was not written; re-run the pipeline")
    return out
