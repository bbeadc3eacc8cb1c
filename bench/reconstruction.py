"""Reconstruction accuracy of the default real2sim pipeline in every casual-video camera regime.

The benchmark set covers every camera regime (tripod, pan_tilt, handheld_still, follow_behind,
orbit) x {stairs, curb, sit} with its own seeds, person heights and (for three clips) portrait
frames. It is NOT for tuning: tune on the separate ``--dev`` set (other seeds, plus the five orbit
clips of the earlier benchmark), as real video will never have been seen either.

Each clip is generated once (cached), then ``run_pipeline(video, out, PipelineConfig(...))`` runs
in a child process (fresh output folder: a cold run, and the child's peak RSS is the pipeline's)
and is scored against the ground truth with ``real2sim.metrics`` (WA/W-MPJPE over 100-frame
chunks, scale and gravity errors, Chamfer over the seen region, Chamfer over the contact region,
step and seat height errors; definitions there).

The person's true height is given to the pipeline (``height_m``, as a user would type it) unless
``--height-prior``; the focal length is not (a phone video without EXIF) unless ``--give-focal``.

    python bench/reconstruction.py                          # the benchmark set (15 clips)
    python bench/reconstruction.py --dev                    # the tuning set
    python bench/reconstruction.py --regime tripod pan_tilt --kind sit
    python bench/reconstruction.py --clips tripod/chair --reuse

Prints one row per clip, then the mean of each metric per regime and per kind with the issue-12
targets marked, and last one JSON object: the overall means (``wa_mpjpe_mm``, ``w_mpjpe_mm``,
``chamfer_m``, ``chamfer_contact_m``, ``scale_err_pct``, ``gravity_err_deg``,
``step_height_err_m``, ``seat_height_err_m``), ``seconds_per_frame`` / ``cpu_seconds_per_frame``
/ ``peak_rss_gb``, ``median``, ``per_regime`` and ``per_kind`` (means, clip and failure counts,
``targets_met``), ``targets``, ``targets_met``, ``regime_detected`` (clips whose camera regime the
pipeline named as the truth's), ``clips``, ``failed``, ``set``, ``per_clip``.
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

REGIMES = ("tripod", "pan_tilt", "handheld_still", "follow_behind", "orbit")
KIND_GROUP = {"stairs_up": "stairs", "stairs_down": "stairs", "curb": "curb", "bench": "sit", "chair": "sit",
              "ledge": "sit"}  # fmt: skip
GROUPS = ("stairs", "curb", "sit")

#: The benchmark: name -> (scene kind, camera regime, seed, person height m, portrait). Never tune on it.
EVAL: dict[str, tuple[str, str, int, float, bool]] = {
    "tripod/stairs_up": ("stairs_up", "tripod", 101, 1.64, False),
    "tripod/curb": ("curb", "tripod", 102, 1.81, False),
    "tripod/chair": ("chair", "tripod", 103, 1.70, False),
    "pan_tilt/stairs_down": ("stairs_down", "pan_tilt", 104, 1.88, False),
    "pan_tilt/curb": ("curb", "pan_tilt", 105, 1.55, False),
    "pan_tilt/ledge": ("ledge", "pan_tilt", 106, 1.76, True),
    "handheld_still/stairs_up": ("stairs_up", "handheld_still", 107, 1.72, True),
    "handheld_still/curb": ("curb", "handheld_still", 108, 1.93, False),
    "handheld_still/bench": ("bench", "handheld_still", 109, 1.60, False),
    "follow_behind/stairs_up": ("stairs_up", "follow_behind", 110, 1.79, False),
    "follow_behind/curb": ("curb", "follow_behind", 111, 1.67, True),
    "follow_behind/chair": ("chair", "follow_behind", 112, 1.84, False),
    "orbit/stairs_down": ("stairs_down", "orbit", 113, 1.58, False),
    "orbit/curb": ("curb", "orbit", 114, 1.74, False),
    "orbit/ledge": ("ledge", "orbit", 115, 1.90, False),
}
#: The tuning set: the same coverage with other seeds and heights, plus the earlier benchmark's
#: five orbit clips (tuned on before this set existed).
DEV: dict[str, tuple[str, str, int, float, bool]] = {
    "tripod/stairs_down": ("stairs_down", "tripod", 201, 1.75, False),
    "tripod/curb": ("curb", "tripod", 202, 1.58, True),
    "tripod/ledge": ("ledge", "tripod", 203, 1.86, False),
    "pan_tilt/stairs_up": ("stairs_up", "pan_tilt", 204, 1.69, False),
    "pan_tilt/curb": ("curb", "pan_tilt", 205, 1.91, False),
    "pan_tilt/chair": ("chair", "pan_tilt", 206, 1.62, False),
    "handheld_still/stairs_down": ("stairs_down", "handheld_still", 207, 1.80, False),
    "handheld_still/curb": ("curb", "handheld_still", 208, 1.66, False),
    "handheld_still/chair": ("chair", "handheld_still", 209, 1.73, True),
    "follow_behind/stairs_down": ("stairs_down", "follow_behind", 210, 1.57, False),
    "follow_behind/curb": ("curb", "follow_behind", 211, 1.83, False),
    "follow_behind/ledge": ("ledge", "follow_behind", 212, 1.71, False),
    "orbit/stairs_up_a": ("stairs_up", "orbit", 0, 1.62, False),
    "orbit/stairs_up_b": ("stairs_up", "orbit", 5, 1.93, False),
    "orbit/stairs_down_a": ("stairs_down", "orbit", 1, 1.78, False),
    "orbit/curb_a": ("curb", "orbit", 2, 1.52, False),
    "orbit/bench_a": ("bench", "orbit", 3, 1.70, False),
}
#: Clip length per kind group: a sit clip needs ~7.5 s to walk up, sit, stay and stand up.
SECONDS = {"stairs": 6.0, "curb": 6.0, "sit": 8.0}

#: Issue 12's targets (every regime). Chamfer over the seen region only where the camera
#: translates enough for vision to see the scene; elsewhere the contact-region Chamfer is reported.
TARGETS = {
    "wa_mpjpe_mm": 80.0,
    "w_mpjpe_mm": 200.0,
    "scale_err_pct": 3.0,
    "gravity_err_deg": 2.0,
    "step_height_err_m": 0.03,
    "seat_height_err_m": 0.03,
    "chamfer_m": 0.05,
}
CHAMFER_REGIMES = ("follow_behind", "orbit")
KEYS = ("wa_mpjpe_mm", "w_mpjpe_mm", "scale_err_pct", "gravity_err_deg", "chamfer_m", "chamfer_contact_m",
        "step_height_err_m", "seat_height_err_m")  # fmt: skip
SHORT = {"wa_mpjpe_mm": "WA mm", "w_mpjpe_mm": "W mm", "scale_err_pct": "scale %", "gravity_err_deg": "grav deg",
         "chamfer_m": "Ch m", "chamfer_contact_m": "ChC m", "step_height_err_m": "step m",
         "seat_height_err_m": "seat m"}  # fmt: skip


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "videomimic" / "bench_reconstruction"


def _one(video: str, out: str, height: str, focal: str) -> int:
    """Child process: run the pipeline once (fresh output folder)."""
    from videomimic_offline.real2sim.config import PipelineConfig
    from videomimic_offline.real2sim.pipeline import run_pipeline

    kw: dict = {} if height == "prior" else {"height_m": float(height)}
    if focal != "none":
        kw["focal_px"] = float(focal)
    run_pipeline(Path(video), Path(out), PipelineConfig(**kw))
    return 0


def _regime_found(out_dir: Path) -> str | None:
    """The camera regime the pipeline reports in ``cameras.npz`` (None when it does not say)."""
    from videomimic_offline.contracts.cameras import read_cameras

    try:
        return read_cameras(out_dir / "cameras.npz").regime
    except Exception:  # noqa: BLE001 - an unreadable file is scored (and reported) elsewhere
        return None


def _mean(rows: list[dict], k: str) -> float | None:
    """Mean over the rows that have ``k`` (NaN = not applicable is skipped; one inf makes it inf)."""
    vals = [r[k] for r in rows if isinstance(r.get(k), (int, float)) and not math.isnan(r[k])]
    return round(sum(vals) / len(vals), 4) if vals else None


def _json_safe(x):
    """inf -> "inf", NaN -> None, recursively (strict JSON)."""
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_json_safe(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None if math.isnan(x) else "inf"
    return x


def _summary(rows: list[dict], regime: str | None) -> dict:
    """Means over the ok clips of a group, failure count and whether the issue-12 targets hold."""
    ok = [r for r in rows if "error" not in r]
    out: dict = {k: _mean(ok, k) for k in KEYS}
    out.update(clips=len(rows), failed=len(rows) - len(ok))
    missed = []
    for k, lim in TARGETS.items():
        if k == "chamfer_m" and regime is not None and regime not in CHAMFER_REGIMES:
            continue
        v = out.get(k)
        if v is not None and v > lim:
            missed.append(k)
    missing = sum(int(r.get("step_surfaces_missing", 0) or 0) + int(r.get("seat_missing", 0) or 0) for r in ok)
    if missing:
        missed.append(f"{missing} surfaces missing")
    if out["failed"]:
        missed.append(f"{out['failed']} failed")
    out["targets_met"] = not missed and bool(ok)
    out["missed"] = missed
    return out


def _fmt(v, k: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-" if v is None or math.isnan(v) else "inf"
    return f"{v:.1f}" if k.endswith(("_mm", "_pct", "_deg")) else f"{v:.3f}"


def _table(title: str, rows: list[tuple[str, dict]], regime_of=None) -> None:
    cols = list(KEYS)
    print(f"\n{title}")
    print(f"{'':28s}" + "".join(f"{SHORT[k]:>9s}" for k in cols) + "  clips  targets")
    for name, s in rows:
        marks = []
        for k in cols:
            txt = _fmt(s.get(k), k)
            lim = TARGETS.get(k)
            skip = k == "chamfer_m" and regime_of is not None and regime_of(name) not in CHAMFER_REGIMES
            if lim is not None and not skip and s.get(k) is not None and s[k] > lim:
                txt += "!"
            marks.append(f"{txt:>9s}")
        verdict = "met" if s.get("targets_met") else ("missed: " + ", ".join(s.get("missed", [])))
        print(f"{name:28s}" + "".join(marks) + f"  {s['clips'] - s['failed']}/{s['clips']}  {verdict}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dev", action="store_true", help="run the tuning set instead of the benchmark set")
    ap.add_argument("--clips", nargs="*", default=None, help="clip names (default: the whole set)")
    ap.add_argument("--regime", nargs="*", choices=REGIMES, default=None, help="only these camera regimes")
    ap.add_argument("--kind", nargs="*", choices=GROUPS, default=None, help="only these kinds")
    ap.add_argument("--seconds", type=float, default=None, help="clip length (default 6 s, 8 s for sitting)")
    ap.add_argument("--cache", type=Path, default=_default_cache(), help="where clips and outputs are kept")
    ap.add_argument("--height-prior", action="store_true", help="do not give the true height to the pipeline")
    ap.add_argument("--give-focal", action="store_true", help="give the true focal length to the pipeline")
    ap.add_argument(
        "--reuse", action="store_true", help="score outputs already in the cache instead of re-running (no timing)"
    )
    ap.add_argument("--_one", nargs=4, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._one:
        return _one(*a._one)

    clip_set = DEV if a.dev else EVAL
    names = a.clips if a.clips else list(clip_set)
    unknown = [n for n in names if n not in clip_set]
    if unknown:
        print(f"unknown clip(s) {unknown}; the {'dev' if a.dev else 'benchmark'} set has {list(clip_set)}")
        return 2
    names = [n for n in names if (not a.regime or clip_set[n][1] in a.regime)]
    names = [n for n in names if (not a.kind or KIND_GROUP[clip_set[n][0]] in a.kind)]

    try:
        from videomimic_offline.real2sim.pipeline import run_pipeline  # noqa: F401
    except ImportError as exc:
        print(f"the reconstruction pipeline is not there yet ({exc}): nothing to benchmark", file=sys.stderr)
        return 3
    from videomimic_offline.real2sim.metrics import evaluate_reconstruction
    from videomimic_offline.real2sim.synthetic import GENERATOR_VERSION, REGIME_MOTION
    from videomimic_offline.real2sim.synthetic.clip import load_gt, make_clip

    rows: list[dict] = []
    total_time, total_cpu, total_frames, failed, detected, t_start = 0.0, 0.0, 0, 0, 0, time.perf_counter()
    for name in names:
        kind, regime, seed, h, portrait = clip_set[name]
        secs = a.seconds or SECONDS[KIND_GROUP[kind]]
        tag = f"{kind}_{regime}_{seed}_{h}{'_p' if portrait else ''}_s{secs:g}_g{GENERATOR_VERSION}"
        clip_dir = a.cache / "clips" / tag
        if not (clip_dir / "gt.npz").is_file():
            print(f"[{name}] generating {kind} clip, {regime} camera ({secs:g} s, seed {seed}, {h} m) ...", flush=True)
            make_clip(kind, clip_dir, seconds=secs, seed=seed, height_m=h, regime=regime, portrait=portrait,
                      progress=False)  # fmt: skip
        focal = "none"
        if a.give_focal:
            gt = load_gt(clip_dir)
            scale = min(1.0, 640 / max(int(x) for x in gt["image_size"]))  # the pipeline's max_side_px
            focal = str(float(gt["K"][0, 0]) * scale)
        variant = ("_prior" if a.height_prior else "") + ("_focal" if a.give_focal else "")
        out_dir = a.cache / "recon" / (tag + variant)
        reused = a.reuse and (out_dir / "motion.npz").is_file()
        t0 = time.perf_counter()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if reused:
            proc = subprocess.CompletedProcess([], 0, "", "")
        else:
            shutil.rmtree(out_dir, ignore_errors=True)
            print(f"[{name}] reconstructing ...", flush=True)
            cmd = [sys.executable, __file__, "--_one", str(clip_dir / "video.mp4"), str(out_dir)]
            cmd += ["prior" if a.height_prior else str(h), focal]
            proc = subprocess.run(cmd, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        expected = REGIME_MOTION[regime]
        row: dict = {"clip": name, "kind": kind, "group": KIND_GROUP[kind], "regime": regime, "height_m": h,
                     "portrait": portrait, "camera_motion": expected, "seconds": None if reused else round(dt, 1)}  # fmt: skip
        if proc.returncode != 0:
            failed += 1
            lines = [ln for ln in (proc.stderr or proc.stdout or "").strip().splitlines() if ln.strip()]
            last = lines[-1] if lines else f"exit code {proc.returncode}"
            row["error"] = last.split("videomimic_offline.errors.", 1)[-1]  # "InputError: <what to do>"
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
        found = _regime_found(out_dir)
        row["regime_found"] = found
        detected += int(found == expected)
        frames = int(m["frames"])
        row.update({k: round(float(v), 4) if math.isfinite(v) else float(v) for k, v in m.items()})
        if not reused:
            total_time += dt
            total_cpu += cpu
            total_frames += frames
            row["seconds_per_frame"] = round(dt / max(frames, 1), 3)
            row["cpu_seconds_per_frame"] = round(cpu / max(frames, 1), 3)
        rows.append(row)
        print(
            f"[{name}] " + "  ".join(f"{SHORT[k]} {_fmt(row.get(k), k)}" for k in KEYS)
            + f"  regime found {found}" + ("  (reused)" if reused else f"  {dt:.1f} s"),
            flush=True,
        )  # fmt: skip
    ok = [r for r in rows if "error" not in r]
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss

    def median(k: str) -> float | None:
        vals = [r[k] for r in ok if isinstance(r.get(k), (int, float)) and not math.isnan(r[k])]
        return round(statistics.median(vals), 4) if vals else None

    per_regime = {g: _summary([r for r in rows if r["regime"] == g], g) for g in REGIMES}
    per_regime = {g: s for g, s in per_regime.items() if s["clips"]}
    per_kind = {g: _summary([r for r in rows if r["group"] == g], None) for g in GROUPS}
    per_kind = {g: s for g, s in per_kind.items() if s["clips"]}
    print("\nper clip:")
    for r in rows:
        print(f"  {r['clip']:28s} " + ("FAILED: " + r["error"] if "error" in r else
              "  ".join(f"{SHORT[k]} {_fmt(r.get(k), k)}" for k in KEYS) + f"  found {r.get('regime_found')}"))  # fmt: skip
    _table("per regime (mean over its clips; ! = over the target; chamfer_m targeted only for "
           + "/".join(CHAMFER_REGIMES) + ")", list(per_regime.items()), regime_of=lambda n: n)  # fmt: skip
    _table("per kind (mean over its clips)", list(per_kind.items()))

    summary: dict = {k: _mean(ok, k) for k in KEYS}
    summary["seconds_per_frame"] = round(total_time / total_frames, 3) if total_frames else None
    summary["cpu_seconds_per_frame"] = round(total_cpu / total_frames, 3) if total_frames else None
    summary["peak_rss_gb"] = round(peak_kb / 1024**2, 3)
    summary["median"] = {k: median(k) for k in (*KEYS, "chamfer_terrain_m")}  # one diverged clip swamps a mean
    summary["chamfer_terrain_m"] = _mean(ok, "chamfer_terrain_m")
    summary["scale_err_cams_pct"] = _mean(ok, "scale_err_cams_pct")  # diagnostic: the scene's own scale
    summary.update(
        per_regime=per_regime,
        per_kind=per_kind,
        targets=TARGETS,
        targets_met=bool(per_regime) and all(s["targets_met"] for s in per_regime.values()),
        regime_detected=detected,
        clips=len(rows),
        failed=failed,
        set="dev" if a.dev else "benchmark",
        height_source="prior" if a.height_prior else "true height given",
        focal_source="true focal given" if a.give_focal else "estimated",
        bench_seconds=round(time.perf_counter() - t_start, 1),
        per_clip=rows,
    )
    print(json.dumps(_json_safe(summary)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
