"""`retarget`: a human motion (+ its scene) -> a G1 motion for training, with a feasibility verdict.

    retarget motion.npz --scene heightfield.npz --out out/retarget [--video] [--refine]
    retarget walk.bvh --out out/walk            (CMU/LAFAN1 BVH; units/axes detected and printed)
    retarget clip.npz --smpl-model ~/smpl --out out/clip     (AMASS SMPL parameters)
    retarget lafan_walk.csv --out out/lafan     (LAFAN1 G1 CSV: resampled to 50 fps, checked)

Writes robot_motion.npz, feasibility.json and retarget_config.json (every setting used) into --out.

Exit status: 0 usable; 3 written but NOT usable for training (feasibility.json says why, and
whether --refine fixes it); 2 a mistake in the input or the options.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import tyro

from videomimic_offline import artifacts, cli, settings
from videomimic_offline.contracts.feasibility import FILE as FEASIBILITY
from videomimic_offline.contracts.feasibility import Feasibility, read_feasibility
from videomimic_offline.retarget.config import RetargetConfig

CONFIG_FILE = "retarget_config.json"
VIDEO_FILE = "retarget.mp4"


@dataclass(frozen=True, kw_only=True)
class RetargetTool(RetargetConfig):
    """The ``retarget`` tool's settings: its inputs and output, plus every retargeting setting."""

    #: The human motion: motion.npz (real2sim), .bvh, AMASS .npz or a LAFAN1 G1 .csv.
    motion: tyro.conf.Positional[Annotated[Path, tyro.conf.arg(metavar="MOTION")]]
    #: Output folder (robot_motion.npz, feasibility.json, retarget_config.json[, retarget.mp4]).
    out: Path = settings.setting(hashed=False)
    #: The scene the motion happens in: real2sim's heightfield.npz (default: a flat floor at z = 0).
    scene: Path | None = None
    #: Input format (auto: from the file's name and content).
    format: Literal["auto", "npz", "bvh", "amass", "lafan-csv"] = "auto"
    #: BVH length unit (auto: from the leg length).
    units: Literal["auto", "m", "cm", "mm", "inch", "cmu"] = "auto"
    #: BVH up axis, e.g. y, +z, -y (auto: from the rest-pose spine).
    up: str = "auto"
    #: BVH floor: auto puts the lowest toes on z = 0, keep leaves the file's.
    floor: Literal["auto", "keep"] = "auto"
    #: Folder holding smpl/SMPL_NEUTRAL.pkl (AMASS input only).
    smpl_model: Path | None = None
    #: Frame rate of a LAFAN1 G1 CSV.
    csv_fps: float = 30.0
    #: Also render the human beside the robot (MP4).
    video: bool = False
    #: Recompute even if the output is up to date.
    force: bool = settings.setting(False, hashed=False)


def _summary(cfg: RetargetTool, rep: Feasibility, frames: int, extra: list[str], reused: bool = False) -> int:
    """The closing lines (verdict first) and the exit status."""
    out = cfg.out
    did = f"{'up to date, kept' if reused else 'wrote'} {out / 'robot_motion.npz'} ({frames} frames at 50 fps): "
    figures = (
        f"limit violations {rep.limit_violations}, peak velocity {100 * rep.peak_velocity_ratio:.0f}% of limit "
        f"({rep.peak_velocity_joint}); penetration {rep.max_penetration_mm:.1f} mm; foot slide "
        f"{rep.foot_slide_mm_per_frame:.2f} mm/frame; self-collision frames {rep.self_collisions}"
    )
    look = [out / VIDEO_FILE] if (out / VIDEO_FILE).is_file() else []
    cli.finished("retarget", did + rep.verdict, figures, *extra, *rep.advice[:1], look=[*look, out / FEASIBILITY])
    return 0 if rep.usable else cli.EXIT_UNUSABLE


def _solver_code() -> str:
    """Digest of this package's source: a solver fix invalidates motions kept from before it (the key
    used to hold only inputs and settings, so a fixed solver reused an old, unusable motion)."""
    return artifacts.hash_inputs(*sorted(str(f) for f in Path(__file__).parent.glob("*.py")))


@cli.run_tool
def main(argv: list[str] | None = None) -> int:
    cfg = settings.parse_cli(RetargetTool, argv, prog="retarget", description=__doc__)
    from rich.progress import Progress

    from videomimic_offline.contracts.feasibility import write_feasibility
    from videomimic_offline.contracts.heightfield import read_heightfield
    from videomimic_offline.contracts.robot_motion import read_robot_motion, write_robot_motion
    from videomimic_offline.motion_io.load import detect_format, load_human
    from videomimic_offline.retarget.feasibility import assess
    from videomimic_offline.retarget.pipeline import retarget
    from videomimic_offline.retarget.terrain import flat, from_field

    key = artifacts.hash_inputs("retarget", _solver_code(), settings.cache_key(cfg))
    if not cfg.force and artifacts.stage_done(cfg.out, key):
        rep = read_feasibility(cfg.out / FEASIBILITY)
        return _summary(
            cfg, rep, read_robot_motion(cfg.out / "robot_motion.npz").length, ["(--force recomputes)"], True
        )
    fmt = detect_format(cfg.motion) if cfg.format == "auto" else cfg.format
    terrain = from_field(read_heightfield(cfg.scene)) if cfg.scene else flat()
    extra: list[str] = []
    with artifacts.atomic_dir(cfg.out) as tmp:
        if fmt == "lafan-csv":
            from videomimic_offline.retarget.contacts import lafan_motion

            motion = lafan_motion(cfg.motion, cfg.csv_fps, terrain)
            report = assess(motion, terrain)
            extra.append(f"input: LAFAN1 G1 CSV (robot motion, m, z up) at {cfg.csv_fps:g} fps, resampled to 50 fps")
        else:
            human = load_human(cfg.motion, fmt, cfg.units, cfg.up, cfg.floor, cfg.smpl_model)
            for k, v in human.conventions.items():
                print(f"input {k}: {v}")
            with Progress(transient=True) as bar:
                task = bar.add_task("retargeting", total=int(human.num_frames / human.fps * 50))
                res = retarget(human, terrain, cfg, progress=lambda n: bar.advance(task, n), advise=True)
            motion, report = res.motion, res.report
            assert report is not None
            tg = res.targets
            extra.append(
                f"scale x{tg.scale:.3f} (G1 leg / person's leg, from {tg.ruler}); contacts "
                f"{'detected (the input had none)' if tg.contacts_detected else 'from the input'}; "
                f"{res.frames_per_s:.0f} frames/s{', refined' if cfg.refine else ''}"
            )
            if cfg.video:
                from videomimic_offline.retarget.video import render_side_by_side

                render_side_by_side(tmp / VIDEO_FILE, tg.human, motion, terrain)
        motion.scene = cfg.scene.resolve() if cfg.scene else None
        write_robot_motion(tmp / "robot_motion.npz", motion, relative_to=cfg.out)
        write_feasibility(tmp / FEASIBILITY, report)
        settings.save_resolved(cfg, tmp / CONFIG_FILE)
        artifacts.mark_stage(tmp, "retarget", key)
    return _summary(cfg, report, motion.length, extra)
