"""The reconstruction pipeline: video -> metric, gravity-aligned human motion + scene.

Stages (each cached under ``<out>/stages/<name>/`` by the hash of its inputs and of the config it
reads, ``STAGE_READS``; written atomically, so an interrupted run resumes at the first unfinished
stage):

    persons -> keypoints -> cameras -> optimize -> scene -> export (+ overlay, snapshot)

``run_pipeline(video_path, out_dir, config)`` is the one entry point used by the bench and the
main job; ``run_until`` stops after a named stage; ``run_stages`` (the tools) also says which
stages ran and which were reused. With ``config.progress`` each stage is named on stderr as it
runs, with a progress bar where it takes long.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from videomimic_offline import artifacts, settings
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.errors import ArtifactError, InputError
from videomimic_offline.real2sim.config import PipelineConfig
from videomimic_offline.real2sim.video import VideoInfo, check_memory, probe, read_frames

log = logging.getLogger(__name__)

STAGES = ("persons", "keypoints", "cameras", "optimize", "scene", "export")
PIPELINE_VERSION = 6  # 6: persons.npz records the crops MediaPipe saw (the mirrored keypoint pass needs them)

#: What each stage does, as the terminal names it.
STAGE_TITLES = {
    "persons": "finding and following the person",
    "keypoints": "2D keypoints and the 3D pose prior",
    "cameras": "the camera's regime and path (SfM when it translates)",
    "optimize": "joint fit of the body, camera scale and gravity",
    "scene": "scene heightfield and mesh",
    "export": "writing motion, cameras, scene, overlay and report",
}

#: What each stage reads from the config: sub-configs (hashed whole, so a new field is hashed by
#: default) and top-level fields ("height" is the resolved ruler). Later stages also depend on
#: the hashes of the stages they read, so e.g. ``video`` invalidates everything. Export hashes
#: the whole config.
STAGE_READS: dict[str, tuple[str, ...]] = {
    "persons": ("video", "persons", "person", "max_frames"),
    "keypoints": ("keypoints",),
    "cameras": ("cameras", "focal_px"),
    "optimize": ("fit", "height"),
    "scene": ("scene",),
}


def stage_settings(cfg: PipelineConfig, stage: str) -> dict[str, object]:
    """The part of ``cfg`` that goes into ``stage``'s cache key (``hashed=False`` fields left out)."""
    return {name: settings.cache_key(getattr(cfg, name)) for name in STAGE_READS[stage]}


def check_backends(cfg: PipelineConfig) -> None:
    """Refuse an unusable backend (missing package, missing or wrong local file) before any work."""
    if cfg.scene.mesh_backend == "nksr":
        from videomimic_offline.real2sim.scene import nksr_mesh

        nksr_mesh()
    if cfg.persons.mask_backend == "sam2":
        from videomimic_offline.real2sim.backends.sam2 import check_sam2

        check_sam2(cfg.persons.sam2_checkpoint, cfg.persons.sam2_config)
    if cfg.keypoints.backend == "vitpose":
        from videomimic_offline.real2sim.backends.vitpose import VitPose

        VitPose(cfg.keypoints.vitpose_onnx)
    if cfg.fit.body_backend == "smpl":
        from videomimic_offline.real2sim.backends.smpl import load_smpl

        load_smpl(cfg.fit.smpl_model_dir)
    if cfg.cameras.backend == "megasam":
        from videomimic_offline.real2sim.backends.megasam import open_megasam

        open_megasam(cfg.cameras.megasam_npz)


@dataclass
class RunSummary:
    """What one call of :func:`run_stages` did."""

    out: Path  # the output folder
    result: Path  # the last stage's folder (the output folder for export)
    info: VideoInfo  # the clip at the processing resolution
    ran: list[str] = field(default_factory=list)  # stages computed now, in order
    reused: list[str] = field(default_factory=list)  # stages whose cached result was kept
    seconds: float = 0.0


class _Run:
    """State of one pipeline run: paths, config, lazily decoded frames, stage hashes."""

    def __init__(self, video: Path, out: Path, cfg: PipelineConfig) -> None:
        self.video, self.out, self.cfg = Path(video), Path(out), cfg
        check_memory(self.video, cfg.video.max_side_px, cfg.max_frames, cfg.video.memory_budget_gb)
        self.info: VideoInfo = probe(self.video, cfg.video.max_side_px, cfg.max_frames, cfg.video.min_frames)
        self._frames: np.ndarray | None = None
        self.hashes: dict[str, str] = {}
        self.timings: dict[str, float] = {}
        self.video_hash = artifacts.hash_inputs(self.video)
        self.ran: list[str] = []
        self.reused: list[str] = []

    def say(self, name: str, what: str) -> None:
        """Name a stage on the terminal (stderr, so stdout stays the tool's result)."""
        if self.cfg.progress:
            print(f"[{STAGES.index(name) + 1}/{len(STAGES)}] {name}: {what}", file=sys.stderr, flush=True)

    @property
    def all_frames(self) -> np.ndarray:
        if self._frames is None:
            self._frames = read_frames(self.video, self.cfg.video.max_side_px, self.cfg.max_frames)
        return self._frames

    @property
    def span(self) -> tuple[int, int]:
        """Frames [a, b) where the chosen person is seen (the persons stage decides; the stages after
        it and the outputs cover only these)."""
        p = self.stage_dir("persons") / "persons.npz"
        if p.is_file():
            with np.load(p) as z:
                if "span" in z:
                    a, b = (int(v) for v in z["span"])
                    if b > a:
                        return a, b
        return 0, self.info.num_frames

    @property
    def frames(self) -> np.ndarray:
        """The decoded frames of the person's span (all frames before the persons stage ran)."""
        a, b = self.span
        return self.all_frames[a:b]

    def stage_dir(self, name: str) -> Path:
        return self.out / "stages" / name

    def run_stage(self, name: str, deps: tuple[str, ...], fn: Callable[[Path], None]) -> Path:
        """Run ``fn(tmp_dir)`` unless the cached result for the same inputs and settings exists."""
        reads = stage_settings(self.cfg, name)
        h = artifacts.hash_inputs(PIPELINE_VERSION, name, self.video_hash, [self.hashes[d] for d in deps], reads)
        self.hashes[name] = h
        d = self.stage_dir(name)
        if artifacts.stage_done(d, h):
            self.reused.append(name)
            self.say(name, "reused (same inputs and settings as before)")
            return d
        self.say(name, STAGE_TITLES[name] + " ...")
        t0 = time.perf_counter()
        with artifacts.atomic_dir(d) as tmp:
            fn(tmp)
            artifacts.write_json(tmp / "config.json", {k: settings.resolved(getattr(self.cfg, k)) for k in reads})
            artifacts.mark_stage(tmp, name, h, seconds=time.perf_counter() - t0)
        self.timings[name] = time.perf_counter() - t0
        self.ran.append(name)
        self.say(name, f"done in {self.timings[name]:.0f} s")
        return d


# ---------------------------------------------------------------- stages


def _stage_persons(run: _Run) -> Path:
    cfg = run.cfg

    def fn(tmp: Path) -> None:
        predictor = None
        pc = cfg.persons
        if pc.mask_backend == "sam2":
            from videomimic_offline.real2sim.backends.sam2 import load_sam2

            predictor = load_sam2(pc.sam2_checkpoint, pc.sam2_config)  # raises unless usable
        from videomimic_offline.real2sim.persons import track_person

        tr = track_person(
            run.all_frames, cfg.person, pc.detect_samples, pc.min_person_fraction, cfg.progress, run.info.fps
        )
        if predictor is not None:
            import cv2

            from videomimic_offline.real2sim.backends.sam2 import sam2_masks

            jpg_dir = tmp / "sam2_frames"
            jpg_dir.mkdir()
            for t, f in enumerate(run.all_frames):
                cv2.imwrite(str(jpg_dir / f"{t:05d}.jpg"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
            tr.masks = np.maximum(tr.masks, sam2_masks(predictor, jpg_dir, tr.boxes))
            shutil.rmtree(jpg_dir)
        artifacts.write_npz(
            tmp / "persons.npz", schema="videomimic.r2s_persons", version=1,
            boxes=tr.boxes, masks=tr.masks, mp_2d=tr.mp_2d, mp_3d=tr.mp_3d, found=tr.found,
            num_people=tr.num_people, person=tr.person, span=np.array(tr.span), crop_boxes=tr.crop_boxes,
        )  # fmt: skip
        artifacts.write_json(tmp / "video.json", run.info.to_dict())

    return run.run_stage("persons", (), fn)


def _stage_keypoints(run: _Run) -> Path:
    cfg = run.cfg.keypoints
    pdir = run.stage_dir("persons")

    def fn(tmp: Path) -> None:
        from videomimic_offline.real2sim.keypoints import from_mediapipe

        p = artifacts.read_npz(pdir / "persons.npz", schema="videomimic.r2s_persons", max_version=1)
        a, b = run.span
        kp2d, conf, local3d = from_mediapipe(p["mp_2d"][a:b], p["mp_3d"][a:b])
        if cfg.backend == "vitpose":
            from videomimic_offline.real2sim.backends.vitpose import VitPose

            kp2d, conf = VitPose(cfg.vitpose_onnx).predict_video(run.frames, p["boxes"][a:b], kp2d, conf)
        swapped = mirrored = np.zeros(len(kp2d), bool)
        second = None
        if cfg.fix_leg_swaps:
            from videomimic_offline.real2sim.keypoints import fix_leg_swaps

            if cfg.mirror_pass and cfg.backend == "mediapipe":
                from videomimic_offline.real2sim.persons import run_mediapipe

                m2d, m3d, _ = run_mediapipe(run.frames, p["crop_boxes"][a:b], run.cfg.progress, mirror=True)
                second = from_mediapipe(m2d, m3d)
            kp2d, conf, local3d, swapped, mirrored = fix_leg_swaps(kp2d, conf, local3d, cfg.leg_swap_cost_px, second)
        artifacts.write_npz(
            tmp / "keypoints.npz", schema="videomimic.r2s_keypoints", version=1,
            kp2d=kp2d, conf=conf, local3d=local3d, joint_names=np.array(HUMAN_JOINTS), leg_swapped=swapped,
            from_mirrored=mirrored, mirrored_pass=np.array(second is not None), backend=np.array(cfg.backend),
        )  # fmt: skip

    return run.run_stage("keypoints", ("persons",), fn)


def _stage_cameras(run: _Run) -> Path:
    cfg = run.cfg.cameras
    pdir = run.stage_dir("persons")

    def fn(tmp: Path) -> None:
        W, H = run.info.width, run.info.height
        if cfg.backend == "megasam":
            from videomimic_offline.real2sim.backends.megasam import read_megasam

            ct = read_megasam(cfg.megasam_npz, run.info.num_frames, (W, H))
            a, b = run.span
            ct.T_world_cam = ct.T_world_cam[a:b]
        else:
            from videomimic_offline.real2sim.cameras import estimate_cameras

            p = artifacts.read_npz(pdir / "persons.npz", schema="videomimic.r2s_persons", max_version=1)
            a, b = run.span
            ct = estimate_cameras(
                run.frames,
                p["masks"][a:b],
                run.info.fps,
                tmp / "colmap",
                cfg,
                run.cfg.focal_px,
                progress=run.cfg.progress,
            )
        artifacts.write_npz(
            tmp / "sfm.npz", schema="videomimic.r2s_sfm", version=1,
            K=ct.K, T_world_cam=ct.T_world_cam, points=ct.points, colors=ct.colors, keyframes=ct.keyframes,
            image_size=np.array(ct.image_size), regime=np.array(ct.regime), focal_source=np.array(ct.focal_source),
            scene_up=np.full(3, np.nan) if ct.scene_up is None else np.asarray(ct.scene_up, float),
        )  # fmt: skip
        artifacts.write_json(tmp / "info.json", {"regime": ct.regime, "focal_source": ct.focal_source, **ct.info})

    return run.run_stage("cameras", ("persons",), fn)


def _stage_optimize(run: _Run) -> Path:
    cfg = run.cfg

    def fn(tmp: Path) -> None:
        from videomimic_offline.real2sim.optimize import OptInputs, optimize

        k = artifacts.read_npz(
            run.stage_dir("keypoints") / "keypoints.npz", schema="videomimic.r2s_keypoints", max_version=1
        )
        c = artifacts.read_npz(run.stage_dir("cameras") / "sfm.npz", schema="videomimic.r2s_sfm", max_version=1)
        inp = OptInputs(
            k["kp2d"], k["conf"], k["local3d"], c["K"], c["T_world_cam"], c["points"], run.info.fps, cfg.height,
            str(k["backend"]), str(c["regime"]),
            c["scene_up"] if "scene_up" in c and np.isfinite(c["scene_up"]).all() else None,
        )  # fmt: skip
        res = optimize(inp, cfg.fit)
        artifacts.write_npz(
            tmp / "result.npz", schema="videomimic.r2s_opt", version=1,
            joints_w=res.joints_w, contacts=res.contacts, T_world_cam=res.T_world_cam, points=res.points,
            colors=c["colors"], scale=res.scale, T_align=res.T_align, K=c["K"],
            seat_contact=res.seat_contact if res.seat_contact is not None else np.zeros(len(res.joints_w), bool),
        )  # fmt: skip
        artifacts.write_json(tmp / "info.json", res.info)

    return run.run_stage("optimize", ("keypoints", "cameras"), fn)


def _stage_scene(run: _Run) -> Path:
    cfg = run.cfg.scene

    def fn(tmp: Path) -> None:
        from videomimic_offline.contracts.heightfield import Heightfield, write_heightfield
        from videomimic_offline.contracts.scene import SceneInfo, write_scene_info
        from videomimic_offline.real2sim import scene

        dense_info: dict[str, object] = {}
        r = artifacts.read_npz(run.stage_dir("optimize") / "result.npz", schema="videomimic.r2s_opt", max_version=1)
        pts = _scene_points(r["points"], r["joints_w"], r["T_world_cam"])
        fit = run.cfg.fit
        ankle_h = fit.ankle_height(run.cfg.height)
        soles_xy, sole_z = _planted_soles(r["joints_w"], r["contacts"], ankle_h)
        from videomimic_offline.real2sim.solids import SOURCE_CONTACT, SOURCE_DENSE, contact_solids

        seated = r["seat_contact"] if "seat_contact" in r else np.zeros(len(r["joints_w"]), bool)
        solids = contact_solids(
            r["joints_w"], r["contacts"], seated, ankle_h, cfg.seat_pelvis_frac * run.cfg.height,
            fit.level_tolerance_m, fit.step_min_rise_m,
        )  # fmt: skip
        hf = scene.build_heightfield(
            pts, soles_xy, sole_z, solids, cfg.hf_resolution, cfg.hf_fill_radius, cfg.hf_min_points
        )
        face_src = None
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
        elif cfg.mesh_backend == "tsdf" and len(pts) >= 10:
            verts, faces, dense_info = _dense_mesh(run, r)
            face_src = np.full(len(faces), SOURCE_DENSE, np.uint8)
            if len(faces) == 0:  # textureless or blurred: no surface the keyframes agree on
                log.warning("dense stereo found no consistent surface; the scene mesh is the heightfield's")
                verts, faces = scene.heightfield_mesh(hf)
                face_src = scene.face_sources(hf)
                dense_info["mesh_fallback"] = "heightfield"
        else:  # also a static or rotating camera: no stereo, the mesh is the (contact-derived) heightfield's
            verts, faces = scene.heightfield_mesh(hf)
            face_src = scene.face_sources(hf)
        heights = np.where(hf.known, hf.heights, np.nan)
        write_heightfield(
            tmp / "heightfield.npz",
            Heightfield(heights, hf.origin_xy, hf.resolution, source=hf.source, from_contact=hf.from_contact),
        )
        scene.write_ply(tmp / "scene_mesh.ply", verts, faces, face_src)
        np.save(tmp / "scene_points.npy", pts.astype(np.float32))
        stats = {
            "num_points": len(pts), "heightfield_known_fraction": float(hf.known.mean()),
            "heightfield_contact_cells": int(hf.from_contact.sum()),
            "heightfield_contact_only_cells": int((hf.from_contact & ~hf.seen).sum()),
            "heightfield_solid_cells": int((hf.source == SOURCE_CONTACT).sum()),
            **dense_info,
            "contact_cells_note": "heightfield.npz from_contact marks cells whose height came from (or was "
            "fused with) a planted foot's sole: the person hid that ground from the camera",
        }  # fmt: skip
        write_scene_info(
            tmp / "scene.json", SceneInfo.of_mesh(f"real2sim {run.cfg.cameras.backend} + {cfg.mesh_backend}", verts, faces,
                                                  stats=stats, solids=[s.to_contract() for s in solids])
        )  # fmt: skip

    return run.run_stage("scene", ("optimize",), fn)


def _dense_mesh(run: _Run, r: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    """Scene mesh from dense stereo between the SfM keyframes, fused in a TSDF (real2sim/densify.py).

    Uses the optimised (metric, gravity-aligned) cameras, so the mesh is in the motion's world frame.
    """
    from videomimic_offline.real2sim.densify import dense_depths, tsdf_mesh

    cfg = run.cfg.scene
    sfm = artifacts.read_npz(run.stage_dir("cameras") / "sfm.npz", schema="videomimic.r2s_sfm", max_version=1)
    a, b = run.span
    masks = artifacts.read_npz(
        run.stage_dir("persons") / "persons.npz", schema="videomimic.r2s_persons", max_version=1
    )["masks"][a:b]
    dd = dense_depths(
        run.frames, masks, r["K"], r["T_world_cam"], sfm["keyframes"], r["points"], cfg.dense, progress=run.cfg.progress
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
    export_hash = artifacts.hash_inputs(PIPELINE_VERSION, "export", run.hashes, settings.cache_key(cfg))
    wanted = ["motion.npz", "cameras.npz", "heightfield.npz", "scene_mesh.ply", "scene.json", "config.json"]
    wanted += ["report.json"] + ["overlay.mp4"] * cfg.outputs.write_overlay
    wanted += ["snapshot.png"] * cfg.outputs.write_snapshot
    if all((out / n).is_file() for n in wanted):
        try:
            if artifacts.read_json(out / "report.json").get("export_hash") == export_hash:
                run.reused.append("export")
                run.say("export", "reused (the outputs are up to date)")
                return out
        except (OSError, ValueError, ArtifactError):
            pass
    run.say("export", STAGE_TITLES["export"] + " ...")
    t0 = time.perf_counter()
    r = artifacts.read_npz(run.stage_dir("optimize") / "result.npz", schema="videomimic.r2s_opt", max_version=1)
    sdir = run.stage_dir("scene")
    joints = r["joints_w"]
    rest = rest_joints(cfg.height, cfg.fit.body_backend, cfg.fit.smpl_model_dir)
    joint_rot_w, body_pose = joint_rotations(joints, rest)
    write_human_motion(
        out / "motion.npz",
        HumanMotion(
            run.info.fps,
            joints,
            r["contacts"],
            cfg.height,
            rest,
            joint_rot_w,
            body_pose,
            seat_contact=r.get("seat_contact"),
            source=str(run.video),
        ),
    )
    cam_info = artifacts.read_json(run.stage_dir("cameras") / "info.json")
    regime, focal_source = cam_info.get("regime"), cam_info.get("focal_source")
    write_cameras(
        out / "cameras.npz",
        Cameras(r["K"], r["T_world_cam"], (run.info.width, run.info.height), run.info.fps, regime, focal_source),
    )
    for name in ("heightfield.npz", "scene_mesh.ply", "scene.json"):
        artifacts.atomic_write_bytes(out / name, (sdir / name).read_bytes())
    if cfg.outputs.write_overlay:
        from videomimic_offline.contracts.scene import read_scene_info
        from videomimic_offline.real2sim.visualize import write_overlay

        boxes = [(np.array(b.center), np.array(b.size), b.yaw) for b in read_scene_info(out / "scene.json").solids]
        write_overlay(run.frames, joints, r["T_world_cam"], r["K"], out / "overlay.mp4", run.info.fps, boxes,
                      joint_rot_w=joint_rot_w, height_m=cfg.height)  # fmt: skip
    if cfg.outputs.write_snapshot:
        from videomimic_offline.real2sim.visualize import write_snapshot

        write_snapshot(out, out / "snapshot.png")
    opt_info = json.loads((run.stage_dir("optimize") / "info.json").read_text())
    p = artifacts.read_npz(run.stage_dir("persons") / "persons.npz", schema="videomimic.r2s_persons", max_version=1)
    k = artifacts.read_npz(
        run.stage_dir("keypoints") / "keypoints.npz", schema="videomimic.r2s_keypoints", max_version=1
    )
    kp_info = {
        "backend": str(k["backend"]),
        "leg_swapped_frames": int(k["leg_swapped"].sum()),
        "mirrored_pass": bool(k["mirrored_pass"]),
        "frames_from_mirrored_pass": int(k["from_mirrored"].sum()),
    }
    settings.save_resolved(cfg, out / "config.json")
    run.timings["export"] = time.perf_counter() - t0
    artifacts.write_json(
        out / "report.json",
        {
            "video": str(run.video), "video_info": run.info.to_dict(),
            "inputs": inputs_record(cfg), "height_m": cfg.height, "height_source": cfg.height_source,
            "persons": {"num_people": int(p["num_people"]), "person": int(p["person"]), "frame_span": list(run.span)},
            "keypoints": kp_info,
            "camera": {"regime": regime, "focal_source": focal_source, "focal_px": round(float(r["K"][0, 0]), 2)},
            "quality": _quality(run, r, joints),
            "config": settings.resolved(cfg), "stage_hashes": run.hashes, "stage_seconds": run.timings,
            "optimize": opt_info, "export_hash": export_hash,
        },
    )  # fmt: skip
    run.ran.append("export")
    run.say("export", f"done in {run.timings['export']:.0f} s")
    return out


def inputs_record(cfg: PipelineConfig) -> dict[str, object]:
    """What the user told the reconstruction about the clip, and what it assumed instead (report.json)."""
    height = (
        f"{cfg.height:.2f} m, given"
        if cfg.height_m is not None
        else f"{cfg.height:.2f} m, the prior (height_prior_m; --height-m gives the person's real height)"
    )
    return {
        "height_m": cfg.height, "height_source": cfg.height_source, "height": height, "person": cfg.person,
        "focal_px": cfg.focal_px, "max_frames": cfg.max_frames,
    }  # fmt: skip


def _quality(run: _Run, r: dict[str, np.ndarray], joints: np.ndarray) -> dict[str, object]:
    """Ground-truth-free figures of the fit (``real2sim/quality.py``) for report.json."""
    from videomimic_offline.contracts.heightfield import read_heightfield
    from videomimic_offline.real2sim.quality import quality

    k = artifacts.read_npz(
        run.stage_dir("keypoints") / "keypoints.npz", schema="videomimic.r2s_keypoints", max_version=1
    )
    hf = read_heightfield(run.out / "heightfield.npz")

    def ground(xy: np.ndarray) -> np.ndarray:
        return np.where(hf.known_at(xy), hf.height_at(xy), np.nan)

    fit = run.cfg.fit
    return quality(
        joints, r["contacts"], run.info.fps, r["T_world_cam"], r["K"], run.info.height, k["kp2d"], k["conf"],
        fit.min_keypoint_conf, ground, fit.ankle_height(run.cfg.height),
    )  # fmt: skip


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
    return run_stages(video_path, out_dir, config, last).result


def run_stages(
    video_path: Path, out_dir: Path, config: PipelineConfig | None = None, last: str = "export"
) -> RunSummary:
    """Run (or resume) the stages up to and including ``last``; says which ran and which were reused."""
    if last not in _ORDER:
        raise InputError(f"unknown stage {last!r}; stages are {', '.join(STAGES)}")
    cfg = config or PipelineConfig()
    check_backends(cfg)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file; give a folder for the outputs")
    if out.is_dir() and any(out.iterdir()) and not (out / "stages").is_dir() and not (out / "report.json").exists():
        raise InputError(f"{out} already holds other files; give an empty or new folder for the outputs")
    created = not out.exists()
    t0 = time.perf_counter()
    try:
        run = _Run(Path(video_path), out, cfg)  # probes: bad files fail before anything is written
        result = out
        for name in STAGES:
            result = _ORDER[name](run)
            if name == last:
                break
        return RunSummary(out, result, run.info, run.ran, run.reused, time.perf_counter() - t0)
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
