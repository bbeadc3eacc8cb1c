"""`retarget` console tool: motion file (+ heightfield) -> robot_motion.npz, feasibility.json, video.

retarget motion.npz --scene heightfield.npz --out out/retarget [--video]
retarget walk.bvh --out out/walk            (CMU/LAFAN1 BVH; units/axes detected and printed)
retarget clip.npz --smpl-model ~/smpl --out out/clip     (AMASS SMPL parameters)
retarget lafan_walk.csv --out out/lafan     (LAFAN1 G1 CSV: resampled to 50 fps, checked)
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from videomimic_offline import artifacts, cli
from videomimic_offline.motion_io.load import FORMATS, detect_format, load_human
from videomimic_offline.retarget.terrain import flat, read_heightfield


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="retarget", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("motion", type=Path, help="motion.npz, .bvh, AMASS .npz or LAFAN1 G1 .csv")
    p.add_argument("--scene", type=Path, default=None, help="heightfield.npz (default: flat floor at z = 0)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--format", choices=FORMATS, default="auto")
    p.add_argument("--units", default="auto", help="BVH length unit: auto, m, cm, mm, inch, cmu")
    p.add_argument("--up", default="auto", help="BVH up axis: auto, y, z, +y, -z, ...")
    p.add_argument("--floor", choices=("auto", "keep"), default="auto", help="BVH: put the lowest toes on z = 0")
    p.add_argument("--smpl-model", type=Path, default=None, help="folder with smpl/SMPL_NEUTRAL.pkl (AMASS input)")
    p.add_argument("--csv-fps", type=float, default=30.0, help="frame rate of a LAFAN1 CSV")
    p.add_argument("--iters", type=int, default=2, help="solver iterations per frame")
    p.add_argument("--refine", action="store_true",
                   help="add the whole-clip refinement (smoother: ~half the joint acceleration; ~3x slower)")  # fmt: skip
    p.add_argument("--variant", choices=("29dof", "23dof"), default="29dof", help="23dof: wrists held at 0")
    p.add_argument("--video", action="store_true", help="also render human vs robot side by side (MP4)")
    p.add_argument("--force", action="store_true", help="recompute even if the output is up to date")
    return p


@cli.run_tool
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from rich.progress import Progress

    from videomimic_offline.retarget.feasibility import assess
    from videomimic_offline.retarget.output import from_qpos, write_robot_motion
    from videomimic_offline.retarget.pipeline import retarget

    params = {k: str(v) for k, v in vars(args).items() if k not in ("out", "force", "motion", "scene")}
    inputs = [args.motion] + ([args.scene] if args.scene else [])  # never hash "" (it is the cwd)
    key = artifacts.hash_inputs(*inputs, params)
    if not args.force and artifacts.stage_done(args.out, key):
        print(f"{args.out} is up to date (use --force to recompute)")
        return 0
    fmt = detect_format(args.motion) if args.format == "auto" else args.format
    terrain = read_heightfield(args.scene) if args.scene else flat()
    scene_rel = os.path.relpath(args.scene.resolve(), args.out.resolve()) if args.scene else ""
    with artifacts.atomic_dir(args.out) as tmp:
        if fmt == "lafan-csv":
            from videomimic_offline.motion_io.lafan_csv import read_lafan_csv, resample_qpos
            from videomimic_offline.retarget.contacts import robot_contacts

            qpos = resample_qpos(read_lafan_csv(args.motion), args.csv_fps, 50.0)
            contacts = robot_contacts(qpos, terrain)
            motion = from_qpos(qpos, 50.0, contacts)
            report = assess(motion, terrain)
            print("input: LAFAN1 G1 CSV (robot motion, m, z up); resampled to 50 fps")
        else:
            human = load_human(args.motion, fmt, args.units, args.up, args.floor, args.smpl_model)
            for k, v in human.conventions.items():
                print(f"input {k}: {v}")
            with Progress(transient=True) as bar:
                task = bar.add_task("retargeting", total=int(human.num_frames / human.fps * 50))
                res = retarget(
                    human, terrain, iters=args.iters, variant=args.variant, refine=args.refine,
                    progress=lambda n: bar.advance(task, n),
                )  # fmt: skip
            motion, report = res.motion, res.report
            print(f"solved {len(motion.qpos)} frames at {res.frames_per_s:.0f} frames/s; contacts "
                  f"{'detected' if res.targets.contacts_detected else 'from the input'}")  # fmt: skip
            if args.video:
                from videomimic_offline.retarget.video import render_side_by_side

                render_side_by_side(tmp / "retarget.mp4", res.targets.human, motion, terrain)
        write_robot_motion(tmp / "robot_motion.npz", motion, scene=scene_rel)
        artifacts.write_json(tmp / "feasibility.json", report.as_dict())
        artifacts.mark_stage(tmp, "retarget", key)
    verdict = "usable" if report.usable else "NOT usable: " + "; ".join(report.reasons)
    print(
        f"wrote {args.out}/robot_motion.npz ({len(motion.qpos)} frames at 50 fps): {verdict}\n"
        f"  limit violations {report.limit_violations}, min margin {report.min_limit_margin_rad:.3f} rad "
        f"({report.min_limit_margin_joint}); peak velocity {100 * report.peak_velocity_ratio:.0f}% of limit "
        f"({report.peak_velocity_joint}); penetration {report.max_penetration_mm:.1f} mm; foot slide "
        f"{report.foot_slide_mm_per_frame:.2f} mm/frame (max {report.foot_slide_max_mm:.1f}); "
        f"self-collision frames {report.self_collisions}"
    )
    return 0
