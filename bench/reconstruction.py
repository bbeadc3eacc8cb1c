"""Reconstruction accuracy of the default real2sim pipeline on a fixed set of synthetic clips.

Generates (once, cached) stairs up / stairs down / curb / bench clips with different body heights
and seeds, runs ``videomimic_offline.real2sim.pipeline.run_pipeline(video, out, PipelineConfig())``
on each in a child process (fresh output folder, so the timing is a cold run and the child's peak
RSS is the pipeline's), and scores it against the ground truth with ``real2sim.metrics``
(WA/W-MPJPE over 100-frame chunks, Chamfer over the seen region, scale and gravity errors).

The person's true height is given to the pipeline (``height_m``, as a user would type it) unless
``--height-prior`` is passed, in which case the config's height prior is used and the scale error
includes the prior's mismatch.

    python bench/reconstruction.py                    # all clips, 6 s each
    python bench/reconstruction.py --seconds 10 --clips stairs_up_a curb_a
    python bench/reconstruction.py --height-prior

Last line: one JSON object with the means ``wa_mpjpe_mm``, ``w_mpjpe_mm``, ``chamfer_m``,
``scale_err_pct``, ``gravity_err_deg``, ``seconds_per_frame`` (pipeline wall time / frames, cold
start included) and ``peak_rss_gb`` (largest child), plus ``median`` (per metric), ``chamfer_terrain_m``,
``scale_err_cams_pct`` (scale from the camera path alone, see real2sim.metrics), ``cpu_seconds_per_frame`` (user+system
CPU time / frames: steadier than wall time on a shared machine), ``clips``, ``failed``, ``per_clip``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: name -> (scene kind, seed, person height in metres)
CLIPS: dict[str, tuple[str, int, float]] = {
    "stairs_up_a": ("stairs_up", 0, 1.62),
    "stairs_up_b": ("stairs_up", 5, 1.93),
    "stairs_down_a": ("stairs_down", 1, 1.78),
    "curb_a": ("curb", 2, 1.52),
    "bench_a": ("bench", 3, 1.70),
}
KEYS = ("wa_mpjpe_mm", "w_mpjpe_mm", "chamfer_m", "scale_err_pct", "gravity_err_deg")


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "videomimic" / "bench_reconstruction"


def _one(video: str, out: str, height: str) -> int:
    """Child process: run the pipeline once (fresh output folder)."""
    from videomimic_offline.real2sim.config import PipelineConfig
    from videomimic_offline.real2sim.pipeline import run_pipeline

    cfg = PipelineConfig() if height == "prior" else PipelineConfig(height_m=float(height))
    run_pipeline(Path(video), Path(out), cfg)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", nargs="*", default=list(CLIPS), choices=list(CLIPS))
    ap.add_argument("--seconds", type=float, default=6.0, help="length of each generated clip")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--cache", type=Path, default=_default_cache(), help="where clips and outputs are kept")
    ap.add_argument("--height-prior", action="store_true", help="do not give the true height to the pipeline")
    ap.add_argument(
        "--reuse", action="store_true", help="score outputs already in the cache instead of re-running (no timing)"
    )
    ap.add_argument("--_one", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._one:
        return _one(*a._one)

    try:
        from videomimic_offline.real2sim.pipeline import run_pipeline  # noqa: F401
    except ImportError as exc:
        print(f"the reconstruction pipeline is not there yet ({exc}): nothing to benchmark", file=sys.stderr)
        return 3
    from videomimic_offline.real2sim.metrics import evaluate_reconstruction
    from videomimic_offline.real2sim.synthetic import GENERATOR_VERSION
    from videomimic_offline.real2sim.synthetic.clip import make_clip

    rows: list[dict] = []
    total_time, total_cpu, total_frames, failed = 0.0, 0.0, 0, 0
    for name in a.clips:
        kind, seed, h = CLIPS[name]
        tag = f"{name}_s{a.seconds:g}_{a.width}x{a.height}_g{GENERATOR_VERSION}"
        clip_dir = a.cache / "clips" / tag
        if not (clip_dir / "gt.npz").is_file():
            print(f"[{name}] generating {kind} clip ({a.seconds:g} s, seed {seed}, {h} m) ...", flush=True)
            make_clip(
                kind, clip_dir, seconds=a.seconds, seed=seed, width=a.width, height=a.height, height_m=h, progress=False
            )
        out_dir = a.cache / "recon" / (tag + ("_prior" if a.height_prior else ""))
        reused = a.reuse and (out_dir / "motion.npz").is_file()
        t0 = time.perf_counter()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if reused:
            print(f"[{name}] scoring the existing output {out_dir}", flush=True)
            proc = subprocess.CompletedProcess([], 0, "", "")
        else:
            shutil.rmtree(out_dir, ignore_errors=True)
            print(f"[{name}] reconstructing ...", flush=True)
            cmd = [sys.executable, __file__, "--_one", str(clip_dir / "video.mp4"), str(out_dir)]
            cmd.append("prior" if a.height_prior else str(h))
            proc = subprocess.run(cmd, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        row: dict = {"clip": name, "kind": kind, "height_m": h, "seconds": None if reused else round(dt, 1)}
        if proc.returncode != 0:
            failed += 1
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            row["error"] = " | ".join(tail)
            print(f"[{name}] FAILED: {row['error']}", flush=True)
            rows.append(row)
            continue
        try:
            m = evaluate_reconstruction(clip_dir, out_dir)
        except Exception as exc:  # a malformed output is a failed clip, not a crashed bench
            failed += 1
            row["error"] = f"evaluation: {exc}"
            print(f"[{name}] FAILED: {row['error']}", flush=True)
            rows.append(row)
            continue
        frames = int(m["frames"])
        row.update({k: round(float(v), 4) for k, v in m.items()})
        if not reused:
            total_time += dt
            total_cpu += cpu
            total_frames += frames
            row["seconds_per_frame"] = round(dt / max(frames, 1), 3)
            row["cpu_seconds_per_frame"] = round(cpu / max(frames, 1), 3)
        rows.append(row)
        print(
            f"[{name}] WA-MPJPE {m['wa_mpjpe_mm']:.1f} mm  W-MPJPE {m['w_mpjpe_mm']:.1f} mm  "
            f"Chamfer {m['chamfer_m']:.3f} m  scale {m['scale_err_pct']:.2f} %  gravity {m['gravity_err_deg']:.2f} deg  "
            + ("(reused)" if reused else f"{dt:.1f} s ({dt / max(frames, 1):.2f} s/frame)"),
            flush=True,
        )
    ok = [r for r in rows if "error" not in r]
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss

    def mean(k: str) -> float | None:
        vals = [r[k] for r in ok if k in r and math.isfinite(r[k])]
        return round(sum(vals) / len(vals), 4) if vals else None

    def median(k: str) -> float | None:
        vals = [r[k] for r in ok if k in r and math.isfinite(r[k])]
        return round(statistics.median(vals), 4) if vals else None

    summary = {k: mean(k) for k in KEYS}
    summary["seconds_per_frame"] = round(total_time / total_frames, 3) if total_frames else None
    summary["cpu_seconds_per_frame"] = round(total_cpu / total_frames, 3) if total_frames else None
    summary["peak_rss_gb"] = round(peak_kb / 1024**2, 3)
    summary["median"] = {k: median(k) for k in (*KEYS, "chamfer_terrain_m")}  # one diverged clip swamps a mean
    summary["chamfer_terrain_m"] = mean("chamfer_terrain_m")
    summary["scale_err_cams_pct"] = mean("scale_err_cams_pct")  # diagnostic: the scene's own scale
    summary.update(
        clips=len(rows),
        failed=failed,
        height_source="prior" if a.height_prior else "true height given",
        clip_seconds=a.seconds,
        per_clip=rows,
    )
    print(
        "mean: "
        + "  ".join(f"{k} {summary[k]}" for k in (*KEYS, "seconds_per_frame", "peak_rss_gb"))
        + f"  ({len(ok)}/{len(rows)} clips ok)"
    )
    print("median: " + "  ".join(f"{k} {v}" for k, v in summary["median"].items()))
    print(json.dumps(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
