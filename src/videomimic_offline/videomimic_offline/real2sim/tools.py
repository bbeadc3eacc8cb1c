"""Console tools: ``reconstruct`` (all stages), one ``r2s_*`` tool per stage, and ``r2s_view``.

Their flags come from ``real2sim/config.py::PipelineConfig`` through tyro, so every setting can be
given on the command line under the same name everywhere:

    reconstruct VIDEO OUT [--height-m 1.75] [--person 0] [--max-frames N] [--focal-px F]
                [--cameras.sfm-keyframes 40] [--scene.mesh-backend heightfield] ...   (--help lists all)
    r2s_persons / r2s_keypoints / r2s_cameras / r2s_optimize / r2s_scene   (the same flags)
    r2s_view OUT [--port 8080] [--host 127.0.0.1] [--png snapshot.png]
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import tyro

from videomimic_offline import settings
from videomimic_offline.cli import run_tool
from videomimic_offline.real2sim.config import PipelineConfig


@dataclasses.dataclass
class StageCli:
    """The reconstruct / r2s_* command line: two positional paths plus every PipelineConfig field."""

    #: Input video (mp4/mov/...).
    video: Annotated[Path, tyro.conf.Positional, tyro.conf.arg(metavar="VIDEO")]
    #: Output folder (created; re-running resumes, reusing finished stages).
    out: Annotated[Path, tyro.conf.Positional, tyro.conf.arg(metavar="OUT")]
    config: Annotated[PipelineConfig, tyro.conf.arg(name="")] = dataclasses.field(default_factory=PipelineConfig)


def parse_stage_args(argv: Sequence[str] | None, prog: str, description: str) -> tuple[Path, Path, PipelineConfig]:
    """(video, out, config) from a reconstruct / r2s_* command line (tyro; ``--help`` lists every flag)."""
    args = settings.parse_cli(StageCli, argv, prog=prog, description=description)
    return args.video, args.out, args.config


def _stage_main(stage: str, prog: str, argv: Sequence[str] | None) -> int:
    from videomimic_offline.real2sim.pipeline import run_until

    desc = "Reconstruct a video into a metric, gravity-aligned human motion and scene." if stage == "export" else (
        f"Run the real2sim pipeline up to the '{stage}' stage (earlier stages are cached/resumed)."
    )  # fmt: skip
    video, out, cfg = parse_stage_args(argv, prog, desc)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    result = run_until(video, out, cfg, stage)
    print(result)
    return 0


@run_tool
def reconstruct_main(argv: list[str] | None = None) -> int:
    """All stages: motion.npz, cameras.npz, heightfield.npz, scene_mesh.ply, overlay.mp4, snapshot.png."""
    return _stage_main("export", "reconstruct", argv)


@run_tool
def persons_main(argv: list[str] | None = None) -> int:
    return _stage_main("persons", "r2s_persons", argv)


@run_tool
def keypoints_main(argv: list[str] | None = None) -> int:
    return _stage_main("keypoints", "r2s_keypoints", argv)


@run_tool
def cameras_main(argv: list[str] | None = None) -> int:
    return _stage_main("cameras", "r2s_cameras", argv)


@run_tool
def optimize_main(argv: list[str] | None = None) -> int:
    return _stage_main("optimize", "r2s_optimize", argv)


@run_tool
def scene_main(argv: list[str] | None = None) -> int:
    return _stage_main("scene", "r2s_scene", argv)


@dataclasses.dataclass
class ViewConfig:
    """``r2s_view``: serve a reconstruction in the browser (viser), or write its PNG snapshot."""

    #: Port of the viewer's web server.
    port: int = 8080
    #: Address to listen on: 127.0.0.1 = this machine only; 0.0.0.0 = reachable from other machines
    #: (e.g. a remote GPU box; then open http://<that host>:<port>).
    host: str = "127.0.0.1"
    #: Write a static snapshot PNG here and exit instead of serving.
    png: Path | None = None


@dataclasses.dataclass
class ViewCli:
    """The r2s_view command line."""

    #: A folder written by reconstruct.
    out: Annotated[Path, tyro.conf.Positional, tyro.conf.arg(metavar="OUT")]
    view: Annotated[ViewConfig, tyro.conf.arg(name="")] = dataclasses.field(default_factory=ViewConfig)


@run_tool
def view_main(argv: list[str] | None = None) -> int:
    """Interactive 3D view (viser) of a reconstruction folder, or just write its PNG snapshot."""
    args = settings.parse_cli(
        ViewCli, argv, prog="r2s_view", description="Show a reconstruction: scene, cameras and the moving body."
    )
    from videomimic_offline.real2sim.viewer import serve
    from videomimic_offline.real2sim.visualize import write_snapshot

    if args.view.png is not None:
        write_snapshot(args.out, args.view.png)
        print(args.view.png)
        return 0
    serve(args.out, port=args.view.port, host=args.view.host)
    return 0


if __name__ == "__main__":
    sys.exit(reconstruct_main())
