"""`vm_batch`: process a folder of videos on Ray, one task per video, with a summary table.

The original system trained on 123 clips, processed by "sequential" shell loops. Here each video is
one Ray task running the same pipeline as `reconstruct` (and retargeting when present), so the
same command uses a local Ray on one machine or, unchanged, a Ray cluster (``RAY_ADDRESS`` or
``--address``). Every stage caches by input hash, so a re-run (after a crash, Ctrl-C or a failed
clip) redoes only unfinished work. The summary (per clip: success, metrics, time, failure
reason) is rewritten atomically as each task finishes, so nothing finished is ever lost.
"""

from __future__ import annotations

import argparse
import os
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from videomimic_offline import artifacts
from videomimic_offline.cli import run_tool
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
    """Run one clip through the pipeline; never raises (failures become a row with a reason)."""
    from videomimic_offline.real2sim.config import PipelineConfig
    from videomimic_offline.real2sim.pipeline import run_pipeline

    t0 = time.perf_counter()
    row: dict[str, Any] = {"clip": Path(out_dir).name, "video": video, "ok": False, "reason": "", "metrics": {}}
    try:
        result = Path(run_pipeline(Path(video), Path(out_dir), PipelineConfig(**config)))
        quality = result / "quality.json"
        if quality.is_file():
            row["metrics"] = artifacts.read_json(quality)
        if retarget:
            row["metrics"].update(_retarget(result))
        row["ok"] = True
    except VideomimicError as exc:
        row["reason"] = str(exc)
    except Exception as exc:  # a bug, not a user mistake: keep the traceback's last line for triage
        row["reason"] = f"internal error: {exc.__class__.__name__}: {exc} | {traceback.format_exc().splitlines()[-3]}"
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row


def _retarget(recon_dir: Path) -> dict[str, Any]:
    """Retarget a reconstruction to the G1 with the `retarget` tool; its feasibility figures."""
    from videomimic_offline.toolrun import run_tool_process

    out = recon_dir / "robot"
    run_tool_process("retarget", str(recon_dir / "motion.npz"), "--scene", str(recon_dir / "heightfield.npz"),
                     "--out", str(out), log=recon_dir / "retarget.log")  # fmt: skip
    report = artifacts.read_json(out / "feasibility.json")
    return {f"retarget_{k}": v for k, v in report.items() if isinstance(v, (int, float, str, bool))}


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
                    rows.append({"clip": clip_name(video, folder), "video": str(video), "ok": False,
                                 "reason": f"worker died: {exc}", "metrics": {}, "seconds": None})  # fmt: skip
                artifacts.write_json(out_root / SUMMARY, {"rows": sorted(rows, key=lambda r: r["clip"])})
                progress.advance(bar)
    finally:
        ray.shutdown()
    rows.sort(key=lambda r: r["clip"])
    return rows


def print_summary(rows: Sequence[dict[str, Any]]) -> None:
    """The per-clip table: success, key metrics, time, failure reason."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"batch: {sum(r['ok'] for r in rows)}/{len(rows)} clips succeeded")
    for col in ("clip", "ok", "seconds", "metrics", "reason"):
        table.add_column(col, overflow="fold")
    for r in rows:
        metrics = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in r["metrics"].items())
        table.add_row(r["clip"], "yes" if r["ok"] else "NO", f"{r['seconds']}", metrics[:120], r["reason"][:200])
    Console().print(table)


@run_tool
def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``vm_batch VIDEO_FOLDER OUT_FOLDER [--address ray://...] [--height-m 1.75]``."""
    parser = argparse.ArgumentParser(prog="vm_batch", description=__doc__.split("\n\n")[0])
    parser.add_argument("videos", type=Path, help="folder of videos (or of <clip>/video.mp4)")
    parser.add_argument("out", type=Path, help="output folder: one sub-folder per clip + batch_summary.json")
    parser.add_argument("--address", default=None, help="Ray cluster address (default: RAY_ADDRESS or a local Ray)")
    parser.add_argument("--num-cpus", type=int, default=None, help="local Ray CPUs (default: all)")
    parser.add_argument("--no-retarget", action="store_true", help="reconstruction only")
    parser.add_argument("--height-m", type=float, default=None, help="height of the person in every clip, metres")
    ns = parser.parse_args(argv)
    config = {"height_m": ns.height_m} if ns.height_m else {}
    rows = run_batch(ns.videos, ns.out, config, address=ns.address, num_cpus=ns.num_cpus, retarget=not ns.no_retarget)
    print_summary(rows)
    print(f"summary: {ns.out / SUMMARY}")
    return 0 if all(r["ok"] for r in rows) else 1
