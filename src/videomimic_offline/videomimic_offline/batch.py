"""`vm_batch`: process a folder of videos on Ray, one task per video, with a summary table.

The original system trained on 123 clips, processed by "sequential" shell loops. Here each video is
one Ray task running the same pipeline as `reconstruct` (and retargeting when present), so the
same command uses a local Ray on one machine or, unchanged, a Ray cluster (``RAY_ADDRESS`` or
``--address``). Every stage caches by input hash, so a re-run (after a crash, Ctrl-C or a failed
clip) redoes only unfinished work. The summary (per clip: whether it was processed, whether its
robot motion is usable for training, the feasibility figures, time, and why not) is rewritten
atomically as each task finishes, so nothing finished is ever lost.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from videomimic_offline import artifacts
from videomimic_offline.cli import EXIT_UNUSABLE, argparser, finished, run_tool
from videomimic_offline.contracts.feasibility import FILE as FEASIBILITY
from videomimic_offline.contracts.feasibility import Feasibility, read_feasibility
from videomimic_offline.errors import InputError, VideomimicError

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm")
SUMMARY = "batch_summary.json"


def find_videos(folder: Path) -> list[Path]:
    """Videos directly in ``folder`` or one level down (``<clip>/video.mp4``), sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder: pass a folder of videos")
    videos = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    videos += sorted(p for d in folder.iterdir() if d.is_dir() for p in d.iterdir()
                     if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)  # fmt: skip
    if not videos:
        raise InputError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) in {folder}")
    return videos


def clip_name(video: Path, root: Path) -> str:
    """A unique, readable name per video: the file stem, or the folder name for ``<clip>/video.mp4``."""
    rel = Path(video).relative_to(root)
    return rel.parent.name if len(rel.parts) > 1 else rel.stem


def process_video(video: str, out_dir: str, config: dict[str, Any], retarget: bool) -> dict[str, Any]:
    """Run one clip through the pipeline; never raises (failures become a row with a reason).

    ``ok``: the clip was processed; ``usable``: its robot motion can be trained on (None when not
    retargeted); ``reason``: why not, for either.
    """
    from videomimic_offline.real2sim.config import PipelineConfig
    from videomimic_offline.real2sim.pipeline import run_pipeline

    t0 = time.perf_counter()
    row: dict[str, Any] = {"clip": Path(out_dir).name, "video": video, "ok": False, "usable": None, "reason": "",
                           "metrics": {}}  # fmt: skip
    try:
        result = Path(run_pipeline(Path(video), Path(out_dir), PipelineConfig(**config)))
        if retarget:
            rep = _retarget(result)
            row["usable"] = rep.usable
            row["reason"] = "; ".join(rep.reasons + rep.advice)
            row["metrics"] = {f"retarget_{k}": v for k, v in rep.as_dict().items() if isinstance(v, (int, float))}
        row["ok"] = True
    except VideomimicError as exc:
        row["reason"] = str(exc)
    except Exception as exc:  # a bug, not a user mistake: keep the traceback's last line for triage
        row["reason"] = f"internal error: {exc.__class__.__name__}: {exc} | {traceback.format_exc().splitlines()[-3]}"
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row


def _retarget(recon_dir: Path) -> Feasibility:
    """Retarget a reconstruction to the G1 with the `retarget` tool; its feasibility report."""
    from videomimic_offline.toolrun import run_tool_process

    out = recon_dir / "robot"
    run_tool_process("retarget", str(recon_dir / "motion.npz"), "--scene", str(recon_dir / "heightfield.npz"),
                     "--out", str(out), log=recon_dir / "retarget.log", ok=(0, EXIT_UNUSABLE))  # fmt: skip
    return read_feasibility(out / FEASIBILITY)


def run_batch(folder: Path, out_root: Path, config: dict[str, Any], *, address: str | None = None,
              num_cpus: int | None = None, retarget: bool = True) -> list[dict[str, Any]]:  # fmt: skip
    """Process every video in ``folder`` as a Ray task; returns the summary rows."""
    import ray
    from rich.progress import Progress

    videos = find_videos(folder)
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never phone home
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    else:
        # Ray starts its workers at nice 15 (to keep its own daemons responsive). Here the workers do
        # all of the batch's work, so any other job on the machine starved them: under two busy
        # processes on 2 cores the CI's two-clip batch ran its workers at ~4 % CPU. They run at this
        # process's priority instead (set RAY_worker_niceness to choose otherwise).
        os.environ.setdefault("RAY_worker_niceness", "0")
        ray.init(num_cpus=num_cpus, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False,
                 _node_ip_address="127.0.0.1")  # fmt: skip
    try:
        task = ray.remote(num_cpus=1)(process_video)
        pending = {task.remote(str(v), str(out_root / clip_name(v, folder)), config, retarget): v for v in videos}
        rows: list[dict[str, Any]] = []
        with Progress() as progress:
            bar = progress.add_task(f"{len(videos)} videos", total=len(videos))
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                ref = done[0]
                video = pending.pop(ref)
                try:
                    rows.append(ray.get(ref))
                except Exception as exc:  # the worker itself died (OOM, segfault)
                    rows.append({"clip": clip_name(video, folder), "video": str(video), "ok": False, "usable": None,
                                 "reason": f"worker died: {exc}", "metrics": {}, "seconds": None})  # fmt: skip
                artifacts.write_json(out_root / SUMMARY, {"rows": sorted(rows, key=lambda r: r["clip"])})
                progress.advance(bar)
    finally:
        ray.shutdown()
    rows.sort(key=lambda r: r["clip"])
    return rows


def _verdict(row: dict[str, Any]) -> str:
    if not row["ok"]:
        return "failed"
    return {True: "usable", False: "NOT usable", None: "not retargeted"}[row.get("usable")]


def print_summary(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """The per-clip table (processed, usable for training, figures, time, why not); returns the counts."""
    from rich.console import Console
    from rich.table import Table

    counts = {k: sum(_verdict(r) == k for r in rows) for k in ("usable", "NOT usable", "failed", "not retargeted")}
    title = f"batch: {counts['usable']}/{len(rows)} clips usable for training"
    title += "".join(f", {n} {k}" for k, n in counts.items() if k != "usable" and n)
    table = Table(title=title)
    for col in ("clip", "processed", "usable", "seconds", "figures", "why not"):
        table.add_column(col, overflow="fold")
    for r in rows:
        figures = ", ".join(
            f"{k.removeprefix('retarget_')}={v:.3g}" if isinstance(v, float) else f"{k.removeprefix('retarget_')}={v}"
            for k, v in r["metrics"].items()
            if k in _SHOWN
        )
        usable = {True: "yes", False: "NO", None: "-"}[r.get("usable")]
        table.add_row(r["clip"], "yes" if r["ok"] else "NO", usable, f"{r['seconds']}", figures, r["reason"][:200])
    Console().print(table)
    return counts


#: Feasibility figures shown in the table (all of them are in batch_summary.json).
_SHOWN = tuple(f"retarget_{k}" for k in ("max_penetration_mm", "foot_slide_mm_per_frame", "limit_violations",
                                         "self_collisions", "keypoint_err_mm"))  # fmt: skip


@run_tool
def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``vm_batch VIDEO_FOLDER OUT_FOLDER [--address ray://...] [--height-m 1.75]``.

    Exit status: 0 every clip usable, 3 all processed but some not usable, 1 some failed.
    """
    from videomimic_offline.real2sim.config import PipelineConfig

    parser = argparser("vm_batch", __doc__)
    parser.add_argument("videos", type=Path, help="folder of videos (or of <clip>/video.mp4)")
    parser.add_argument("out", type=Path, help="output folder: one sub-folder per clip + batch_summary.json")
    parser.add_argument("--address", default=None, help="Ray cluster address (default: RAY_ADDRESS or a local Ray)")
    parser.add_argument("--num-cpus", type=int, default=None, help="local Ray CPUs (default: all)")
    parser.add_argument("--no-retarget", action="store_true", help="reconstruction only")
    parser.add_argument(
        "--height-m",
        type=float,
        default=None,
        help="height of the person in every clip, metres (default: "
        f"each clip's person is taken to be {PipelineConfig().height_prior_m:.2f} m, and its report says so)",
    )
    ns = parser.parse_args(argv)
    config = {"height_m": ns.height_m} if ns.height_m else {}
    rows = run_batch(ns.videos, ns.out, config, address=ns.address, num_cpus=ns.num_cpus, retarget=not ns.no_retarget)
    counts = print_summary(rows)
    bad = [r["clip"] for r in rows if _verdict(r) in ("failed", "NOT usable")]
    finished(
        "vm_batch",
        f"{len(rows)} clips: {counts['usable']} usable, {counts['NOT usable']} not usable, {counts['failed']} failed"
        + (f", {counts['not retargeted']} not retargeted" if counts["not retargeted"] else ""),
        *([f"see why for: {', '.join(bad[:8])}{' ...' if len(bad) > 8 else ''} (the table above)"] if bad else []),
        look=[ns.out / SUMMARY, ns.out / "<clip>" / "robot" / FEASIBILITY],
    )
    if counts["failed"]:
        return 1
    return EXIT_UNUSABLE if counts["NOT usable"] else 0
