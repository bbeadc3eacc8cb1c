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
from videomimic_offline.real2sim.pipeline import RunSummary


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
    from videomimic_offline.real2sim.pipeline import run_stages

    desc = "Reconstruct a video into a metric, gravity-aligned human motion and scene." if stage == "export" else (
        f"Run the real2sim pipeline up to the '{stage}' stage (earlier stages are cached/resumed)."
    )  # fmt: skip
    video, out, cfg = parse_stage_args(argv, prog, desc)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if cfg.height_m is None and stage in ("optimize", "scene", "export"):
        print(
            f"{prog}: height not given: the person is taken to be {cfg.height_prior_m:.2f} m tall (the prior), "
            "the metric ruler of the whole scene; give --height-m for their real height",
            file=sys.stderr,
        )
    summary(prog, run_stages(video, out, cfg, stage), cfg)
    return 0


def summary(prog: str, run: RunSummary, cfg: PipelineConfig) -> None:
    """The closing lines: what ran or was reused, the person's height and its source, the camera,
    the frames, and where to look."""
    from videomimic_offline import artifacts, cli

    out, info = run.out, run.info
    did = f"{out}: {info.num_frames} frames ({info.num_frames / info.fps:.1f} s at {info.width}x{info.height})"
    did += f"; reused {', '.join(run.reused)}" if run.reused else ""
    did += f"; ran {', '.join(run.ran) if run.ran else 'nothing'} in {run.seconds:.0f} s"
    details = []
    if (out / "report.json").is_file() and run.result == out:
        rep = artifacts.read_json(out / "report.json")
        ppl, cam, q = rep.get("persons", {}), rep.get("camera", {}), rep.get("quality", {})
        n = ppl.get("num_people", 1)
        details.append(
            f"person: {rep['inputs']['height']}; {n} {'person' if n == 1 else 'people'} tracked, "
            f"following #{ppl.get('person', 0)} (--person picks another)"
        )
        pct = q.get("reproj_pct_of_height")
        details.append(
            f"camera: {cam.get('regime')} (focal {cam.get('focal_px')} px, from {cam.get('focal_source')}); the fitted "
            f"body lies {'n/a' if pct is None else f'{pct:.2f}'} % of the image height from the detected keypoints"
        )
        look = [p for p in (out / "overlay.mp4", out / "snapshot.png") if p.is_file()]
        look.append(f"r2s_view {out} (3D view)")
    else:
        cam_info = out / "stages/cameras/info.json"
        if cam_info.is_file():
            ci = artifacts.read_json(cam_info)
            details.append(f"camera: {ci.get('regime')} (focal from {ci.get('focal_source')})")
        look = [run.result]
    cli.finished(prog, did, *details, look=look)


@run_tool
def reconstruct_main(argv: list[str] | None = None) -> int:
    """All stages: motion.npz, cameras.npz, heightfield.npz, scene_mesh.ply, overlay.mp4, snapshot.png."""
    return _stage_main("export", "reconstruct", argv)


@run_tool
def persons_main(argv: list[str] | None = None) -> int:
    """Stage 1 only: finding and following the person (masks, tracks; --person picks who)."""
    return _stage_main("persons", "r2s_persons", argv)


@run_tool
def keypoints_main(argv: list[str] | None = None) -> int:
    """Stages 1-2: + 2D keypoints and the 3D pose prior of the followed person."""
    return _stage_main("keypoints", "r2s_keypoints", argv)


@run_tool
def cameras_main(argv: list[str] | None = None) -> int:
    """Stages 1-3: + the camera's regime and path (SfM when it translates)."""
    return _stage_main("cameras", "r2s_cameras", argv)


@run_tool
def optimize_main(argv: list[str] | None = None) -> int:
    """Stages 1-4: + joint fit of the body, camera scale and gravity."""
    return _stage_main("optimize", "r2s_optimize", argv)


@run_tool
def scene_main(argv: list[str] | None = None) -> int:
    """Stages 1-5: + scene heightfield and mesh (reconstruct adds the outputs)."""
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
    from videomimic_offline import cli
    from videomimic_offline.real2sim.viewer import serve
    from videomimic_offline.real2sim.visualize import write_snapshot

    if args.view.png is not None:
        write_snapshot(args.out, args.view.png)
        cli.finished("r2s_view", f"wrote the snapshot of {args.out}", look=[args.view.png])
        return 0
    try:
        serve(args.out, port=args.view.port, host=args.view.host)
    except KeyboardInterrupt:  # the way a viewer ends: not an interrupted job
        print(file=sys.stderr)
        cli.forget_interrupt()
    cli.finished(
        "r2s_view",
        f"served {args.out} on {args.view.host}:{args.view.port} until Ctrl-C",
        look=[args.out / "overlay.mp4", f"r2s_view {args.out} --png snapshot.png (a still)"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(reconstruct_main())
