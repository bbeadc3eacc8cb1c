"""Console tools: one per stage (each runs/resumes the stages before it) plus ``reconstruct``.

reconstruct VIDEO OUT [--height 1.75] [--person 0] [--set field=value ...]
r2s_persons / r2s_keypoints / r2s_cameras / r2s_optimize / r2s_scene   (same arguments)
r2s_view OUT [--port 8080] [--png snapshot.png]
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path

from videomimic_offline.cli import run_tool
from videomimic_offline.errors import ConfigError
from videomimic_offline.real2sim.config import PipelineConfig


def _parser(desc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=desc)
    p.add_argument("video", type=Path, help="input video (mp4/mov)")
    p.add_argument("out", type=Path, help="output folder (created; re-running resumes)")
    p.add_argument("--height", type=float, default=None, help="person height in metres (the metric ruler)")
    p.add_argument("--person", type=int, default=0, help="which person when several: 0 = most visible")
    p.add_argument("--max-frames", type=int, default=None, help="use only the first N frames")
    p.add_argument("--focal", type=float, default=None, help="focal length in px at the processed size, if known")
    p.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE",
        help="any PipelineConfig field, e.g. --set camera_backend=megasam --set megasam_npz=run.npz",
    )  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    return p


def config_from_args(args: argparse.Namespace) -> PipelineConfig:
    """PipelineConfig from the common flags plus ``--set field=value`` overrides (typed by the field)."""
    kw: dict = {"height_m": args.height, "person": args.person, "max_frames": args.max_frames, "focal_px": args.focal}
    kw["progress"] = not args.quiet
    types = {f.name: f.type for f in dataclasses.fields(PipelineConfig)}
    defaults = PipelineConfig()
    for item in args.set:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: write FIELD=VALUE, e.g. --set sfm_keyframes=30")
        k, v = item.split("=", 1)
        if k not in types:
            raise ConfigError(f"--set {k}: no such setting; see real2sim/config.py PipelineConfig")
        cur = getattr(defaults, k)
        try:
            if isinstance(cur, bool):
                kw[k] = v.lower() in ("1", "true", "yes", "on")
            elif isinstance(cur, int):
                kw[k] = int(v)
            elif isinstance(cur, float):
                kw[k] = float(v)
            elif v.lower() == "none":
                kw[k] = None
            elif "Path" in str(types[k]):
                kw[k] = Path(v)
            elif "float" in str(types[k]):
                kw[k] = float(v)
            elif "int" in str(types[k]):
                kw[k] = int(v)
            else:
                kw[k] = v
        except ValueError as exc:
            raise ConfigError(f"--set {k}={v}: {exc}") from exc
    return PipelineConfig(**kw)


def _stage_main(stage: str, argv: list[str] | None) -> int:
    from videomimic_offline.real2sim.pipeline import run_until

    desc = "Reconstruct a video into a metric, gravity-aligned human + scene" if stage == "export" else (
        f"Run the real2sim pipeline up to the '{stage}' stage (earlier stages are cached/resumed)"
    )  # fmt: skip
    args = _parser(desc).parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    cfg = config_from_args(args)
    out = run_until(args.video, args.out, cfg, stage)
    print(out)
    return 0


@run_tool
def reconstruct_main(argv: list[str] | None = None) -> int:
    """All stages: motion.npz, cameras.npz, heightfield.npz, scene_mesh.ply, overlay.mp4, snapshot.png."""
    return _stage_main("export", argv)


@run_tool
def persons_main(argv: list[str] | None = None) -> int:
    return _stage_main("persons", argv)


@run_tool
def keypoints_main(argv: list[str] | None = None) -> int:
    return _stage_main("keypoints", argv)


@run_tool
def cameras_main(argv: list[str] | None = None) -> int:
    return _stage_main("cameras", argv)


@run_tool
def optimize_main(argv: list[str] | None = None) -> int:
    return _stage_main("optimize", argv)


@run_tool
def scene_main(argv: list[str] | None = None) -> int:
    return _stage_main("scene", argv)


@run_tool
def view_main(argv: list[str] | None = None) -> int:
    """Interactive 3D view (viser) of a reconstruction folder, or just write its PNG snapshot."""
    p = argparse.ArgumentParser(description="Show a reconstruction: scene, cameras and the moving body")
    p.add_argument("out", type=Path, help="a folder written by reconstruct")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--png", type=Path, default=None, help="write a static snapshot PNG and exit")
    args = p.parse_args(argv)
    from videomimic_offline.real2sim.viewer import serve
    from videomimic_offline.real2sim.visualize import write_snapshot

    if args.png is not None:
        write_snapshot(args.out, args.png)
        print(args.png)
        return 0
    serve(args.out, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(reconstruct_main())
